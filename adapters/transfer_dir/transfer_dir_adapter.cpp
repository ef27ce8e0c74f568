#include "transfer_dir/transfer_dir_adapter.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <unordered_set>
#include <utility>

#include "common/fault_point.hpp"
#include "common/log.hpp"
#include "common/text.hpp"
#include "transfer_dir/application_marker.hpp"
#include "transfer_dir/marker_sweep.hpp"

namespace ozghub::adapters {

using text::append_json_string;
using text::iso8601_utc_ms;
using text::utf8_sequence;

namespace {

using delivery::DeliveryResult;

constexpr std::string_view kApplicationName = "application.xml";
constexpr std::string_view kManifestName = "manifest.json";
constexpr std::string_view kEncryptedSuffix = ".p7m";
constexpr std::string_view kTempPrefix = ".tmp-";
constexpr std::size_t kMaxNameBytes = 200;
// A longer "extension" is more likely part of the name than a file type worth keeping.
constexpr std::size_t kMaxExtensionBytes = 32;
// Group access lets the office's software (a different user in the same group) pick cases up
// and delete them; the umask can narrow this further.
constexpr mode_t kDirMode = 0770;
constexpr mode_t kFileMode = 0660;

// ---------------------------------------------------------------------------------------------
// UTF-8

bool is_utf8_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence.
void truncate_utf8(std::string& s, std::size_t max) {
  if (s.size() <= max) return;
  std::size_t n = max;
  while (n > 0 && is_utf8_continuation(s[n])) --n;
  s.resize(n);
}

// ---------------------------------------------------------------------------------------------
// File names

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

bool is_replaced_code_point(char32_t cp) {
  if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return true;  // C0, DEL, C1 controls
  switch (cp) {
    case '/':
    case '\\':
    // Not valid on the Windows/SMB shares transfer folders are often read from.
    case '<':
    case '>':
    case ':':
    case '"':
    case '|':
    case '?':
    case '*':
    // Bidirectional controls make "rechnung\u202Efdp.exe" display as "rechnungexe.pdf".
    case 0x061C:
    case 0x200E:
    case 0x200F:
    case 0xFEFF:
      return true;
    default:
      return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
  }
}

// Windows maps these to devices whatever the extension ("nul.pdf"), so a share would lose them.
bool is_windows_device_name(std::string_view name) {
  const std::string stem = ascii_lower(name.substr(0, name.find('.')));
  if (stem == "con" || stem == "prn" || stem == "aux" || stem == "nul") return true;
  return stem.size() == 4 && (stem.starts_with("com") || stem.starts_with("lpt")) &&
         stem[3] >= '1' && stem[3] <= '9';
}

// Where the extension starts (the last '.', not the first character), or npos when the name has
// none worth keeping.
std::size_t extension_start(std::string_view name) {
  const std::size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || name.size() - dot > kMaxExtensionBytes) {
    return std::string_view::npos;
  }
  return dot;
}

// `stem` + `suffix` + `ext`, the stem shortened so the whole stays within kMaxNameBytes.
std::string join_within_limit(std::string stem, std::string_view suffix, std::string_view ext) {
  const std::size_t fixed = suffix.size() + ext.size();
  truncate_utf8(stem, kMaxNameBytes > fixed ? kMaxNameBytes - fixed : 0);
  // A cut can leave a dot right before the extension's dot (".."), or a trailing dot or space.
  if (!stem.empty() && (stem.back() == '.' || stem.back() == ' ')) stem.back() = '_';
  if (stem.empty()) stem = "_";
  std::string out = std::move(stem);
  out += suffix;
  out += ext;
  return out;
}

bool is_reserved(std::string_view name) {
  const std::string lower = ascii_lower(name);
  return lower == kApplicationName || lower == kManifestName || is_windows_device_name(name);
}

// ---------------------------------------------------------------------------------------------
// JSON

struct StoredFile {
  std::string name;  // as stored, with ".p7m" when encrypted
  std::string_view role;
  std::string_view content_type;
  std::uint64_t size = 0;
  std::string sha256;
  std::uint64_t plain_size = 0;
  std::string plain_sha256;
};

std::string build_manifest(const delivery::DeliveryRequest& request, bool encrypted,
                           const std::vector<StoredFile>& files) {
  const Application& app = request.case_.app;
  std::string out;
  out.reserve(1024 + files.size() * 320);
  const auto field = [&out](std::string_view indent, std::string_view key) {
    out += indent;
    append_json_string(out, key);
    out += ": ";
  };
  const auto string_field = [&](std::string_view key, std::string_view value) {
    field("  ", key);
    append_json_string(out, value);
    out += ",\n";
  };
  out += "{\n";
  string_field("format", "ozg-hub-transfer/1");
  string_field("case_number", request.case_.case_number);
  string_field("message_id", app.message_id);
  string_field("sender", app.sender);
  string_field("received_at", iso8601_utc_ms(app.received_at_ms));
  string_field("area_id", app.area_id);
  string_field("service_id", app.service_id);
  string_field("office_id", request.office.id);
  string_field("schema", app.schema);
  field("  ", "encrypted");
  out += encrypted ? "true,\n" : "false,\n";
  field("  ", "files");
  out += "[";
  for (std::size_t i = 0; i < files.size(); ++i) {
    const StoredFile& f = files[i];
    out += i == 0 ? "\n    {\n" : ",\n    {\n";
    const auto file_string = [&](std::string_view key, std::string_view value, bool last) {
      field("      ", key);
      append_json_string(out, value);
      out += last ? "\n" : ",\n";
    };
    const auto file_number = [&](std::string_view key, std::uint64_t value, bool last) {
      field("      ", key);
      out += std::to_string(value);
      out += last ? "\n" : ",\n";
    };
    file_string("name", f.name, false);
    file_string("role", f.role, false);
    file_string("content_type", f.content_type, false);
    file_number("size", f.size, false);
    file_string("sha256", f.sha256, !encrypted);
    if (encrypted) {
      file_number("plain_size", f.plain_size, false);
      file_string("plain_sha256", f.plain_sha256, true);
    }
    out += "    }";
  }
  out += files.empty() ? "]\n" : "\n  ]\n";
  out += "}\n";
  return out;
}

// ---------------------------------------------------------------------------------------------
// POSIX file system helpers. Everything below the root is reached with *at() calls relative to
// an open folder, so nothing is resolved twice and no path is built from application data.

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int close() { return ::close(std::exchange(fd_, -1)); }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_ = -1;
};

