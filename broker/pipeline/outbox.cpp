#include "pipeline/outbox.hpp"

#include <chrono>

#include "common/log.hpp"

namespace ozghub::pipeline {
namespace {

constexpr std::int64_t kRefillRetryMs = 1000;

std::size_t payload_bytes(const Case& c) {
  std::size_t n = c.app.xml.size();
  for (const auto& a : c.app.attachments) n += a.data.size();
  return n;
}

}  // namespace

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Outbox::Outbox(std::size_t max_cached_cases, std::size_t window, Source source,
               std::size_t max_cached_bytes)
    : max_cached_(max_cached_cases),
      max_cached_bytes_(max_cached_bytes),
      window_(std::max<std::size_t>(window, 1)),
      source_(std::move(source)) {}

bool Outbox::covers(const store::ScheduleKey& key) const {
  return complete_ || (cursor_ && key <= *cursor_);
}

void Outbox::insert(DeliveryTask task) {
  store::ScheduleKey key = task.entry.schedule_key();
  // A copy of a delivery being attempted or already here.
  if (in_flight_.contains(key) || tasks_.contains(key)) return;
  if (task.case_) {
    const std::size_t bytes = payload_bytes(*task.case_);
    if (cached_ >= max_cached_ || cached_bytes_ + bytes > max_cached_bytes_ ||
        task.entry.due_ms > now_ms()) {
      task.case_.reset();
    } else {
      ++cached_;
      cached_bytes_ += bytes;
    }
  }
  tasks_.emplace(std::move(key), std::move(task));
}

void Outbox::uncache(const DeliveryTask& task) {
  if (!task.case_) return;
  --cached_;
  cached_bytes_ -= payload_bytes(*task.case_);
}

void Outbox::trim() {
  if (refilling_ || !source_) return;  // the refill's merge trims
  while (tasks_.size() > window_) {
    auto last = std::prev(tasks_.end());
    uncache(last->second);
    tasks_.erase(last);
    complete_ = false;
    cursor_ = std::prev(tasks_.end())->first;
  }
}

void Outbox::push(DeliveryTask task) {
  {
    std::lock_guard lock(mutex_);
    const store::ScheduleKey key = task.entry.schedule_key();
    if (!covers(key)) {
      // In the store; a refill reads it. During a refill it may turn out to be inside.
      if (refilling_) arrived_during_refill_.push_back(std::move(task));
      return;
    }
    insert(std::move(task));
    trim();
  }
  cv_.notify_one();
}

void Outbox::page_from_store() {
  std::lock_guard lock(mutex_);
  if (!source_) return;
  complete_ = false;
  cursor_.reset();
  tasks_.clear();
  cached_ = 0;
  cached_bytes_ = 0;
}

void Outbox::refill(std::unique_lock<std::mutex>& lock) {
  refilling_ = true;
  const std::optional<store::ScheduleKey> after = cursor_;
  const std::size_t limit = window_ - std::min(window_, tasks_.size());
  lock.unlock();
  auto loaded = source_(after, limit);
  lock.lock();
  refilling_ = false;
  std::vector<DeliveryTask> arrived;
  arrived.swap(arrived_during_refill_);
  if (!loaded) {
    log::error("delivery.schedule_read_failed", {{"error", loaded.status().message()}});
    refill_not_before_ms_ = now_ms() + kRefillRetryMs;
    for (auto& t : arrived) {
      if (covers(t.entry.schedule_key())) insert(std::move(t));
    }
    trim();
    return;
  }
  if (loaded->size() < limit) {
    complete_ = true;
    cursor_.reset();
  } else if (!loaded->empty()) {
    cursor_ = loaded->back().schedule_key();
  }
  for (auto& e : *loaded) insert({std::move(e), nullptr});
  for (auto& t : arrived) {
    if (covers(t.entry.schedule_key())) insert(std::move(t));
  }
  trim();
  cv_.notify_all();
}

std::optional<DeliveryTask> Outbox::take() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (stopped_) return std::nullopt;
    std::int64_t now = now_ms();
    if (!complete_ && !refilling_ && source_ && tasks_.size() <= window_ / 2 &&
        now >= refill_not_before_ms_) {
      refill(lock);
      continue;
    }
    if (!tasks_.empty() && tasks_.begin()->first.due_ms <= now) {
      auto node = tasks_.extract(tasks_.begin());
      in_flight_.insert(node.key());
      DeliveryTask t = std::move(node.mapped());
      uncache(t);
      return t;
    }
    std::int64_t wait_ms = -1;
    if (!tasks_.empty()) wait_ms = tasks_.begin()->first.due_ms - now;
    if (!complete_ && !refilling_ && source_ && tasks_.size() <= window_ / 2) {
      // Only a failed read holds the refill back.
      const std::int64_t until_refill = std::max<std::int64_t>(refill_not_before_ms_ - now, 1);
      wait_ms = wait_ms < 0 ? until_refill : std::min(wait_ms, until_refill);
    }
    if (wait_ms < 0) {
      cv_.wait(lock);
    } else {
      cv_.wait_for(lock, std::chrono::milliseconds(wait_ms));
    }
  }
}

void Outbox::done(const store::ScheduleKey& key) {
  std::lock_guard lock(mutex_);
  in_flight_.erase(key);
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
  return tasks_.size();
}

}  // namespace ozghub::pipeline
