// Store statistics for the metrics (store.hpp: size_stats, oldest_owed_commit_ms).
#include <rocksdb/db.h>

#include "store/audit_trail.hpp"
#include "store/store.hpp"

namespace ozghub::store {

Store::SizeStats Store::size_stats() const {
  SizeStats s;
  std::uint64_t v = 0;
  if (db_->GetAggregatedIntProperty(rocksdb::DB::Properties::kLiveSstFilesSize, &v)) s.bytes += v;
  if (db_->GetAggregatedIntProperty(rocksdb::DB::Properties::kCurSizeAllMemTables, &v)) {
    s.bytes += v;
  }
  if (db_->GetAggregatedIntProperty(rocksdb::DB::Properties::kEstimatePendingCompactionBytes, &v)) {
    s.pending_compaction_bytes = v;
  }
  return s;
}

Result<std::optional<std::int64_t>> Store::oldest_owed_commit_ms() const {
  // Outbox keys begin with the case number (date, then sequence): the first is the oldest case.
  std::string case_number;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), outbox_));
    it->SeekToFirst();
    if (!it->status().ok()) {
      return Status::io_error("reading the outbox failed: " + it->status().ToString());
    }
    if (!it->Valid()) return std::optional<std::int64_t>();
    const rocksdb::Slice key = it->key();
    const auto end = std::string_view(key.data(), key.size()).find('\0');
    case_number.assign(key.data(), end == std::string_view::npos ? key.size() : end);
  }
  // Its first audit event is its commit: case_number 0x00 at_ms(u64 BE) ...
  const std::string prefix = audit_prefix(case_number);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), audit_));
  it->Seek(prefix);
  if (!it->status().ok()) {
    return Status::io_error("reading the audit trail failed: " + it->status().ToString());
  }
  if (it->Valid() && it->key().starts_with(prefix) && it->key().size() >= prefix.size() + 8) {
    std::uint64_t at = 0;
    for (std::size_t i = 0; i < 8; ++i) {
      at = (at << 8) | static_cast<std::uint8_t>(it->key()[prefix.size() + i]);
    }
    return std::optional<std::int64_t>(static_cast<std::int64_t>(at));
  }
  return Status::corruption("case " + case_number + " is owed a delivery but has no audit trail");
}

}  // namespace ozghub::store
