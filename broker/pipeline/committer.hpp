// The one place an application becomes durable: group commit.
//
// Workers hand over routed applications; the committer thread takes everything queued (up to
// max_batch), writes it in one synced batch, then settles each submission as accepted and
// schedules its deliveries. While one batch syncs the next one gathers, so the disk's sync rate
// limits batches per second, not applications per second.
//
// A failed synced write (disk full, I/O error) is fail-stop: nothing of that batch is
// acknowledged, the process logs store.commit_failed and exits with kExitStoreFailed at once; at
// restart the store's log recovers what was durable and senders redeliver the rest.
//
// Thread-safety: submit() from any thread; one internal thread does the commits.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/application.hpp"
#include "pipeline/outbox.hpp"
#include "pipeline/pipeline_metrics.hpp"
#include "pipeline/verdict.hpp"
#include "store/store.hpp"

namespace ozghub::pipeline {

// The exit code of the fail-stop (EX_IOERR, sysexits.h).
inline constexpr int kExitStoreFailed = 74;

struct PendingCase {
  std::shared_ptr<Case> case_;  // office_id and app set
  // Each of the office's channels (empty for a resend accepted before).
  std::vector<store::ChannelRef> channels;
  std::shared_ptr<Origin> origin;
  std::uint64_t id = 0;  // the origin's id for this submission
  // The case's data key and hashes, made by the intake worker (absent for a resend).
  std::optional<store::PreparedCase> prepared;
};

class Committer {
 public:
  // `metrics` (may be null) counts what is accepted and measures the commits.
  Committer(store::Store& store, DeliverySink& deliveries, std::size_t max_batch,
            PipelineMetrics* metrics = nullptr);
  ~Committer();
  Committer(const Committer&) = delete;
  Committer& operator=(const Committer&) = delete;

  void start();
  void stop();  // commits what is queued, then returns
  void submit(std::vector<PendingCase> cases);

  // For `ozg-hubctl status`: applications accepted since start (duplicates included), and how
  // many wait for the next batch.
  std::uint64_t accepted_total() const { return accepted_.load(std::memory_order_relaxed); }
  std::size_t backlog() const;

 private:
  void run();
  void commit_batch(std::vector<PendingCase>& batch);

  store::Store& store_;
  DeliverySink& deliveries_;
  std::size_t max_batch_;
  PipelineMetrics* metrics_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<PendingCase> queue_;
  std::atomic<std::uint64_t> accepted_{0};
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace ozghub::pipeline
