#include "store/store_metrics.hpp"

#include <gtest/gtest.h>

#include "metric_values.hpp"
#include "test_support.hpp"

namespace ozghub::store {
namespace {

using ozghub::testing::metric_value;
using ozghub::testing::TempDir;

constexpr std::int64_t kNov23 = 1795420800000;  // 2026-11-23T08:00:00Z
const std::vector<ChannelRef> kOneChannel = {{"transfer", "k0"}};

Case make_case(std::string message_id) {
  Case c;
  c.office_id = "moeckern-buergeramt";
  c.app.message_id = std::move(message_id);
  c.app.sender = "portal";
  c.app.xml = "<Antrag/>";
  return c;
}

Status commit(Store& store, Case& c, std::int64_t at_ms) {
  std::vector<CommitItem> items(1);
  items[0].case_ = &c;
  items[0].channels = kOneChannel;
  return store.commit(items, at_ms);
}

OutboxEntry delivered(const Case& c) {
  OutboxEntry e;
  e.case_number = c.case_number;
  e.office_id = c.office_id;
  e.adapter = "transfer";
  e.channel_key = "k0";
  return e;
}

class StoreMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Store::open(dir_.path().string());
    ASSERT_OK(opened);
    store = std::move(*opened);
    m = std::make_unique<StoreMetrics>(*store, registry);
  }

  TempDir dir_;
  std::unique_ptr<Store> store;
  prometheus::Registry registry;
  std::unique_ptr<StoreMetrics> m;
};

TEST_F(StoreMetricsTest, OldestUndeliveredCaseAgeFollowsTheOutbox) {
  const char* kAge = "ozghub_oldest_undelivered_case_age_seconds";

  m->refresh(kNov23);
  EXPECT_EQ(metric_value(registry, kAge), 0.0);  // nothing owed

  Case first = make_case("m-1");
  Case second = make_case("m-2");
  ASSERT_TRUE(commit(*store, first, kNov23).is_ok());
  ASSERT_TRUE(commit(*store, second, kNov23 + 60'000).is_ok());
  m->refresh(kNov23 + 90'500);
  EXPECT_DOUBLE_EQ(*metric_value(registry, kAge), 90.5);  // the first case's commit

  ASSERT_TRUE(store->record_delivered(delivered(first)).is_ok());
  m->refresh(kNov23 + 90'500);
  EXPECT_DOUBLE_EQ(*metric_value(registry, kAge), 30.5);  // now the second is the oldest

  ASSERT_TRUE(store->record_delivered(delivered(second)).is_ok());
  m->refresh(kNov23 + 90'500);
  EXPECT_EQ(metric_value(registry, kAge), 0.0);
}

TEST_F(StoreMetricsTest, SizeCountsMemtablesAndFiles) {
  m->refresh(kNov23);
  const double empty = *metric_value(registry, "ozghub_store_size_bytes");
  for (int i = 0; i < 50; ++i) {
    Case c = make_case("m-" + std::to_string(i));
    c.app.xml = std::string(4096, 'x');
    ASSERT_TRUE(commit(*store, c, kNov23).is_ok());
  }
  m->refresh(kNov23);
  EXPECT_GT(*metric_value(registry, "ozghub_store_size_bytes"), empty + 50 * 4096 * 0.5);
  EXPECT_GE(*metric_value(registry, "ozghub_store_pending_compaction_bytes"), 0.0);
}

}  // namespace
}  // namespace ozghub::store
