#include "delivery/delivery_host.hpp"

#include <algorithm>

#include "common/fault_point.hpp"
#include "common/log.hpp"
#include "common/thread_name.hpp"
#include "pipeline/backoff.hpp"

namespace ozghub::delivery {
namespace {

// The office's channel a delivery was committed for: the one with the same configuration (its
// position first, as identical channels may repeat), else, when its parameters changed, the
// only channel on the same adapter instance. Several candidates: nullptr, never a guess, so
// a reload that reorders two mailboxes of one office cannot swap their deliveries.
const pipeline::BoundChannel* find_channel(const pipeline::RoutingSnapshot& snapshot,
                                           const std::string& office_id,
                                           const store::OutboxEntry& e, const AdapterSlot* slot) {
  auto it = snapshot.channels.find(office_id);
  if (it == snapshot.channels.end()) return nullptr;
  const auto& channels = it->second;
  if (e.channel < channels.size() && channels[e.channel].key == e.channel_key) {
    return &channels[e.channel];
  }
  for (const auto& b : channels) {
    if (b.key == e.channel_key) return &b;
  }
  const pipeline::BoundChannel* only = nullptr;
  for (const auto& b : channels) {
    if (b.slot != slot) continue;
    if (only != nullptr) return nullptr;
    only = &b;
  }
  return only;
}

}  // namespace

DeliveryHost::DeliveryHost(store::Store& store, pipeline::RoutingState& routing,
                           const AdapterMap& adapters, config::RetryPolicy retry,
                           DeliveryMetrics& metrics, std::size_t window)
    : store_(store),
      routing_(routing),
      retry_(std::make_shared<const config::RetryPolicy>(retry)),
      metrics_(metrics) {
  for (const auto& [name, slot] : adapters) {
    auto l = std::make_unique<Lane>(
        window,
        [this, adapter = name](const std::optional<store::ScheduleKey>& after, std::size_t limit) {
          return store_.scheduled(adapter, after, limit);
        });
    l->slot = slot.get();
    l->metrics = metrics_.for_adapter(name);
    lanes_.emplace(name, std::move(l));
  }
}

DeliveryHost::~DeliveryHost() { stop(); }

DeliveryHost::Lane* DeliveryHost::lane(const std::string& adapter) const {
  auto it = lanes_.find(adapter);
  return it == lanes_.end() ? nullptr : it->second.get();
}

void DeliveryHost::Lane::publish() {
  metrics.backlog->Set(static_cast<double>(owed.load() - running.load()));
  metrics.backlog_in_memory->Set(static_cast<double>(queue.size()));
}

Result<std::size_t> DeliveryHost::recover() {
  auto counts = store_.count_scheduled();
  if (!counts) return counts.status();
  std::size_t n = 0;
  for (const auto& [adapter, count] : *counts) {
    n += count;
    if (Lane* l = lane(adapter)) {
      l->owed += static_cast<std::int64_t>(count);
      l->queue.page_from_store();
      l->publish();
    } else if (Status s = park_unconfigured(adapter); !s.is_ok()) {
      return s;
    }
  }
  std::size_t dead = 0;
  Status s = store_.scan_dead_letters([&](const store::OutboxEntry&) {
    ++dead;
    return Status::ok();
  });
  if (!s.is_ok()) return s;
  metrics_.dead_letters().Set(static_cast<double>(dead));
  return n;
}

Status DeliveryHost::park_unconfigured(const std::string& adapter) {
  constexpr std::size_t kChunk = 1000;
  std::optional<store::ScheduleKey> after;
  for (;;) {
    auto chunk = store_.scheduled(adapter, after, kChunk);
    if (!chunk) return chunk.status();
    if (chunk->empty()) return Status::ok();
    after = chunk->back().schedule_key();
    for (auto& e : *chunk) push({std::move(e), nullptr});
    if (chunk->size() < kChunk) return Status::ok();
  }
}

void DeliveryHost::start() {
  for (auto& [name, l] : lanes_) {
    Lane& lane = *l;
    for (int i = 0; i < lane.slot->concurrency; ++i) {
      lane.threads.emplace_back([this, &lane, thread_name = "dlv-" + name] {
        set_thread_name(thread_name);
        run(lane);
      });
    }
  }
}

void DeliveryHost::stop() {
  for (auto& [name, l] : lanes_) l->queue.stop();
  for (auto& [name, l] : lanes_) {
    for (auto& t : l->threads) t.join();
    l->threads.clear();
  }
}

void DeliveryHost::push(pipeline::DeliveryTask task) {
  Lane* l = lane(task.entry.adapter);
  if (l == nullptr) {
    // Committed for an adapter instance the configuration no longer has: park it where an
    // operator sees it; a replay after the configuration is fixed delivers it.
    std::string error = "adapter instance '" + task.entry.adapter + "' is not configured";
    dead_letter(std::move(task.entry), std::move(error));
    return;
  }
  ++l->owed;
  l->queue.push(std::move(task));
  l->publish();
}

std::size_t DeliveryHost::backlog(const std::string& adapter) const {
  Lane* l = lane(adapter);
  return l == nullptr ? 0 : static_cast<std::size_t>(l->owed.load() - l->running.load());
}

std::size_t DeliveryHost::backlog_in_memory(const std::string& adapter) const {
  Lane* l = lane(adapter);
  return l == nullptr ? 0 : l->queue.size();
}

void DeliveryHost::run(Lane& lane) {
  std::mt19937_64 rng(std::random_device{}());
  while (auto task = lane.queue.take()) {
    const store::ScheduleKey key = task->entry.schedule_key();
    // A copy read in from the store before its delivery was done or rescheduled: skip it.
    if (store_.is_scheduled(task->entry)) {
      ++lane.running;
      lane.publish();
      run_task(std::move(*task), rng);
      --lane.running;
    }
    lane.queue.done(key);
    lane.publish();
  }
}

DeliveryResult DeliveryHost::attempt(const store::OutboxEntry& e, const Case& c, Lane& lane) {
  auto snapshot = routing_.get();
  const routing::Office* office = snapshot->directory->office(c.office_id);
  if (office == nullptr) {
    return DeliveryResult::retry_later("office " + c.office_id +
                                       " is no longer in the routing directory");
  }
  const pipeline::BoundChannel* bound = find_channel(*snapshot, office->id, e, lane.slot);
  if (bound == nullptr) {
    return DeliveryResult::retry_later(
        "office " + office->id + ": the channel on adapter " + e.adapter +
        " this delivery was committed for is no longer unambiguous in the routing directory");
  }
  const auto start = std::chrono::steady_clock::now();
  DeliveryRequest req{c,
                      *office,
                      bound->params,
                      bound->binding.get(),
                      snapshot->recipient(office->id),
                      e.attempts + 1,
                      start + lane.slot->timeout};
  fault::hit(fault::Point::kBeforeAdapter);
  lane.metrics.in_flight->Increment();
  DeliveryResult r = lane.slot->adapter->deliver(req);
  lane.metrics.in_flight->Decrement();
  const auto end = std::chrono::steady_clock::now();
  lane.metrics.duration->Observe(std::chrono::duration<double>(end - start).count());
  if (end > req.deadline) {
    lane.metrics.deadline_exceeded->Increment();
    log::warn("delivery.deadline_exceeded",
              {{"case", e.case_number},
               {"adapter", e.adapter},
               {"elapsed_ms",
                std::to_string(
                    std::chrono::duration_cast<std::chrono::milliseconds>(end - start).count())}});
  }
  return r;
}

// A case the store cannot produce. Damage (or a missing record) needs an operator: a dead letter.
// A failure that may pass (the HSM holding the KEK unreachable, a read error) is retried like an
// adapter's, so an outage does not turn the whole backlog into dead letters at once.
DeliveryResult DeliveryHost::unreadable_case(const Status& s) {
  std::string error = "case record unreadable: " + s.message();
  switch (s.code()) {
    case Status::Code::kIoError:
    case Status::Code::kUnavailable:
    case Status::Code::kBusy:
      return DeliveryResult::retry_later(std::move(error));
    default:
      return DeliveryResult::rejected(std::move(error));
  }
}

void DeliveryHost::run_task(pipeline::DeliveryTask task, std::mt19937_64& rng) {
  store::OutboxEntry& e = task.entry;
  Lane* l = lane(e.adapter);
  if (l == nullptr) {
    std::string error = "adapter instance '" + e.adapter + "' is not configured";
    dead_letter(std::move(e), std::move(error));
    return;
  }
  std::shared_ptr<const Case> c = task.case_;
  DeliveryResult result;
  if (!c) {
    auto loaded = store_.load_case(e.case_number);
    if (loaded) {
      c = std::make_shared<const Case>(std::move(*loaded));
    } else {
      result = unreadable_case(loaded.status());
    }
  }
  if (c) result = attempt(e, *c, *l);
  ++e.attempts;
  switch (result.outcome) {
    case Outcome::kDelivered: {
      l->metrics.delivered->Increment();
      log::info("case.delivered", {{"case", e.case_number},
                                   {"office", c->office_id},
                                   {"adapter", e.adapter},
                                   {"channel", std::to_string(e.channel)},
                                   {"attempts", std::to_string(e.attempts)}});
      fault::hit(fault::Point::kBeforeRecordDelivered);
      if (Status s = store_.record_delivered(e); !s.is_ok()) {
        log::error("store.record_failed", {{"case", e.case_number}, {"error", s.message()}});
      }
      --l->owed;
      return;
    }
    case Outcome::kRejected:
      dead_letter(std::move(e), std::move(result.error));
      return;
    case Outcome::kRetryLater:
      if (e.attempts >= retry_.get()->max_attempts) {
        dead_letter(std::move(e), std::move(result.error));
      } else {
        l->metrics.retried->Increment();
        schedule_retry(std::move(e), result, rng);
      }
      return;
  }
}

void DeliveryHost::schedule_retry(store::OutboxEntry e, const DeliveryResult& r,
                                  std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  // A peer's Retry-After is honoured even beyond max_backoff (the peer knows when it will be
  // back), but not beyond a day, which would only mean a broken header; and never shorter than
  // our own backoff, so "Retry-After: 0" or a skewed clock cannot burn every attempt at once.
  constexpr std::chrono::milliseconds kMaxRetryAfter = std::chrono::hours(24);
  const std::int64_t was_due = e.due_ms;
  auto delay = pipeline::backoff_delay(*retry_.get(), e.attempts, u(rng));
  if (r.retry_after) delay = std::max(delay, std::min(*r.retry_after, kMaxRetryAfter));
  e.due_ms = pipeline::now_ms() + delay.count();
  e.last_error = r.error;
  log::warn("case.delivery_retry", {{"case", e.case_number},
                                    {"adapter", e.adapter},
                                    {"channel", std::to_string(e.channel)},
                                    {"attempts", std::to_string(e.attempts)},
                                    {"retry_in_ms", std::to_string(delay.count())},
                                    {"error", e.last_error}});
  fault::hit(fault::Point::kBeforeRecordRetry);
  if (Status s = store_.record_retry(e, was_due); !s.is_ok()) {
    log::error("store.record_failed", {{"case", e.case_number}, {"error", s.message()}});
  }
  if (Lane* l = lane(e.adapter)) l->queue.push({std::move(e), nullptr});
}

void DeliveryHost::dead_letter(store::OutboxEntry e, std::string error) {
  const std::int64_t was_due = e.due_ms;
  e.last_error = std::move(error);
  e.due_ms = pipeline::now_ms();
  log::error("case.dead_lettered", {{"case", e.case_number},
                                    {"adapter", e.adapter},
                                    {"channel", std::to_string(e.channel)},
                                    {"attempts", std::to_string(e.attempts)},
                                    {"error", e.last_error}});
  Lane* l = lane(e.adapter);
  if (l != nullptr) l->metrics.dead_lettered->Increment();
  fault::hit(fault::Point::kBeforeDeadLetter);
  if (Status s = store_.record_dead_letter(e, was_due); !s.is_ok()) {
    log::error("store.record_failed", {{"case", e.case_number}, {"error", s.message()}});
    return;
  }
  if (l != nullptr) --l->owed;
  metrics_.dead_letters().Increment();
}

Result<std::vector<store::OutboxEntry>> DeliveryHost::dead_letters() const {
  std::vector<store::OutboxEntry> out;
  Status s = store_.scan_dead_letters([&](store::OutboxEntry e) {
    out.push_back(std::move(e));
    return Status::ok();
  });
  if (!s.is_ok()) return s;
  return out;
}

Result<std::vector<store::OutboxEntry>> DeliveryHost::dead_letters_of(
    const std::string& case_number) const {
  return store_.dead_letters_of(case_number);
}

Result<std::size_t> DeliveryHost::replay(const std::string& case_number,
                                         std::optional<std::uint16_t> channel) {
  auto letters = store_.dead_letters_of(case_number);
  if (!letters) return letters.status();
  std::size_t n = 0;
  for (auto& e : *letters) {
    if (channel && e.channel != *channel) continue;
    e.attempts = 0;
    e.due_ms = 0;
    if (Status s = store_.replay_dead_letter(e); !s.is_ok()) return s;
    metrics_.dead_letters().Decrement();
    log::info(
        "deadletter.replayed",
        {{"case", e.case_number}, {"adapter", e.adapter}, {"channel", std::to_string(e.channel)}});
    push({std::move(e), nullptr});
    ++n;
  }
  if (n == 0) return Status::not_found("no dead letter for case " + case_number);
  return n;
}

Result<std::size_t> DeliveryHost::replay_all() {
  auto all = dead_letters();
  if (!all) return all.status();
  std::size_t n = 0;
  std::string last;
  for (const auto& e : *all) {
    if (e.case_number == last) continue;
    last = e.case_number;
    auto r = replay(e.case_number, std::nullopt);
    if (!r) return r.status();
    n += *r;
  }
  return n;
}

Result<std::size_t> DeliveryHost::purge(const std::string& case_number,
                                        std::optional<std::uint16_t> channel) {
  auto letters = store_.dead_letters_of(case_number);
  if (!letters) return letters.status();
  std::size_t n = 0;
  for (const auto& e : *letters) {
    if (channel && e.channel != *channel) continue;
    if (Status s = store_.purge_dead_letter(e.case_number, e.channel); !s.is_ok()) return s;
    metrics_.dead_letters().Decrement();
    log::warn(
        "deadletter.purged",
        {{"case", e.case_number}, {"adapter", e.adapter}, {"channel", std::to_string(e.channel)}});
    ++n;
  }
  if (n == 0) return Status::not_found("no dead letter for case " + case_number);
  return n;
}

}  // namespace ozghub::delivery
