// The one place adapters are called.
//
// Every configured adapter instance has its own lane: a schedule of due deliveries (an Outbox,
// holding at most `window` of them in memory and paging the rest in from the store) and
// `concurrency` threads, so a stalled SMTP server never takes the threads the transfer directory
// needs, nor memory for its backlog. A delivery thread takes a due task, loads the case if needed,
// calls the adapter with the channel's binding and the attempt's deadline, and records the outcome:
// delivered (removed from the store's outbox), retry later (exponential backoff with jitter, or
// the adapter's retry-after), or dead letter (rejected by the adapter, or out of attempts).
// Dead letters can be listed, replayed (same case number, so the same idempotency key) and
// purged by an operator through the admin endpoint.
//
// Thread-safety: push() and the dead-letter methods from any thread; recover(), start() and
// stop() from one thread.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/current.hpp"
#include "config/config.hpp"
#include "delivery/adapter_registry.hpp"
#include "delivery/delivery_metrics.hpp"
#include "pipeline/outbox.hpp"
#include "pipeline/routing_state.hpp"
#include "store/store.hpp"

namespace ozghub::delivery {

class DeliveryHost final : public pipeline::DeliverySink {
 public:
  // `adapters` and `metrics` must outlive the host.
  DeliveryHost(store::Store& store, pipeline::RoutingState& routing, const AdapterMap& adapters,
               config::RetryPolicy retry, DeliveryMetrics& metrics,
               std::size_t window = config::Config{}.delivery_window);
  ~DeliveryHost() override;
  DeliveryHost(const DeliveryHost&) = delete;
  DeliveryHost& operator=(const DeliveryHost&) = delete;

  // Startup recovery: counts the pending deliveries in the store (returned) and lets each lane
  // page its own in as it has room. Deliveries whose adapter instance is no longer configured
  // become dead letters, so an operator sees them.
  Result<std::size_t> recover();
  // Starts each lane's threads.
  void start();
  void stop();

  // Schedules a delivery on its adapter's lane.
  void push(pipeline::DeliveryTask task) override;

  // Runs one task to its recorded outcome (what each lane thread does). Exposed for tests.
  void run_task(pipeline::DeliveryTask task, std::mt19937_64& rng);

  // Dead letters, for the admin endpoint. `channel` empty: every channel of the case.
  Result<std::vector<store::OutboxEntry>> dead_letters() const;
  Result<std::vector<store::OutboxEntry>> dead_letters_of(const std::string& case_number) const;
  // Moves the dead letters back into the outbox with a fresh attempt count; returns how many.
  Result<std::size_t> replay(const std::string& case_number, std::optional<std::uint16_t> channel);
  Result<std::size_t> replay_all();
  // Deletes the dead letters; returns how many.
  Result<std::size_t> purge(const std::string& case_number, std::optional<std::uint16_t> channel);

  // The retry policy for every retry scheduled from now on (a configuration reload). Any thread.
  void set_retry_policy(const config::RetryPolicy& retry) {
    retry_.set(std::make_shared<const config::RetryPolicy>(retry));
  }

  // Deliveries waiting on one lane (due or backing off, not being attempted); 0 for an unknown
  // adapter.
  std::size_t backlog(const std::string& adapter) const;
  // Of those, how many the lane holds in memory now.
  std::size_t backlog_in_memory(const std::string& adapter) const;

 private:
  struct Lane {
    Lane(std::size_t window, pipeline::Outbox::Source source)
        : queue(4096, window, std::move(source)) {}
    AdapterSlot* slot = nullptr;
    pipeline::Outbox queue;
    AdapterMetrics metrics;
    std::atomic<std::int64_t> owed{0};     // outbox entries in the store for this lane
    std::atomic<std::int64_t> running{0};  // of those, being attempted
    std::vector<std::thread> threads;
    void publish();  // the backlog gauges
  };

  void run(Lane& lane);
  Status park_unconfigured(const std::string& adapter);
  void schedule_retry(store::OutboxEntry e, const DeliveryResult& r, std::mt19937_64& rng);
  void dead_letter(store::OutboxEntry e, std::string error);
  Lane* lane(const std::string& adapter) const;
  DeliveryResult attempt(const store::OutboxEntry& e, const Case& c, Lane& lane);
  static DeliveryResult unreadable_case(const Status& s);

  store::Store& store_;
  pipeline::RoutingState& routing_;
  Current<config::RetryPolicy> retry_;
  DeliveryMetrics& metrics_;
  std::map<std::string, std::unique_ptr<Lane>, std::less<>> lanes_;
};

}  // namespace ozghub::delivery
