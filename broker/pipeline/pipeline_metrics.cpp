#include "pipeline/pipeline_metrics.hpp"

#include <algorithm>
#include <string>

#include "common/metric_builders.hpp"

namespace ozghub::pipeline {
namespace {

constexpr std::array<const char*, kStages> kStageNames = {"validation", "routing", "encryption"};

double seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

const prometheus::Histogram::BucketBoundaries& PipelineMetrics::stage_buckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1};
  return kBuckets;
}

StageTimings::StageTimings() {
  for (auto& s : stages_) s.counts.assign(PipelineMetrics::stage_buckets().size() + 1, 0);
}

void StageTimings::observe(Stage stage, std::chrono::steady_clock::duration d) {
  const double v = seconds(d);
  const auto& bounds = PipelineMetrics::stage_buckets();
  // The bucket of the first bound >= v, as prometheus::Histogram::Observe sorts.
  const auto bucket = std::lower_bound(bounds.begin(), bounds.end(), v) - bounds.begin();
  Buckets& b = stages_[static_cast<std::size_t>(stage)];
  b.counts[static_cast<std::size_t>(bucket)] += 1;
  b.sum += v;
  ++observed_;
}

PipelineMetrics::PipelineMetrics(prometheus::Registry& registry)
    : received_(single_counter(registry, "ozghub_applications_received_total",
                               "Applications received by the intake")),
      accepted_(single_counter(registry, "ozghub_applications_accepted_total",
                               "Applications settled as accepted, duplicates included")),
      duplicate_(single_counter(registry, "ozghub_applications_duplicate_total",
                                "Applications accepted again as a resend of a committed one")),
      backlog_(prometheus::BuildGauge()
                   .Name("ozghub_pipeline_backlog")
                   .Help("Applications waiting in a pipeline stage")
                   .Register(registry)),
      intake_backlog_(backlog_.Add({{"stage", "intake"}})),
      commit_backlog_(backlog_.Add({{"stage", "commit"}})),
      batch_size_(prometheus::BuildHistogram()
                      .Name("ozghub_commit_batch_size")
                      .Help("Applications per synced group commit")
                      .Register(registry)
                      .Add({}, prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128,
                                                                       256, 512, 1024, 2048})),
      sync_duration_(prometheus::BuildHistogram()
                         .Name("ozghub_commit_sync_duration_seconds")
                         .Help("Duration of one synced group commit")
                         .Register(registry)
                         .Add({}, prometheus::Histogram::BucketBoundaries{
                                      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                      0.5, 1, 2.5})) {
  auto& rejected = prometheus::BuildCounter()
                       .Name("ozghub_applications_rejected_total")
                       .Help("Applications settled as rejected, by rejection condition")
                       .Register(registry);
  for (std::size_t i = 0; i < rejected_.size(); ++i) {
    rejected_[i] =
        &rejected.Add({{"condition", std::string(condition_label(static_cast<Condition>(i)))}});
  }
  auto& stages = prometheus::BuildHistogram()
                     .Name("ozghub_stage_duration_seconds")
                     .Help("Duration of one pipeline stage for one application")
                     .Register(registry);
  for (std::size_t i = 0; i < kStages; ++i) {
    stages_[i] = &stages.Add({{"stage", kStageNames[i]}}, stage_buckets());
  }
}

void PipelineMetrics::add(StageTimings& t) {
  if (t.empty()) return;
  for (std::size_t i = 0; i < kStages; ++i) {
    auto& b = t.stages_[i];
    if (b.sum == 0 &&
        std::all_of(b.counts.begin(), b.counts.end(), [](double c) { return c == 0; })) {
      continue;
    }
    stages_[i]->ObserveMultiple(b.counts, b.sum);
    std::fill(b.counts.begin(), b.counts.end(), 0);
    b.sum = 0;
  }
  t.observed_ = 0;
}

void PipelineMetrics::committed(std::size_t batch_size, std::chrono::steady_clock::duration sync) {
  batch_size_.Observe(static_cast<double>(batch_size));
  sync_duration_.Observe(seconds(sync));
}

}  // namespace ozghub::pipeline
