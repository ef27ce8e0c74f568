#include "pipeline/committer.hpp"

#include <chrono>
#include <cstdlib>

#include "common/fault_point.hpp"
#include "common/log.hpp"
#include "common/thread_name.hpp"

namespace ozghub::pipeline {

Committer::Committer(store::Store& store, DeliverySink& deliveries, std::size_t max_batch,
                     PipelineMetrics* metrics)
    : store_(store), deliveries_(deliveries), max_batch_(max_batch), metrics_(metrics) {}

Committer::~Committer() { stop(); }

void Committer::start() {
  thread_ = std::thread([this] {
    set_thread_name("committer");
    run();
  });
}

void Committer::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Committer::submit(std::vector<PendingCase> cases) {
  {
    std::lock_guard lock(mutex_);
    if (queue_.empty()) {
      queue_ = std::move(cases);
    } else {
      for (auto& c : cases) queue_.push_back(std::move(c));
    }
    if (metrics_ != nullptr) metrics_->commit_backlog(queue_.size());
  }
  cv_.notify_one();
}

std::size_t Committer::backlog() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void Committer::run() {
  std::vector<PendingCase> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      if (queue_.size() <= max_batch_) {
        batch.swap(queue_);
      } else {
        auto split = queue_.begin() + static_cast<std::ptrdiff_t>(max_batch_);
        batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(split));
        queue_.erase(queue_.begin(), split);
      }
      if (metrics_ != nullptr) metrics_->commit_backlog(queue_.size());
    }
    commit_batch(batch);
    batch.clear();
  }
}

void Committer::commit_batch(std::vector<PendingCase>& batch) {
  std::vector<store::CommitItem> items(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    items[i].case_ = batch[i].case_.get();
    items[i].channels = batch[i].channels;
    if (batch[i].prepared) items[i].prepared = &*batch[i].prepared;
  }
  fault::hit(fault::Point::kBeforeCommit);
  const auto started = std::chrono::steady_clock::now();
  Status s = store_.commit(items, now_ms());
  if (!s.is_ok()) {
    // Fail-stop: never acknowledge what may not be on disk, never retry a failed sync (after a
    // failed fsync the page cache may claim data the disk lost). _Exit: no destructor may run
    // and settle anything, and no core dump of applications in memory.
    log::error("store.commit_failed", {{"error", s.message()}, {"exit_code", "74"}});
    std::_Exit(kExitStoreFailed);
  }
  fault::hit(fault::Point::kAfterCommit);
  if (metrics_ != nullptr) {
    metrics_->committed(batch.size(), std::chrono::steady_clock::now() - started);
  }
  VerdictBatch verdicts;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    PendingCase& p = batch[i];
    Verdict v;
    v.accepted = true;
    v.case_number = p.case_->case_number;
    v.office_id = p.case_->office_id;
    if (metrics_ != nullptr) metrics_->accepted(items[i].duplicate);
    if (items[i].duplicate) {
      log::info("case.duplicate", {{"case", v.case_number}});
    } else {
      for (std::size_t ch = 0; ch < p.channels.size(); ++ch) {
        store::OutboxEntry e;
        e.case_number = p.case_->case_number;
        e.channel = static_cast<std::uint16_t>(ch);
        e.office_id = p.case_->office_id;
        e.adapter = p.channels[ch].adapter;
        e.channel_key = p.channels[ch].key;
        deliveries_.push({std::move(e), p.case_});
      }
    }
    verdicts.add(p.origin, p.id, std::move(v));
  }
  accepted_.fetch_add(batch.size(), std::memory_order_relaxed);
  verdicts.flush();
}

}  // namespace ozghub::pipeline
