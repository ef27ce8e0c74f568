// The transfer-directory adapter (Transferverzeichnis), DESIGN.md section 3.
//
// Each case becomes one folder `<root>/<office_id>/<case_number>/` holding `application.xml`,
// the attachments under sanitised names, and `manifest.json`. The folder appears atomically:
// it is written under a temporary name in the office folder, every file and the folder are
// fsynced, then it is renamed into place and the office folder is fsynced. When the office has a
// certificate each file (not the manifest) is written as CMS EnvelopedData with `.p7m` appended.
//
// Idempotent by case number: if the final folder already exists the delivery is reported as
// delivered without writing anything, so a retry after a crash never writes a case twice.
// Left-over temporary folders (from a crash mid-write) are removed before a case is rewritten;
// a temporary folder is flock()ed while it is written, so one that is still locked belongs to a
// live attempt and is left alone.
//
// Fails closed: an office with a certificate_path but no recipient in the request gets nothing
// (retry_later) rather than plaintext. A root given as channel parameter must exist: a missing
// mount point is reported, not silently replaced by a local folder.
//
// Durability, two modes (`sync` in the adapter's configuration):
// - kPerFile ("file", the default): every file and both folders are fsynced. Works on every file
//   system, NFS and CIFS shares included; costs four or more flushes per case.
// - kFileSystem ("filesystem"): concurrent deliveries share one syncfs(2) before and one after
//   the rename (GroupSync), so a burst of cases costs two flushes. For local file systems on
//   Linux 5.8 or later (where syncfs reports writeback errors); it flushes everything dirty on
//   that file system. Needs enough delivery threads in flight to batch.
// In both modes the office folder is fsynced once for all renames made into it meanwhile.
//
// Idempotent by application too (`idempotency: application`, for hubs that share the transfer
// directory behind one broker queue): a case whose application (sender, message id) another
// case has claimed in the office folder is not written again (application_marker.hpp).
// With `markers_days` set, a background thread removes the claims older than that many days,
// when it starts and then hourly, in the office folders of the instance's root and of every
// channel root delivered to since it started (marker_sweep.hpp).
//
// Thread-safe: deliver() may run concurrently, also for the same case (one attempt wins the
// rename, the other reports delivered or retry_later).
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/periodic.hpp"
#include "delivery/adapter.hpp"
#include "transfer_dir/group_sync.hpp"

namespace ozghub::adapters {

class TransferDirAdapter final : public delivery::Adapter {
 public:
  enum class SyncMode { kPerFile, kFileSystem };

  // The type as registered: keys `root` (instance or channel) and `sync` (instance).
  static delivery::AdapterType type();

  // `root` is created if missing. A channel parameter `root` overrides it per office.
  // `by_application`: also idempotent by (sender, message id), see above.
  // `markers_days` > 0 (with `by_application`): remove claims older than that, see above.
  explicit TransferDirAdapter(std::filesystem::path root, SyncMode mode = SyncMode::kPerFile,
                              bool by_application = false, int markers_days = 0);
  ~TransferDirAdapter() override;

  Result<std::shared_ptr<const delivery::ChannelBinding>> bind(
      const delivery::ChannelContext& channel) override;
  delivery::DeliveryResult deliver(const delivery::DeliveryRequest& request) noexcept override;

  // The name an attachment is stored under: path separators, control characters, leading dots
  // and names reserved by the adapter are replaced; duplicates get a numeric suffix (see
  // unique_file_names). Exposed for tests.
  static std::string sanitise_file_name(std::string_view name);

  // The stored names of a case's attachments, in order: each sanitised, then made unique within
  // the case (ignoring ASCII case, for case-insensitive shares) with "-2", "-3" before the
  // extension. Never "application.xml" or "manifest.json". Before any ".p7m" is appended.
  static std::vector<std::string> unique_file_names(const std::vector<Attachment>& attachments);

  // One round of removing claims older than `markers_days` (what the sweeper thread runs
  // hourly); does nothing without `markers_days`. Public for tests.
  void sweep_markers();

 private:
  delivery::DeliveryResult deliver_case(const delivery::DeliveryRequest& request);
  // Claims the case's application in the office folder; a result means: stop with it.
  std::optional<delivery::DeliveryResult> claim(int office_fd, const std::string& office_dir,
                                                const Case& c);
  // The GroupSync for the file system holding `root` (kFileSystem mode), or for one office
  // folder (its renames are made durable together).
  GroupSync& group_sync(const std::string& dir, GroupSync::Kind kind);

  std::filesystem::path root_;
  SyncMode mode_;
  bool by_application_;
  int markers_days_;
  std::mutex group_syncs_mutex_;
  std::map<std::pair<std::string, GroupSync::Kind>, std::unique_ptr<GroupSync>> group_syncs_;
  std::mutex channel_roots_mutex_;
  std::set<std::string> channel_roots_;  // channels' roots delivered to since start
  Periodic marker_sweeper_;              // last: stopped before the members it reads go
};

}  // namespace ozghub::adapters
