// The in-memory schedule of pending deliveries. The durable truth is the store's outbox column
// family; this is its index in memory: filled from the store at startup, fed by the committer,
// drained by the delivery threads.
//
// A task may carry the case itself (fresh from the committer) to spare the delivery a read from
// the store; only a bounded number of tasks keep their case, so a large backlog costs a few
// dozen bytes per entry, not the application.
//
// Thread-safe.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <vector>

#include "common/application.hpp"
#include "store/store.hpp"

namespace ozghub::pipeline {

struct DeliveryTask {
  store::OutboxEntry entry;
  std::shared_ptr<const Case> case_;  // may be null: load from the store
};

// Where the committer hands over new deliveries (the delivery host, or an Outbox in tests).
class DeliverySink {
 public:
  virtual ~DeliverySink() = default;
  virtual void push(DeliveryTask task) = 0;
};

class Outbox final : public DeliverySink {
 public:
  explicit Outbox(std::size_t max_cached_cases = 4096) : max_cached_(max_cached_cases) {}

  // Adds a task; it becomes due at entry.due_ms (0 or past: now).
  void push(DeliveryTask task) override;
  // Blocks until a task is due (returns it) or stop() was called (returns nullopt).
  std::optional<DeliveryTask> take();
  void stop();

  std::size_t size() const;

 private:
  struct Later {
    bool operator()(const DeliveryTask& a, const DeliveryTask& b) const {
      return a.entry.due_ms > b.entry.due_ms;
    }
  };

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<DeliveryTask> ready_;
  std::priority_queue<DeliveryTask, std::vector<DeliveryTask>, Later> delayed_;
  std::size_t cached_ = 0;
  std::size_t max_cached_;
  bool stopped_ = false;
};

std::int64_t now_ms();

}  // namespace ozghub::pipeline
