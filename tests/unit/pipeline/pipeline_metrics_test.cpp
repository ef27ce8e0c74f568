#include "pipeline/pipeline_metrics.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "metric_values.hpp"
#include "pipeline/committer.hpp"
#include "test_support.hpp"

namespace ozghub::pipeline {
namespace {

using ozghub::testing::metric_value;
using ozghub::testing::TempDir;
using std::chrono::microseconds;

TEST(PipelineMetrics, EveryRejectionConditionIsExposedFromTheStart) {
  prometheus::Registry registry;
  PipelineMetrics m(registry);
  for (auto c : {Condition::kMissingProperty, Condition::kSchemaViolation, Condition::kUnauthorized,
                 Condition::kInternalError}) {
    EXPECT_EQ(metric_value(registry, "ozghub_applications_rejected_total",
                           {{"condition", std::string(condition_label(c))}}),
              0.0);
  }
  m.rejected(Condition::kSchemaViolation);
  m.rejected(Condition::kSchemaViolation);
  m.rejected(Condition::kInternalError);
  EXPECT_EQ(metric_value(registry, "ozghub_applications_rejected_total",
                         {{"condition", "schema_violation"}}),
            2.0);
  EXPECT_EQ(metric_value(registry, "ozghub_applications_rejected_total",
                         {{"condition", "internal_error"}}),
            1.0);
  EXPECT_EQ(
      metric_value(registry, "ozghub_applications_rejected_total", {{"condition", "unknown_area"}}),
      0.0);
}

TEST(PipelineMetrics, DuplicatesAreCountedAsAcceptedToo) {
  prometheus::Registry registry;
  PipelineMetrics m(registry);
  m.received();
  m.received();
  m.accepted(false);
  m.accepted(true);
  EXPECT_EQ(metric_value(registry, "ozghub_applications_received_total"), 2.0);
  EXPECT_EQ(metric_value(registry, "ozghub_applications_accepted_total"), 2.0);
  EXPECT_EQ(metric_value(registry, "ozghub_applications_duplicate_total"), 1.0);
}

TEST(PipelineMetrics, BacklogsPerStage) {
  prometheus::Registry registry;
  PipelineMetrics m(registry);
  m.intake_backlog(7);
  m.commit_backlog(3);
  EXPECT_EQ(metric_value(registry, "ozghub_pipeline_backlog", {{"stage", "intake"}}), 7.0);
  EXPECT_EQ(metric_value(registry, "ozghub_pipeline_backlog", {{"stage", "commit"}}), 3.0);
}

// A batch of timings lands in the same buckets as one Observe() per value would put them.
TEST(PipelineMetrics, StageTimingsMatchObservingEachValue) {
  prometheus::Registry registry;
  PipelineMetrics m(registry);
  prometheus::Histogram reference(PipelineMetrics::stage_buckets());
  StageTimings t;
  EXPECT_TRUE(t.empty());
  for (auto us : {0, 50, 51, 99, 100, 2500, 7000, 2000000}) {
    t.observe(Stage::kValidation, microseconds(us));
    reference.Observe(std::chrono::duration<double>(microseconds(us)).count());
  }
  t.observe(Stage::kEncryption, microseconds(300));
  m.add(t);
  EXPECT_TRUE(t.empty());
  m.add(t);  // cleared: adds nothing

  for (const auto& family : registry.Collect()) {
    if (family.name != "ozghub_stage_duration_seconds") continue;
    ASSERT_EQ(family.metric.size(), 3u);
    for (const auto& metric : family.metric) {
      const std::string stage = metric.label.at(0).value;
      const auto& h = metric.histogram;
      if (stage == "validation") {
        const auto want = reference.Collect().histogram;
        EXPECT_EQ(h.sample_count, want.sample_count);
        EXPECT_DOUBLE_EQ(h.sample_sum, want.sample_sum);
        ASSERT_EQ(h.bucket.size(), want.bucket.size());
        for (std::size_t i = 0; i < h.bucket.size(); ++i) {
          EXPECT_EQ(h.bucket[i].cumulative_count, want.bucket[i].cumulative_count) << i;
        }
      } else if (stage == "encryption") {
        EXPECT_EQ(h.sample_count, 1u);
      } else {
        EXPECT_EQ(stage, "routing");
        EXPECT_EQ(h.sample_count, 0u);
      }
    }
  }
}

class CollectingOrigin final : public Origin {
 public:
  void settle(std::vector<std::pair<std::uint64_t, Verdict>> verdicts) override {
    std::lock_guard lock(mutex_);
    settled_ += verdicts.size();
    cv_.notify_all();
  }
  void wait_for(std::size_t n) {
    std::unique_lock lock(mutex_);
    ASSERT_TRUE(cv_.wait_for(lock, std::chrono::seconds(30), [&] { return settled_ >= n; }));
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::size_t settled_ = 0;
};

class NullSink final : public DeliverySink {
 public:
  void push(DeliveryTask) override {}
};

PendingCase pending(std::uint64_t id, const std::string& message_id,
                    std::shared_ptr<Origin> origin) {
  PendingCase p;
  p.case_ = std::make_shared<Case>();
  p.case_->office_id = "amt";
  p.case_->app.message_id = message_id;
  p.case_->app.xml = "<x/>";
  p.channels = {{"transfer", "k"}};
  p.origin = std::move(origin);
  p.id = id;
  return p;
}

TEST(PipelineMetrics, CommitterCountsAcceptedDuplicatesAndMeasuresTheBatch) {
  TempDir dir;
  auto store = store::Store::open(dir.path().string());
  ASSERT_OK(store);
  prometheus::Registry registry;
  PipelineMetrics m(registry);
  NullSink sink;
  auto origin = std::make_shared<CollectingOrigin>();
  {
    Committer committer(**store, sink, 16, &m);
    std::vector<PendingCase> batch;
    batch.push_back(pending(1, "m-1", origin));
    batch.push_back(pending(2, "m-2", origin));
    batch.push_back(pending(3, "m-1", origin));  // a resend of m-1 in the same batch
    committer.submit(std::move(batch));
    EXPECT_EQ(metric_value(registry, "ozghub_pipeline_backlog", {{"stage", "commit"}}), 3.0);
    committer.start();
    origin->wait_for(3);
  }
  EXPECT_EQ(metric_value(registry, "ozghub_applications_accepted_total"), 3.0);
  EXPECT_EQ(metric_value(registry, "ozghub_applications_duplicate_total"), 1.0);
  EXPECT_EQ(metric_value(registry, "ozghub_commit_batch_size"), 1.0);
  EXPECT_EQ(metric_value(registry, "ozghub_commit_batch_size", {}, true), 3.0);
  EXPECT_EQ(metric_value(registry, "ozghub_commit_sync_duration_seconds"), 1.0);
  EXPECT_GT(*metric_value(registry, "ozghub_commit_sync_duration_seconds", {}, true), 0.0);
  EXPECT_EQ(metric_value(registry, "ozghub_pipeline_backlog", {{"stage", "commit"}}), 0.0);
}

}  // namespace
}  // namespace ozghub::pipeline
