#include "delivery/delivery_host.hpp"

#include "common/log.hpp"
#include "pipeline/backoff.hpp"

namespace ozghub::delivery {

DeliveryHost::DeliveryHost(store::Store& store, pipeline::Outbox& outbox,
                           pipeline::RoutingState& routing, const AdapterMap& adapters,
                           config::RetryPolicy retry)
    : store_(store), outbox_(outbox), routing_(routing), adapters_(adapters), retry_(retry) {}

DeliveryHost::~DeliveryHost() { stop(); }

Result<std::size_t> DeliveryHost::recover() {
  std::size_t n = 0;
  Status s = store_.scan_outbox([&](store::OutboxEntry e) {
    outbox_.push({std::move(e), nullptr});
    ++n;
    return Status::ok();
  });
  if (!s.is_ok()) return s;
  return n;
}

void DeliveryHost::start(int threads) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
}

void DeliveryHost::stop() {
  outbox_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void DeliveryHost::run() {
  std::mt19937_64 rng(std::random_device{}());
  while (auto task = outbox_.take()) run_task(std::move(*task), rng);
}

void DeliveryHost::run_task(pipeline::DeliveryTask task, std::mt19937_64& rng) {
  store::OutboxEntry& e = task.entry;
  std::shared_ptr<const Case> c = task.case_;
  if (!c) {
    auto loaded = store_.load_case(e.case_number);
    if (!loaded) {
      // The outbox names a case the store cannot produce: an operator must look at it.
      dead_letter(std::move(e), "case record unreadable: " + loaded.status().message());
      return;
    }
    c = std::make_shared<const Case>(std::move(*loaded));
  }
  auto snapshot = routing_.get();
  const routing::Office* office = snapshot->directory->office(c->office_id);
  DeliveryResult result;
  if (office == nullptr) {
    result = DeliveryResult::retry_later("office " + c->office_id +
                                         " is no longer in the routing directory");
  } else if (e.channel >= office->channels.size()) {
    result = DeliveryResult::retry_later("office " + c->office_id + " has no channel " +
                                         std::to_string(e.channel + 1) + " any more");
  } else {
    const routing::Channel& channel = office->channels[e.channel];
    auto adapter = adapters_.find(channel.adapter);
    if (adapter == adapters_.end()) {
      result = DeliveryResult::retry_later("no adapter instance named " + channel.adapter);
    } else {
      DeliveryRequest req{*c, *office, channel, snapshot->recipient(office->id), e.attempts + 1};
      result = adapter->second->deliver(req);
    }
  }
  ++e.attempts;
  switch (result.outcome) {
    case Outcome::kDelivered: {
      log::info("case.delivered", {{"case", e.case_number},
                                   {"office", c->office_id},
                                   {"channel", std::to_string(e.channel)},
                                   {"attempts", std::to_string(e.attempts)}});
      if (Status s = store_.record_delivered(e); !s.is_ok()) {
        log::error("store.record_failed", {{"case", e.case_number}, {"error", s.message()}});
      }
      return;
    }
    case Outcome::kRejected:
      dead_letter(std::move(e), std::move(result.error));
      return;
    case Outcome::kRetryLater:
      if (e.attempts >= retry_.max_attempts) {
        dead_letter(std::move(e), std::move(result.error));
      } else {
        schedule_retry(std::move(e), result, rng);
      }
      return;
  }
}

void DeliveryHost::schedule_retry(store::OutboxEntry e, const DeliveryResult& r,
                                  std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  auto delay = r.retry_after ? *r.retry_after : pipeline::backoff_delay(retry_, e.attempts, u(rng));
  e.due_ms = pipeline::now_ms() + delay.count();
  e.last_error = r.error;
  log::warn("case.delivery_retry", {{"case", e.case_number},
                                    {"channel", std::to_string(e.channel)},
                                    {"attempts", std::to_string(e.attempts)},
                                    {"retry_in_ms", std::to_string(delay.count())},
                                    {"error", e.last_error}});
  if (Status s = store_.record_retry(e); !s.is_ok()) {
    log::error("store.record_failed", {{"case", e.case_number}, {"error", s.message()}});
  }
  outbox_.push({std::move(e), nullptr});
}

void DeliveryHost::dead_letter(store::OutboxEntry e, std::string error) {
  e.last_error = std::move(error);
  e.due_ms = pipeline::now_ms();
  log::error("case.dead_lettered", {{"case", e.case_number},
                                    {"channel", std::to_string(e.channel)},
                                    {"attempts", std::to_string(e.attempts)},
                                    {"error", e.last_error}});
  if (Status s = store_.record_dead_letter(e); !s.is_ok()) {
    log::error("store.record_failed", {{"case", e.case_number}, {"error", s.message()}});
  }
}

}  // namespace ozghub::delivery