// An error from a file system call, as the text the host stores: the operation and errno only.
struct FsError {
  const char* operation;
  int err;
};

DeliveryResult retry(const FsError& e) {
  return DeliveryResult::retry_later(std::string("transfer_dir: ") + e.operation +
                                     " failed: " + std::strerror(e.err));
}

std::optional<FsError> fsync_dir(int fd, const char* operation) {
  // Some file systems (CIFS among others) cannot fsync a folder and say EINVAL; PostgreSQL
  // ignores that too, as there is nothing more to do.
  if (::fsync(fd) != 0 && errno != EINVAL) return FsError{operation, errno};
  return std::nullopt;
}

UniqueFd open_dir_at(int dirfd, const char* name, int extra_flags = 0) {
  int fd;
  do {
    fd = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | extra_flags);
  } while (fd < 0 && errno == EINTR);
  return UniqueFd(fd);
}

std::optional<FsError> write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return FsError{"write", errno};
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return std::nullopt;
}

// Files written but not yet durable. Starting every file's writeback first and fsyncing them
// all afterwards lets the device work on them together instead of one flush after another (on
// ext4, a case with five attachments took 5.0 instead of 7.4 ms). The same descriptors are
// fsynced: a descriptor opened after a writeback error would not be told about it.
class PendingSyncs {
 public:
  // Bounds the open descriptors for a case with very many attachments.
  static constexpr std::size_t kMaxOpen = 32;

  // `deferred`: a file-system-wide sync follows, so files are only closed here.
  explicit PendingSyncs(bool deferred) : deferred_(deferred) {}

  std::optional<FsError> add(UniqueFd fd) {
    if (deferred_) {
      if (fd.close() != 0) return FsError{"close", errno};
      return std::nullopt;
    }
    // Only a hint; fsync() reports any error.
    static_cast<void>(::sync_file_range(fd.get(), 0, 0, SYNC_FILE_RANGE_WRITE));
    fds_.push_back(std::move(fd));
    return fds_.size() >= kMaxOpen ? sync_all() : std::nullopt;
  }

