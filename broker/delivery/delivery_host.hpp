// The one place adapters are called. Delivery threads take due tasks from the outbox, load the
// case if needed, call the channel's adapter, and record the outcome: delivered (removed from
// the store's outbox), retry later (exponential backoff with jitter, or the adapter's
// retry-after), or dead letter (rejected by the adapter, or out of attempts).
//
// Thread-safety: start()/stop() from one thread; the adapters are called from `threads`
// threads concurrently.
#pragma once

#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "delivery/adapter.hpp"
#include "pipeline/outbox.hpp"
#include "pipeline/routing_state.hpp"
#include "store/store.hpp"

namespace ozghub::delivery {

using AdapterMap = std::map<std::string, std::unique_ptr<Adapter>>;

class DeliveryHost {
 public:
  DeliveryHost(store::Store& store, pipeline::Outbox& outbox, pipeline::RoutingState& routing,
               const AdapterMap& adapters, config::RetryPolicy retry);
  ~DeliveryHost();
  DeliveryHost(const DeliveryHost&) = delete;
  DeliveryHost& operator=(const DeliveryHost&) = delete;

  // Loads every pending delivery from the store into the outbox (startup recovery).
  Result<std::size_t> recover();
  void start(int threads);
  void stop();

  // Runs one task to its recorded outcome (what each thread does). Exposed for tests.
  void run_task(pipeline::DeliveryTask task, std::mt19937_64& rng);

 private:
  void run();
  void schedule_retry(store::OutboxEntry e, const DeliveryResult& r, std::mt19937_64& rng);
  void dead_letter(store::OutboxEntry e, std::string error);

  store::Store& store_;
  pipeline::Outbox& outbox_;
  pipeline::RoutingState& routing_;
  const AdapterMap& adapters_;
  config::RetryPolicy retry_;
  std::vector<std::thread> threads_;
};

}  // namespace ozghub::delivery
