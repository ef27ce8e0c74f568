// Group sync: many writers, few syncs.
//
// A delivery that has written its files (kFileSystem) or renamed a case folder into a directory
// (kDirectory) calls sync(); it returns once a syncfs(2) of the file system, or an fsync(2) of
// the directory, that started after the call has completed, so what the caller did before is
// durable. Callers that arrive while a sync runs share the next one. Under load a handful of syncs
// per second make thousands of case folders durable, where an fsync per file and folder would cap
// the rate at the disk's few thousand syncs per second divided by the files per case.
//
// Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>

#include "common/status.hpp"

namespace ozghub::adapters {

class GroupSync {
 public:
  enum class Kind { kFileSystem, kDirectory };

  // `dir` is the folder to fsync (kDirectory; opened for each sync) or any folder on the file
  // system to syncfs (kFileSystem; opened once and kept open).
  explicit GroupSync(const std::string& dir, Kind kind = Kind::kFileSystem);
  ~GroupSync();
  GroupSync(const GroupSync&) = delete;
  GroupSync& operator=(const GroupSync&) = delete;

  Status sync();
  std::uint64_t syncs_done() const;

 private:
  int sync_once() const;  // 0 or -1 with errno

  std::string dir_;
  int fd_ = -1;  // kFileSystem only
  Kind kind_;
  std::string open_error_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::uint64_t requests_ = 0;  // callers registered so far
  std::uint64_t covered_ = 0;   // callers covered by the last completed sync
  std::uint64_t syncs_ = 0;
  bool syncing_ = false;
  Status last_;  // outcome of the last completed sync
};

}  // namespace ozghub::adapters