  std::optional<FsError> sync_all() {
    std::optional<FsError> error;
    for (auto& fd : fds_) {
      if (!error && ::fsync(fd.get()) != 0) error = FsError{"fsync", errno};
      // close() is where NFS and some FUSE file systems report a failed write.
      if (fd.close() != 0 && !error) error = FsError{"close", errno};
    }
    fds_.clear();
    return error;
  }

 private:
  bool deferred_;
  std::vector<UniqueFd> fds_;
};

// Creates `name` in `dirfd` (it must not exist) and writes `data`; durable after
// `pending.sync_all()`.
std::optional<FsError> write_file_at(int dirfd, const std::string& name, std::string_view data,
                                     PendingSyncs& pending) {
  UniqueFd fd(::openat(dirfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                       kFileMode));
  if (!fd.valid()) return FsError{"create file", errno};
  if (auto e = write_all(fd.get(), data)) return e;
  return pending.add(std::move(fd));
}

// Removes `name` in `parent` and, if it is a folder, everything in it. Never follows symlinks
// and never throws, so it can run in cleanup paths. Returns 0 or the first errno.
int remove_tree_at(int parent, const char* name, int depth = 0) noexcept {
  UniqueFd fd = open_dir_at(parent, name, O_NOFOLLOW);
  if (!fd.valid()) {
    if (errno == ENOENT) return 0;
    if (errno != ENOTDIR && errno != ELOOP) return errno;
    return ::unlinkat(parent, name, 0) == 0 || errno == ENOENT ? 0 : errno;
  }
  // Our temporary folders are flat; anything deeper was not made by us.
  if (depth > 8) return ELOOP;
  DIR* dir = ::fdopendir(fd.get());
  if (dir == nullptr) return errno;
  const int dir_fd = fd.release();  // owned by `dir` now
  int error = 0;
  while (const dirent* entry = ::readdir(dir)) {
    const char* child = entry->d_name;
    if (std::strcmp(child, ".") == 0 || std::strcmp(child, "..") == 0) continue;
    if (::unlinkat(dir_fd, child, 0) == 0 || errno == ENOENT) continue;
    // Linux says EISDIR for a folder, POSIX allows EPERM.
    const int child_error =
        errno == EISDIR || errno == EPERM ? remove_tree_at(dir_fd, child, depth + 1) : errno;
    if (error == 0) error = child_error;
  }
  ::closedir(dir);
  if (error != 0) return error;
  return ::unlinkat(parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT ? 0 : errno;
}

// Removes the temporary folder a crashed or failed attempt left for this case. The folder's
// name is fixed per case, so this is one lookup, not a scan of an office folder that may hold
// thousands of cases nobody has picked up yet. A folder whose writer is alive holds an flock
// on it and is left alone (the caller retries later): deleting files under a running delivery
// could let it rename an incomplete folder into place. The kernel drops the lock when its
// holder dies, which is what makes a folder stale.
std::optional<FsError> remove_stale_temp_dir(int office_fd, const std::string& name) {
  const UniqueFd fd = open_dir_at(office_fd, name.c_str(), O_NOFOLLOW);
  if (!fd.valid()) {
    if (errno == ENOENT) return std::nullopt;
    if (errno != ENOTDIR && errno != ELOOP) return FsError{"open stale temporary folder", errno};
  } else if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
    // Without lock support on this file system, a left-over folder is assumed stale.
    return FsError{"temporary folder in use by another attempt", EWOULDBLOCK};
  }
  if (const int err = remove_tree_at(office_fd, name.c_str()); err != 0) {
    return FsError{"remove stale temporary folder", err};
  }
  return std::nullopt;
}

// Removes the case's temporary folder unless the rename made it the delivered one.
class TempDirGuard {
 public:
  TempDirGuard(int office_fd, std::string name) : office_fd_(office_fd), name_(std::move(name)) {}
  ~TempDirGuard() {
    // Nothing more to do if this fails: the next attempt for the case removes it as stale.
    if (!name_.empty()) static_cast<void>(remove_tree_at(office_fd_, name_.c_str()));
  }
  TempDirGuard(const TempDirGuard&) = delete;
  TempDirGuard& operator=(const TempDirGuard&) = delete;
  void dismiss() { name_.clear(); }

 private:
  int office_fd_;
  std::string name_;
};

