#include "pipeline/backoff.hpp"

#include "test_support.hpp"

namespace ozghub::pipeline {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, GrowsExponentiallyAndIsCapped) {
  config::RetryPolicy p;
  p.initial_backoff = milliseconds(1000);
  p.max_backoff = milliseconds(60000);
  p.multiplier = 2.0;
  p.jitter = 0.0;
  EXPECT_EQ(backoff_delay(p, 1, 0.5), milliseconds(1000));
  EXPECT_EQ(backoff_delay(p, 2, 0.5), milliseconds(2000));
  EXPECT_EQ(backoff_delay(p, 3, 0.5), milliseconds(4000));
  EXPECT_EQ(backoff_delay(p, 7, 0.5), milliseconds(60000));
  EXPECT_EQ(backoff_delay(p, 50, 0.5), milliseconds(60000));
}

TEST(Backoff, JitterStaysWithinItsBand) {
  config::RetryPolicy p;
  p.initial_backoff = milliseconds(1000);
  p.jitter = 0.2;
  EXPECT_EQ(backoff_delay(p, 1, 0.0), milliseconds(800));
  EXPECT_EQ(backoff_delay(p, 1, 0.5), milliseconds(1000));
  EXPECT_EQ(backoff_delay(p, 1, 0.999999), milliseconds(1200));
}

}  // namespace
}  // namespace ozghub::pipeline
