// The pipeline's metrics, declared in one place. Labels are bounded: `condition` is a rejection
// condition's label (common/condition.hpp), `stage` one of the names below.
//
//   ozghub_applications_received_total            submissions handed to the intake
//   ozghub_applications_accepted_total            settled as accepted (duplicates included)
//   ozghub_applications_rejected_total{condition} settled as rejected, by condition
//   ozghub_applications_duplicate_total           accepted as a resend of a committed application
//   ozghub_stage_duration_seconds{stage}          per application: validation (the XML against
//                                                 its schema), routing (the directory lookup),
//                                                 encryption (the case's data key, made and
//                                                 wrapped by the KEK, and its hashes; the
//                                                 sealing is part of the commit, the office's
//                                                 CMS part of the delivery)
//   ozghub_pipeline_backlog{stage}                applications waiting: intake (for a worker),
//                                                 commit (for the committer)
//   ozghub_commit_batch_size                      applications per group commit
//   ozghub_commit_sync_duration_seconds           one synced group commit (store.commit())
//
// received = accepted + rejected once everything received is settled.
//
// Cheap on the hot path: counters and gauges are atomics; a worker sorts its batch's durations
// into buckets itself (StageTimings) and takes each histogram's lock once per batch.
//
// Thread-safety: any thread; a StageTimings belongs to one thread.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <vector>

#include "common/condition.hpp"

namespace ozghub::pipeline {

enum class Stage { kValidation, kRouting, kEncryption };
inline constexpr std::size_t kStages = 3;

// The observations of one worker batch, sorted into the stage histograms' buckets.
class StageTimings {
 public:
  StageTimings();
  void observe(Stage stage, std::chrono::steady_clock::duration d);
  bool empty() const { return observed_ == 0; }

 private:
  friend class PipelineMetrics;
  struct Buckets {
    std::vector<double> counts;
    double sum = 0;
  };
  std::array<Buckets, kStages> stages_;
  std::size_t observed_ = 0;
};

class PipelineMetrics {
 public:
  explicit PipelineMetrics(prometheus::Registry& registry);

  void received() { received_.Increment(); }
  void accepted(bool duplicate) {
    accepted_.Increment();
    if (duplicate) duplicate_.Increment();
  }
  void rejected(Condition c) { rejected_[static_cast<std::size_t>(c)]->Increment(); }
  // Adds a batch's stage durations and clears `t`.
  void add(StageTimings& t);
  void intake_backlog(std::size_t n) { intake_backlog_.Set(static_cast<double>(n)); }
  void commit_backlog(std::size_t n) { commit_backlog_.Set(static_cast<double>(n)); }
  void committed(std::size_t batch_size, std::chrono::steady_clock::duration sync);

  // The stage histograms' bucket boundaries (seconds).
  static const prometheus::Histogram::BucketBoundaries& stage_buckets();

 private:
  prometheus::Counter& received_;
  prometheus::Counter& accepted_;
  prometheus::Counter& duplicate_;
  // One per condition (kInternalError is the last one).
  std::array<prometheus::Counter*, static_cast<std::size_t>(Condition::kInternalError) + 1>
      rejected_{};
  std::array<prometheus::Histogram*, kStages> stages_{};
  prometheus::Family<prometheus::Gauge>& backlog_;
  prometheus::Gauge& intake_backlog_;
  prometheus::Gauge& commit_backlog_;
  prometheus::Histogram& batch_size_;
  prometheus::Histogram& sync_duration_;
};

}  // namespace ozghub::pipeline
