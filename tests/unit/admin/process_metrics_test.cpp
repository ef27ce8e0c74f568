#include "admin/process_metrics.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "metric_values.hpp"

namespace ozghub::admin {
namespace {

using ozghub::testing::metric_value;

TEST(ProcessMetrics, ResidentMemoryGrowsWithTouchedMemory) {
  const auto before = resident_memory_bytes();
  ASSERT_TRUE(before.has_value());
  EXPECT_GT(*before, 1u << 20);
  std::vector<char> block(64 << 20, 1);  // touched: resident
  const auto after = resident_memory_bytes();
  ASSERT_TRUE(after.has_value());
  EXPECT_GT(*after, *before + (32u << 20));
  EXPECT_EQ(block[12345], 1);
}

TEST(ProcessMetrics, StartTimeIsBeforeNowAndRecent) {
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const auto start = process_start_time_seconds();
  ASSERT_TRUE(start.has_value());
  EXPECT_LE(*start, now + 1);
  EXPECT_GT(*start, now - 24 * 3600);  // this test binary started less than a day ago
}

TEST(ProcessMetrics, ExposesRssStartTimeAndBuildInfo) {
  prometheus::Registry registry;
  ProcessMetrics m(registry);
  EXPECT_GT(*metric_value(registry, "ozghub_process_resident_memory_bytes"), 0.0);
  EXPECT_GT(*metric_value(registry, "ozghub_process_start_time_seconds"), 1.7e9);
  ASSERT_FALSE(build_version().empty());
  EXPECT_EQ(
      metric_value(registry, "ozghub_build_info", {{"version", std::string(build_version())}}),
      1.0);
}

}  // namespace
}  // namespace ozghub::admin
