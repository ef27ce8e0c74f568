// Case numbers with an instance digit (case_numbers.instance, scale-out).
#include "store/case_number.hpp"
#include "test_support.hpp"

namespace ozghub::store {
namespace {

constexpr std::int64_t kNov23 = 1795420800000;  // 2026-11-23T08:00:00Z

TEST(CaseNumberInstance, DigitAfterTheDateThenElevenDigits) {
  auto g = CaseNumberGenerator::restore("20261123:41");
  ASSERT_OK(g);
  g->set_instance(3);
  EXPECT_EQ(g->next(kNov23), "20261123300000000042");
  EXPECT_EQ(g->state(), "20261123:42");  // the digit is configuration, not state
  g->set_instance(-1);
  EXPECT_EQ(g->next(kNov23), "20261123000000000043");
}

TEST(CaseNumberInstance, TwoHubsNeverIssueTheSameNumber) {
  auto a = CaseNumberGenerator::restore("");
  auto b = CaseNumberGenerator::restore("");
  ASSERT_OK(a);
  ASSERT_OK(b);
  a->set_instance(1);
  b->set_instance(2);
  for (int i = 0; i < 100; ++i) EXPECT_NE(a->next(kNov23), b->next(kNov23));
}

TEST(CaseNumberInstance, RestoreSkipStaysInsideTheInstanceDigit) {
  // The clock went back a day after a restore, at the last second of the day: the largest
  // skip there is, still 11 digits.
  auto g = CaseNumberGenerator::restore("20261124:5");
  ASSERT_OK(g);
  g->set_instance(9);
  g->skip_after_restore(kNov23 + (16 * 3600 - 1) * 1000);
  const std::string n = g->next(kNov23);
  ASSERT_EQ(n.size(), 20u);
  EXPECT_EQ(n.substr(0, 9), "202611249");
}

}  // namespace
}  // namespace ozghub::store
