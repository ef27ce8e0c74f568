#include "transfer_dir/group_sync.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ozghub::adapters {

GroupSync::GroupSync(const std::string& dir, Kind kind) : dir_(dir), kind_(kind) {
  // A directory is opened anew for each sync: if an operator replaced it, the new one is synced.
  if (kind_ == Kind::kDirectory) return;
  fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_ < 0) open_error_ = std::string("cannot open for syncing: ") + std::strerror(errno);
}

int GroupSync::sync_once() const {
  if (kind_ == Kind::kFileSystem) return ::syncfs(fd_);
  const int fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  errno = saved;
  return rc;
}

GroupSync::~GroupSync() {
  if (fd_ >= 0) ::close(fd_);
}

Status GroupSync::sync() {
  if (kind_ == Kind::kFileSystem && fd_ < 0) return Status::io_error(open_error_);
  std::unique_lock lock(mutex_);
  const std::uint64_t me = ++requests_;
  for (;;) {
    if (covered_ >= me) return last_;
    if (!syncing_) break;
    cv_.wait(lock);
  }
  // Everyone registered so far wrote before registering: this sync covers them all.
  syncing_ = true;
  const std::uint64_t covers = requests_;
  lock.unlock();
  const int rc = sync_once();
  // EINVAL from fsync on a directory: the file system (CIFS) cannot, as in fsync_dir().
  Status s = rc == 0 || (kind_ == Kind::kDirectory && errno == EINVAL)
                 ? Status::ok()
                 : Status::io_error(std::string(kind_ == Kind::kFileSystem ? "syncfs" : "fsync") +
                                    " failed: " + std::strerror(errno));
  lock.lock();
  syncing_ = false;
  covered_ = covers;
  last_ = s;
  ++syncs_;
  cv_.notify_all();
  return s;
}

std::uint64_t GroupSync::syncs_done() const {
  std::lock_guard lock(mutex_);
  return syncs_;
}

}  // namespace ozghub::adapters
