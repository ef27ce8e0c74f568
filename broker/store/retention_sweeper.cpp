#include "store/retention_sweeper.hpp"

#include "common/log.hpp"

namespace ozghub::store {
namespace {

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

RetentionSweeper::RetentionSweeper(Store& store, crypto::KeyringState& keys,
                                   std::chrono::milliseconds interval,
                                   prometheus::Registry& registry)
    : store_(store),
      keys_(keys),
      interval_(interval),
      data_keys_(prometheus::BuildGauge()
                     .Name("ozghub_store_data_keys")
                     .Help("Data keys stored, per key-encryption key id")
                     .Register(registry)),
      deleted_(prometheus::BuildCounter()
                   .Name("ozghub_cases_deleted_total")
                   .Help("Cases deleted (data key destroyed, payload deleted) after retention")
                   .Register(registry)
                   .Add({})),
      expired_(prometheus::BuildCounter()
                   .Name("ozghub_audit_trails_expired_total")
                   .Help("Audit trails deleted after retention.audit")
                   .Register(registry)
                   .Add({})),
      rewrapped_(prometheus::BuildCounter()
                     .Name("ozghub_data_keys_rewrapped_total")
                     .Help("Data keys re-wrapped by the active key-encryption key")
                     .Register(registry)
                     .Add({})),
      failures_(prometheus::BuildCounter()
                    .Name("ozghub_retention_sweep_failures_total")
                    .Help("Retention sweeps that failed")
                    .Register(registry)
                    .Add({})) {
  update_key_gauges();
}

RetentionSweeper::~RetentionSweeper() { stop(); }

void RetentionSweeper::start() {
  periodic_.start("retention", interval_, [this] {
    auto r = sweep_once();
    return r && r->keys_rewrapped == kRewrapBatch;  // more keys to re-wrap: go on at once
  });
}

void RetentionSweeper::stop() { periodic_.stop(); }

void RetentionSweeper::wake() { periodic_.wake(); }

void RetentionSweeper::update_key_gauges() {
  auto counts = store_.data_keys_per_kek();
  // Every configured KEK shows, 0 included: that 0 is what tells an operator it may go.
  for (const auto& id : keys_.get()->ids()) counts.try_emplace(id, 0);
  for (const auto& [kek, n] : counts) {
    data_keys_.Add({{"kek", kek}}).Set(static_cast<double>(n));
  }
}

Result<SweepResult> RetentionSweeper::sweep_once() {
  std::lock_guard lock(sweep_mutex_);
  auto r = store_.sweep(wall_ms(), kRewrapBatch);
  if (!r) {
    failures_.Increment();
    log::error("retention.sweep_failed", {{"error", r.status().message()}});
    return r;
  }
  deleted_.Increment(static_cast<double>(r->cases_deleted));
  expired_.Increment(static_cast<double>(r->audits_expired));
  rewrapped_.Increment(static_cast<double>(r->keys_rewrapped));
  if (r->cases_deleted + r->audits_expired + r->keys_rewrapped > 0) {
    log::info("retention.swept", {{"cases_deleted", std::to_string(r->cases_deleted)},
                                  {"audits_expired", std::to_string(r->audits_expired)},
                                  {"keys_rewrapped", std::to_string(r->keys_rewrapped)}});
  }
  update_key_gauges();
  // The senders' status events (status/event_log.hpp); a failure is logged, never fatal.
  if (auto events = store_.status_events().sweep(wall_ms()); !events) {
    log::error("status.sweep_failed", {{"error", events.status().message()}});
  } else if (events->removed > 0) {
    log::info("status.swept", {{"removed", std::to_string(events->removed)},
                               {"expired_unread", std::to_string(events->expired_unread)}});
  }
  return r;
}

}  // namespace ozghub::store
