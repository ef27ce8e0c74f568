// The thread that enforces retention and finishes key rotation (Store::sweep): every
// retention.sweep_interval it deletes the cases whose retention is over (data key first),
// expires old audit trails and re-wraps data keys still held by a KEK that is no longer the
// active one (in rounds of kRewrapBatch, back to back until none is left). wake() runs a round
// at once (after a reload that changed the active KEK). A failed round is logged and retried at
// the next interval; nothing on the data path waits for it.
//
// Metrics (declared here, the sweeper owns them):
//   ozghub_store_data_keys{kek}              data keys stored per KEK id (operator-chosen ids,
//                                            few): an old KEK may be removed once it shows 0
//   ozghub_cases_deleted_total               cases deleted after their retention
//   ozghub_audit_trails_expired_total        audit trails deleted after retention.audit
//   ozghub_data_keys_rewrapped_total         data keys moved to the active KEK
//   ozghub_retention_sweep_failures_total    rounds that failed (see the log)
//
// Thread-safety: start(), stop() from one thread; wake() and sweep_once() from any.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <chrono>
#include <mutex>

#include "common/periodic.hpp"
#include "store/store.hpp"

namespace ozghub::store {

class RetentionSweeper {
 public:
  static constexpr std::size_t kRewrapBatch = 1000;

  RetentionSweeper(Store& store, crypto::KeyringState& keys, std::chrono::milliseconds interval,
                   prometheus::Registry& registry);
  ~RetentionSweeper();
  RetentionSweeper(const RetentionSweeper&) = delete;
  RetentionSweeper& operator=(const RetentionSweeper&) = delete;

  void start();
  void stop();
  void wake();
  // One round, as the thread runs it; updates the metrics.
  Result<SweepResult> sweep_once();

 private:
  void update_key_gauges();

  Store& store_;
  crypto::KeyringState& keys_;
  std::chrono::milliseconds interval_;
  prometheus::Family<prometheus::Gauge>& data_keys_;
  prometheus::Counter& deleted_;
  prometheus::Counter& expired_;
  prometheus::Counter& rewrapped_;
  prometheus::Counter& failures_;
  std::mutex sweep_mutex_;  // one round at a time
  Periodic periodic_;
};

}  // namespace ozghub::store
