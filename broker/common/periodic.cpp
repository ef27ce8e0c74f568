#include "common/periodic.hpp"

#include <utility>

#include "common/thread_name.hpp"

namespace ozghub {

void Periodic::start(std::string name, std::chrono::milliseconds interval, Task task) {
  thread_ = std::thread([this, name = std::move(name), interval, task = std::move(task)] {
    set_thread_name(name);
    run(interval, task);
  });
}

void Periodic::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Periodic::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  cv_.notify_all();
}

void Periodic::run(std::chrono::milliseconds interval, const Task& task) {
  for (;;) {
    const bool again = task();
    std::unique_lock lock(mutex_);
    if (!again) cv_.wait_for(lock, interval, [this] { return stopping_ || woken_; });
    if (stopping_) return;
    woken_ = false;
  }
}

}  // namespace ozghub
