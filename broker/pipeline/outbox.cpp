#include "pipeline/outbox.hpp"

#include <chrono>

namespace ozghub::pipeline {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void Outbox::push(DeliveryTask task) {
  {
    std::lock_guard lock(mutex_);
    if (task.case_) {
      if (cached_ >= max_cached_ || task.entry.due_ms > now_ms()) {
        task.case_.reset();
      } else {
        ++cached_;
      }
    }
    if (task.entry.due_ms <= now_ms()) {
      ready_.push_back(std::move(task));
    } else {
      delayed_.push(std::move(task));
    }
  }
  cv_.notify_one();
}

std::optional<DeliveryTask> Outbox::take() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (stopped_) return std::nullopt;
    std::int64_t now = now_ms();
    while (!delayed_.empty() && delayed_.top().entry.due_ms <= now) {
      ready_.push_back(delayed_.top());
      delayed_.pop();
    }
    if (!ready_.empty()) {
      DeliveryTask t = std::move(ready_.front());
      ready_.pop_front();
      if (t.case_) --cached_;
      return t;
    }
    if (delayed_.empty()) {
      cv_.wait(lock);
    } else {
      cv_.wait_for(lock, std::chrono::milliseconds(delayed_.top().entry.due_ms - now));
    }
  }
}

void Outbox::stop() {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  cv_.notify_all();
}

std::size_t Outbox::size() const {
  std::lock_guard lock(mutex_);
  return ready_.size() + delayed_.size();
}

}  // namespace ozghub::pipeline
