#include "transfer_dir/group_sync.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ozghub::adapters {

GroupSync::GroupSync(const std::string& dir) {
  fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_ < 0) open_error_ = std::string("cannot open for syncing: ") + std::strerror(errno);
}

GroupSync::~GroupSync() {
  if (fd_ >= 0) ::close(fd_);
}

Status GroupSync::sync() {
  if (fd_ < 0) return Status::io_error(open_error_);
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
  Status s = ::syncfs(fd_) == 0
                 ? Status::ok()
                 : Status::io_error(std::string("syncfs failed: ") + std::strerror(errno));
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