bool is_case_number(std::string_view s) {
  if (s.size() != 20) return false;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// The routing directory promises [A-Za-z0-9._-]+; "." and ".." match that too.
bool is_safe_office_id(std::string_view s) {
  if (s.empty() || s.front() == '.') return false;
  for (const char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

TransferDirAdapter::TransferDirAdapter(std::filesystem::path root, SyncMode mode,
                                       bool by_application, int markers_days)
    : root_(std::move(root)),
      mode_(mode),
      by_application_(by_application),
      markers_days_(by_application ? markers_days : 0) {
  // A failure here surfaces as a clear error on the first delivery; the daemon need not stop.
  std::error_code ec;
  std::filesystem::create_directories(root_, ec);
  if (markers_days_ > 0) {
    marker_sweeper_.start("markers", std::chrono::hours(1), [this] {
      sweep_markers();
      return false;
    });
  }
}

TransferDirAdapter::~TransferDirAdapter() { marker_sweeper_.stop(); }

void TransferDirAdapter::sweep_markers() {
  if (markers_days_ <= 0) return;
  std::set<std::filesystem::path> roots{root_};
  {
    std::lock_guard lock(channel_roots_mutex_);
    roots.insert(channel_roots_.begin(), channel_roots_.end());
  }
  // Every office folder of those roots, also those claimed in before this hub started.
  std::vector<std::string> dirs;
  for (const auto& root : roots) {
    std::error_code ec;
    for (std::filesystem::directory_iterator it(root, ec), end; !ec && it != end;
         it.increment(ec)) {
      std::error_code type_ec;
      if (it->symlink_status(type_ec).type() == std::filesystem::file_type::directory) {
        dirs.push_back((it->path() / kApplicationMarkers).string());
      }
    }
  }
  const std::int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
  const std::int64_t cutoff_s = now_s - std::int64_t{markers_days_} * 86400;
  MarkerSweep total;
  for (const auto& dir : dirs) {
    auto swept = remove_markers_older_than(dir, cutoff_s);
    if (!swept) {
      log::warn("transfer_dir.markers_sweep_failed", {{"error", swept.status().message()}});
      continue;
    }
    total.removed += swept->removed;
    total.kept += swept->kept;
  }
  if (total.removed > 0) {
    log::info("transfer_dir.markers_removed", {{"removed", std::to_string(total.removed)},
                                               {"kept", std::to_string(total.kept)},
                                               {"markers_days", std::to_string(markers_days_)}});
  }
}

Result<std::shared_ptr<const delivery::ChannelBinding>> TransferDirAdapter::bind(
    const delivery::ChannelContext& /*channel*/) {
  return std::shared_ptr<const delivery::ChannelBinding>();
}

delivery::AdapterType TransferDirAdapter::type() {
  using delivery::ParamSpec;
  delivery::AdapterType t;
  t.name = "transfer_dir";
  t.description =
      "one folder per case, <root>/<office_id>/<case_number>/, written atomically; encrypted "
      "for offices with a certificate";
  t.params = {
      {"root",
       ParamSpec::Kind::kPath,
       ParamSpec::Scope::kEither,
       true,
       "",
       {},
       0,
       0,
       "the transfer root; created if missing (a channel's root must exist)"},
      {"sync",
       ParamSpec::Kind::kChoice,
       ParamSpec::Scope::kInstance,
       false,
       "file",
       {"file", "filesystem"},
       0,
       0,
       "file: fsync every file and folder (any file system); filesystem: shared syncfs(2)"},
      {"idempotency",
       ParamSpec::Kind::kChoice,
       ParamSpec::Scope::kInstance,
       false,
       "case",
       {"case", "application"},
       0,
       0,
       "case: one folder per case number; application: also one per (sender, message id), "
       "for hubs sharing this root behind one broker queue (docs/operations/scale-out.md)"},
      {"markers_days",
       ParamSpec::Kind::kInt,
       ParamSpec::Scope::kInstance,
       false,
       "0",
       {},
       0,
       36500,
       "with idempotency: application, remove the claims in .applications/ older than this "
       "many days, hourly (0: keep them); must cover every way a case can still be delivered"},
  };
  t.create = [](const delivery::Params& p) -> Result<std::unique_ptr<delivery::Adapter>> {
    if (p.get("root").empty()) {
      return Status::invalid_argument("transfer_dir needs 'root' (the transfer root folder)");
    }
    auto mode = p.get("sync") == "filesystem" ? SyncMode::kFileSystem : SyncMode::kPerFile;
    return std::unique_ptr<delivery::Adapter>(std::make_unique<TransferDirAdapter>(
        p.get("root"), mode, p.get("idempotency") == "application",
        std::stoi(p.get("markers_days"))));
  };
  return t;
}

std::string TransferDirAdapter::sanitise_file_name(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (std::size_t i = 0; i < name.size();) {
    char32_t cp = 0;
    const std::size_t len = utf8_sequence(name, i, cp);
    if (len == 0 || is_replaced_code_point(cp)) {
      out += '_';
      i += len == 0 ? 1 : len;
      continue;
    }
    // No leading dot (hidden files, ".", "..") and no "..": a dot never follows a dot.
    if (cp == '.' && (out.empty() || out.back() == '.')) {
      out += '_';
    } else {
      out.append(name.substr(i, len));
    }
    i += len;
  }
  // Windows drops a trailing dot or space, which would make two different names collide.
  if (!out.empty() && (out.back() == '.' || out.back() == ' ')) out.back() = '_';
  if (out.empty()) return "attachment";
  if (is_reserved(out)) out.insert(0, 1, '_');
  if (out.size() > kMaxNameBytes) {
    const std::size_t ext = extension_start(out);
    if (ext == std::string::npos) return join_within_limit(std::move(out), {}, {});
    const std::string extension = out.substr(ext);
    out.resize(ext);
    return join_within_limit(std::move(out), {}, extension);
  }
  return out;
}

std::vector<std::string> TransferDirAdapter::unique_file_names(
    const std::vector<Attachment>& attachments) {
  std::vector<std::string> names;
  names.reserve(attachments.size());
  std::unordered_set<std::string> taken{std::string(kApplicationName), std::string(kManifestName)};
  for (const auto& attachment : attachments) {
    std::string name = sanitise_file_name(attachment.name);
    if (!taken.insert(ascii_lower(name)).second) {
      const std::size_t ext_pos = extension_start(name);
      const std::string stem = name.substr(0, ext_pos);
      const std::string ext = ext_pos == std::string::npos ? std::string() : name.substr(ext_pos);
      for (std::size_t n = 2;; ++n) {
        std::string candidate = join_within_limit(stem, "-" + std::to_string(n), ext);
        if (taken.insert(ascii_lower(candidate)).second) {
          name = std::move(candidate);
          break;
        }
      }
    }
    names.push_back(std::move(name));
  }
  return names;
}

delivery::DeliveryResult TransferDirAdapter::deliver(
    const delivery::DeliveryRequest& request) noexcept {
  try {
    return deliver_case(request);
  } catch (const std::bad_alloc&) {
    return DeliveryResult::retry_later("transfer_dir: out of memory");
  } catch (...) {
    // std::filesystem and friends put paths into what(); those paths may hold the case number
    // and must not reach the dead-letter store verbatim.
    return DeliveryResult::retry_later("transfer_dir: unexpected internal error");
  }
}

GroupSync& TransferDirAdapter::group_sync(const std::string& dir, GroupSync::Kind kind) {
  std::lock_guard lock(group_syncs_mutex_);
  auto& slot = group_syncs_[{dir, kind}];
  if (!slot) slot = std::make_unique<GroupSync>(dir, kind);
  return *slot;
}

std::optional<delivery::DeliveryResult> TransferDirAdapter::claim(int office_fd,
                                                                  const std::string& office_dir,
                                                                  const Case& c) {
  UniqueFd markers_fd = open_dir_at(office_fd, kApplicationMarkers, O_NOFOLLOW);
  if (!markers_fd.valid()) {
    if (errno != ENOENT) return retry({"open application markers folder", errno});
    if (::mkdirat(office_fd, kApplicationMarkers, kDirMode) == 0) {
      if (auto e = fsync_dir(office_fd, "fsync office folder")) return retry(*e);
    } else if (errno != EEXIST) {
      return retry({"create application markers folder", errno});
    }
    markers_fd = open_dir_at(office_fd, kApplicationMarkers, O_NOFOLLOW);
    if (!markers_fd.valid()) return retry({"open application markers folder", errno});
  }
  ApplicationClaim claimed = ApplicationClaim::kOwned;
  if (auto e = claim_application(office_fd, markers_fd.get(),
                                 application_marker_name(c.app.sender, c.app.message_id),
                                 c.case_number, kTempPrefix, claimed)) {
    return retry({e->operation, e->err});
  }
  switch (claimed) {
    case ApplicationClaim::kOwned:  // a retry: its earlier sync may have failed
    case ApplicationClaim::kNewlyOwned: {
      // The claim must be on disk before the folder it guards can be.
      const std::string markers_dir = office_dir + "/" + kApplicationMarkers;
      if (Status s = group_sync(markers_dir, GroupSync::Kind::kDirectory).sync(); !s.is_ok()) {
        return DeliveryResult::retry_later("transfer_dir: application markers " + s.message());
      }
      return std::nullopt;
    }
    case ApplicationClaim::kDeliveredByOther:
      return DeliveryResult::delivered();
    case ApplicationClaim::kPendingByOther:
      return DeliveryResult::retry_later(
          "transfer_dir: the same application is being written under another case number");
  }
  return std::nullopt;
}

delivery::DeliveryResult TransferDirAdapter::deliver_case(
    const delivery::DeliveryRequest& request) {
  const Case& c = request.case_;
  const std::string& office_id = request.office.id;
  if (!is_safe_office_id(office_id)) {
    return DeliveryResult::rejected("transfer_dir: office id is not a safe folder name");
  }
  if (!is_case_number(c.case_number)) {
    return DeliveryResult::rejected("transfer_dir: case number is not 20 digits");
  }
  const crypto::Recipient* recipient = request.recipient;
  // Fail closed: an office that asked for encryption never gets plaintext because of a bug or a
  // half-applied reload elsewhere.
  if (recipient == nullptr && !request.office.certificate_path.empty()) {
    return DeliveryResult::retry_later(
        "transfer_dir: office has a certificate but none was loaded; not writing plaintext");
  }

  const std::string& root_param = request.params.get("root");
  const char* root = root_param.empty() ? root_.c_str() : root_param.c_str();
  const UniqueFd root_fd = open_dir_at(AT_FDCWD, root);
  if (!root_fd.valid()) return retry({"open root folder", errno});

  UniqueFd office_fd = open_dir_at(root_fd.get(), office_id.c_str());
  if (!office_fd.valid()) {
    if (errno != ENOENT) return retry({"open office folder", errno});
    if (::mkdirat(root_fd.get(), office_id.c_str(), kDirMode) == 0) {
      if (auto e = fsync_dir(root_fd.get(), "fsync root folder")) return retry(*e);
    } else if (errno != EEXIST) {  // EEXIST: another delivery for this office was faster
      return retry({"create office folder", errno});
    }
    office_fd = open_dir_at(root_fd.get(), office_id.c_str());
    if (!office_fd.valid()) return retry({"open office folder", errno});
  }

  struct stat st {};
  if (::fstatat(office_fd.get(), c.case_number.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    return DeliveryResult::delivered();
  }
  if (errno != ENOENT) return retry({"stat case folder", errno});

  const std::string temp_name = std::string(kTempPrefix) + c.case_number;
  if (auto e = remove_stale_temp_dir(office_fd.get(), temp_name)) return retry(*e);
  if (::mkdirat(office_fd.get(), temp_name.c_str(), kDirMode) != 0) {
    return retry({"create temporary folder", errno});
  }
  TempDirGuard guard(office_fd.get(), temp_name);
  const UniqueFd temp_fd = open_dir_at(office_fd.get(), temp_name.c_str(), O_NOFOLLOW);
  if (!temp_fd.valid()) return retry({"open temporary folder", errno});
  // Held until the rename, so a concurrent attempt for this case does not take the folder for a
  // crash's leftovers. EWOULDBLOCK: such an attempt is deleting it right now.
  if (::flock(temp_fd.get(), LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
    return retry({"lock temporary folder", errno});
  }
  if (by_application_) {
    if (markers_days_ > 0 && !root_param.empty()) {  // the sweeper covers this root too
      std::lock_guard lock(channel_roots_mutex_);
      channel_roots_.insert(root_param);
    }
    if (auto stop = claim(office_fd.get(), std::string(root) + "/" + office_id, c)) return *stop;
  }

  const bool encrypted = recipient != nullptr;
  const std::vector<std::string> attachment_names = unique_file_names(c.app.attachments);
  std::vector<StoredFile> files;
  files.reserve(1 + c.app.attachments.size());
  const bool shared_sync = mode_ == SyncMode::kFileSystem;
  PendingSyncs pending(shared_sync);

  // One content-encryption key for all files of the case: one RSA operation per case.
  std::optional<crypto::Envelope> envelope;
  if (encrypted) {
    auto created = crypto::Envelope::create(*recipient);
    if (!created.is_ok()) {
      return DeliveryResult::retry_later("transfer_dir: encryption failed: " +
                                         created.status().message());
    }
    envelope.emplace(std::move(*created));
  }
  const auto store = [&](std::string name, std::string_view role, std::string_view content_type,
                         std::string_view content) -> std::optional<DeliveryResult> {
    StoredFile f;
    f.role = role;
    f.content_type = content_type;
    std::optional<FsError> error;
    if (encrypted) {
      auto der = envelope->seal(content);
      if (!der.is_ok()) {
        return DeliveryResult::retry_later("transfer_dir: encryption failed: " +
                                           der.status().message());
      }
      name += kEncryptedSuffix;
      f.plain_size = content.size();
      f.plain_sha256 = crypto::sha256_hex(content);
      f.size = der->size();
      f.sha256 = crypto::sha256_hex(*der);
      error = write_file_at(temp_fd.get(), name, *der, pending);
    } else {
      f.size = content.size();
      f.sha256 = crypto::sha256_hex(content);
      error = write_file_at(temp_fd.get(), name, content, pending);
    }
    if (error) return retry(*error);
    f.name = std::move(name);
    files.push_back(std::move(f));
    return std::nullopt;
  };

  if (auto failed =
          store(std::string(kApplicationName), "application", "application/xml", c.app.xml)) {
    return *failed;
  }
  for (std::size_t i = 0; i < c.app.attachments.size(); ++i) {
    const Attachment& a = c.app.attachments[i];
    if (auto failed = store(attachment_names[i], "attachment", a.content_type, a.data)) {
      return *failed;
    }
  }
  envelope.reset();  // the case's key is not needed for the manifest (plain) and the syncs
  const std::string manifest = build_manifest(request, encrypted, files);
  if (auto e = write_file_at(temp_fd.get(), std::string(kManifestName), manifest, pending)) {
    return retry(*e);
  }
  fault::hit(fault::Point::kTempWritten);
  if (shared_sync) {
    if (Status synced = group_sync(root, GroupSync::Kind::kFileSystem).sync(); !synced.is_ok()) {
      return DeliveryResult::retry_later("transfer_dir: " + synced.message());
    }
  } else {
    if (auto e = pending.sync_all()) return retry(*e);
    if (auto e = fsync_dir(temp_fd.get(), "fsync temporary folder")) return retry(*e);
  }

  fault::hit(fault::Point::kTempSynced);
  // RENAME_NOREPLACE: a concurrent delivery of the same case that renamed first wins, and ours
  // is discarded, instead of silently replacing an (empty) folder the office is working on.
  int rc = ::renameat2(office_fd.get(), temp_name.c_str(), office_fd.get(), c.case_number.c_str(),
                       RENAME_NOREPLACE);
  if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) {
    // Not supported by this file system (older NFS, CIFS): a plain rename still refuses to
    // replace a non-empty folder.
    rc = ::renameat(office_fd.get(), temp_name.c_str(), office_fd.get(), c.case_number.c_str());
  }
  if (rc != 0) {
    if (errno == EEXIST || errno == ENOTEMPTY) return DeliveryResult::delivered();
    return retry({"rename", errno});
  }
  guard.dismiss();
  fault::hit(fault::Point::kRenamed);
  // Without this the rename may not survive a power cut; a retry then finds the folder in place.
  const std::string office_dir = std::string(root) + "/" + office_id;
  if (Status synced = group_sync(office_dir, GroupSync::Kind::kDirectory).sync(); !synced.is_ok()) {
    return DeliveryResult::retry_later("transfer_dir: office folder " + synced.message());
  }
  return DeliveryResult::delivered();
}

}  // namespace ozghub::adapters
