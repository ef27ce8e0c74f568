// One adapter instance's schedule of pending deliveries, with a bounded part in memory.
//
// The durable truth is the store (outbox and schedule column families, store.hpp); this holds a
// window of it: at most `window` deliveries, the earliest in schedule order (due time, then case
// number, then channel). As long as everything fits, every delivery is here. When a backlog grows
// past the window the latest ones are dropped from memory (they are in the store) and the
// outbox remembers up to where it is complete (the cursor); when the window has drained to half,
// the thread taking work reads the next deliveries after the cursor from the store (`Source`)
// while the other threads keep working. So a stalled adapter with a million owed deliveries
// costs `window` entries of memory, and startup reads nothing but counts.
//
// Copies: a refill may read a delivery that is meanwhile pushed, taken, done or rescheduled, so
// memory can hold a stale copy. A key being attempted is never handed out twice (in_flight), and
// the taker checks a task against the store before attempting it (Store::is_scheduled).
//
// A task may carry the case itself (fresh from the committer) to spare the delivery a read from
// the store; only a bounded number of tasks keep their case, and only up to a bounded size in
// all (a backlog of cases with 1 MiB attachments must not hold thousands of them in memory).
//
// Thread-safe.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <vector>

#include "common/application.hpp"
#include "common/status.hpp"
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
  // Up to `limit` deliveries of this schedule after `after` (nullopt: from its start), in order.
  using Source = std::function<Result<std::vector<store::OutboxEntry>>(
      const std::optional<store::ScheduleKey>& after, std::size_t limit)>;

  // Without a source everything pushed stays in memory (window unbounded in effect).
  // Cases kept in memory: at most `max_cached_cases`, and at most `max_cached_bytes` of their
  // payloads (XML and attachments).
  explicit Outbox(std::size_t max_cached_cases = 4096, std::size_t window = SIZE_MAX,
                  Source source = {}, std::size_t max_cached_bytes = kDefaultMaxCachedBytes);
  static constexpr std::size_t kDefaultMaxCachedBytes = 32u << 20;

  // Adds a delivery that is already in the store; it becomes due at entry.due_ms (0 or past:
  // now). Kept in memory only if it falls inside the window.
  void push(DeliveryTask task) override;
  // Declares that the store holds deliveries not pushed (startup): they are read in from the
  // start of the schedule as the window has room.
  void page_from_store();
  // Blocks until a task is due (returns it) or stop() was called (returns nullopt). The task's
  // key stays reserved until done() is called with it.
  std::optional<DeliveryTask> take();
  void done(const store::ScheduleKey& key);
  void stop();

  // Deliveries held in memory now (at most the window, plus what arrived during a refill).
  std::size_t size() const;

 private:
  bool covers(const store::ScheduleKey& key) const;
  void insert(DeliveryTask task);          // mutex_ held
  void uncache(const DeliveryTask& task);  // mutex_ held: a task with its case leaves memory
  void trim();                             // mutex_ held: back to the window
  void refill(std::unique_lock<std::mutex>& lock);

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::map<store::ScheduleKey, DeliveryTask> tasks_;
  std::set<store::ScheduleKey> in_flight_;
  // Every delivery in the store not in flight is in memory if complete_, else if its key is at
  // most cursor_ (none yet: nullopt).
  bool complete_ = true;
  std::optional<store::ScheduleKey> cursor_;
  bool refilling_ = false;
  std::vector<DeliveryTask> arrived_during_refill_;  // not yet known to be inside the window
  std::int64_t refill_not_before_ms_ = 0;            // after a failed read
  std::size_t cached_ = 0;                           // tasks holding their case
  std::size_t cached_bytes_ = 0;                     // and those cases' payload bytes
  std::size_t max_cached_;
  std::size_t max_cached_bytes_;
  std::size_t window_;
  Source source_;
  bool stopped_ = false;
};

std::int64_t now_ms();

}  // namespace ozghub::pipeline
