// Store::checkpoint(), the online backup, and what open() does with a restored one
// (docs/operations/backup.md).
#include <rocksdb/db.h>
#include <rocksdb/utilities/checkpoint.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/log.hpp"
#include "common/text.hpp"
#include "store/store.hpp"

namespace ozghub::store {
namespace {

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<CheckpointInfo> Store::checkpoint(const std::string& dir) const {
  namespace fs = std::filesystem;
  const fs::path target(dir);
  if (!target.is_absolute()) return Status::invalid_argument("backup directory must be absolute");
  std::error_code ec;
  if (fs::exists(target, ec)) {
    return Status::invalid_argument("backup directory " + dir + " exists already");
  }
  if (!fs::is_directory(target.parent_path(), ec)) {
    return Status::invalid_argument("backup directory's parent " + target.parent_path().string() +
                                    " is not a directory");
  }
  const std::int64_t taken_at = wall_clock_ms();
  struct stat store_stat {};
  struct stat parent_stat {};
  const bool same_fs = ::stat(db_->GetName().c_str(), &store_stat) == 0 &&
                       ::stat(target.parent_path().c_str(), &parent_stat) == 0 &&
                       store_stat.st_dev == parent_stat.st_dev;
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create(db_.get(), &raw);
  std::unique_ptr<rocksdb::Checkpoint> cp(raw);
  CheckpointInfo info;
  info.dir = dir;
  info.hard_links = same_fs;
  // log_size_for_flush 0: the memtables are flushed first, so the checkpoint is SST files (hard
  // links) and a short WAL rather than a copy of the whole log.
  if (s.ok()) s = cp->CreateCheckpoint(dir, 0, &info.sequence);
  if (!s.ok()) {
    log::error("store.backup_failed", {{"dir", dir}, {"error", s.ToString()}});
    return Status::io_error("backup into " + dir + " failed: " + s.ToString());
  }
  {
    const nlohmann::json marker{{"taken_at", text::iso8601_utc_ms(taken_at)},
                                {"sequence", info.sequence}};
    std::ofstream out(target / kBackupMarker, std::ios::binary);
    out << marker.dump() << "\n";
    out.flush();
    if (!out) {
      log::error("store.backup_failed", {{"dir", dir}, {"error", "cannot write the marker"}});
      return Status::io_error("backup into " + dir + " failed: cannot write " + kBackupMarker);
    }
  }
  for (const auto& entry : fs::directory_iterator(target, ec)) {
    if (!entry.is_regular_file(ec)) continue;
    info.bytes += entry.file_size(ec);
    ++info.files;
  }
  log::info("store.backup_taken", {{"dir", dir},
                                   {"sequence", std::to_string(info.sequence)},
                                   {"bytes", std::to_string(info.bytes)},
                                   {"files", std::to_string(info.files)},
                                   {"hard_links", info.hard_links ? "true" : "false"}});
  return info;
}

Status Store::adopt_restored_backup(const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path marker = fs::path(dir) / kBackupMarker;
  std::error_code ec;
  if (!fs::exists(marker, ec)) return Status::ok();
  std::ifstream in(marker, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  const auto info = nlohmann::json::parse(text.str(), nullptr, false);
  const std::string before = case_numbers_.state();
  case_numbers_.skip_after_restore(wall_clock_ms());
  // Synced before the marker goes: a crash in between only skips once more.
  if (Status s = persist_case_numbers(); !s.is_ok()) return s;
  fs::remove(marker, ec);
  if (ec) {
    return Status::io_error("cannot remove " + marker.string() +
                            " from the restored store: " + ec.message());
  }
  log::warn("store.restored_from_backup",
            {{"dir", dir},
             {"backup_taken_at", info.is_object() ? info.value("taken_at", "") : ""},
             {"case_numbers_before", before},
             {"case_numbers_now", case_numbers_.state()}});
  return Status::ok();
}

}  // namespace ozghub::store
