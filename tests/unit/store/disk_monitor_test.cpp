#include "store/disk_monitor.hpp"

#include <limits>
#include <vector>

#include "test_support.hpp"

namespace ozghub::store {
namespace {

using ozghub::testing::TempDir;

config::Storage policy(std::uint64_t bytes, int percent) {
  config::Storage p;
  p.min_free_bytes = bytes;
  p.min_free_percent = percent;
  return p;
}

TEST(DiskMonitor, TheThresholdIsTheLargerOfBytesAndPercent) {
  EXPECT_EQ(min_free_bytes(policy(1u << 30, 5), 100ull << 30), 5ull << 30);
  EXPECT_EQ(min_free_bytes(policy(1u << 30, 5), 10ull << 30), 1ull << 30);
  EXPECT_EQ(min_free_bytes(policy(0, 0), 10ull << 30), 0u);
  // No overflow on huge file systems.
  const std::uint64_t huge = std::numeric_limits<std::uint64_t>::max();
  EXPECT_EQ(min_free_bytes(policy(0, 100), huge), huge);
}

TEST(DiskMonitor, ReportsEachTransitionOnceAndSetsItsMetrics) {
  TempDir dir;
  prometheus::Registry registry;
  std::vector<bool> transitions;
  config::Storage p = policy(std::numeric_limits<std::uint64_t>::max(), 0);  // always low
  {
    DiskMonitor low(dir.path().string(), p, registry, [&](bool l) { transitions.push_back(l); });
    ASSERT_OK(low.check());
    EXPECT_TRUE(*low.check());
  }
  EXPECT_EQ(transitions, std::vector<bool>{true});
  prometheus::Registry registry2;
  transitions.clear();
  DiskMonitor fine(dir.path().string(), policy(0, 0), registry2,
                   [&](bool l) { transitions.push_back(l); });
  auto r = fine.check();
  ASSERT_OK(r);
  EXPECT_FALSE(*r);
  EXPECT_TRUE(transitions.empty());  // starts not low: nothing to report
  bool saw_free = false;
  for (const auto& family : registry2.Collect()) {
    if (family.name == "ozghub_disk_free_bytes") {
      saw_free = family.metric.at(0).gauge.value > 0;
    }
    if (family.name == "ozghub_disk_low") {
      EXPECT_EQ(family.metric.at(0).gauge.value, 0);
    }
  }
  EXPECT_TRUE(saw_free);
}

TEST(DiskMonitor, AMissingPathIsAnErrorAndChangesNothing) {
  prometheus::Registry registry;
  int calls = 0;
  DiskMonitor m("/nonexistent/ozg-hub-data", policy(0, 0), registry, [&](bool) { ++calls; });
  EXPECT_FALSE(m.check().is_ok());
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace ozghub::store
