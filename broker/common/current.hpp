// The current version of something that a reload replaces (the routing snapshot, the keyring):
// readers take a shared_ptr and keep using what they took; set() swaps in the new one.
//
// Thread-safety: get() and set() from any thread.
#pragma once

#include <memory>
#include <mutex>

namespace ozghub {

template <typename T>
class Current {
 public:
  Current() = default;
  explicit Current(std::shared_ptr<const T> value) : current_(std::move(value)) {}

  std::shared_ptr<const T> get() const {
    std::lock_guard lock(mutex_);
    return current_;
  }
  void set(std::shared_ptr<const T> value) {
    {
      std::lock_guard lock(mutex_);
      current_.swap(value);
    }
    // `value` now holds the old version: when this was its last reference, it is released
    // here, outside the lock that get() takes.
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const T> current_;
};

}  // namespace ozghub
