#include "http/http_status.hpp"

#include <gtest/gtest.h>

#include <ctime>

namespace ozghub::adapters::http {
namespace {

using delivery::Outcome;
using std::chrono::milliseconds;
using std::chrono::seconds;

// 2015-10-21T07:28:00Z
const auto kNow = std::chrono::system_clock::from_time_t(1445412480);

TEST(HttpRetryAfter, DeltaSeconds) {
  EXPECT_EQ(parse_retry_after("120", kNow), milliseconds(120000));
  EXPECT_EQ(parse_retry_after("0", kNow), milliseconds(0));
  EXPECT_EQ(parse_retry_after("  7 \r\n", kNow), milliseconds(7000));
}

TEST(HttpRetryAfter, HugeDeltaIsCapped) {
  EXPECT_EQ(parse_retry_after("99999999999999999999999", kNow), kMaxRetryAfter);
  EXPECT_EQ(parse_retry_after("100000", kNow), kMaxRetryAfter);
}

TEST(HttpRetryAfter, HttpDateInAllThreeForms) {
  // 90 s after kNow, as IMF-fixdate, obsolete RFC 850 and asctime.
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:29:30 GMT", kNow), milliseconds(90000));
  EXPECT_EQ(parse_retry_after("Wednesday, 21-Oct-15 07:29:30 GMT", kNow), milliseconds(90000));
  EXPECT_EQ(parse_retry_after("Wed Oct 21 07:29:30 2015", kNow), milliseconds(90000));
}

TEST(HttpRetryAfter, DateInThePastMeansNow) {
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", kNow), milliseconds(0));
}

TEST(HttpRetryAfter, GarbageIsIgnored) {
  for (const char* bad :
       {"", "   ", "-5", "1.5", "10s", "soon", "12 34", "+3", "Wed, 99 Foo 2015 07:29:30 GMT"}) {
    EXPECT_FALSE(parse_retry_after(bad, kNow).has_value()) << "'" << bad << "'";
  }
}

struct StatusCase {
  long status;
  Outcome outcome;
};

TEST(HttpStatusMapping, Table) {
  const StatusCase table[] = {
      {200, Outcome::kDelivered},  {201, Outcome::kDelivered},  {202, Outcome::kDelivered},
      {204, Outcome::kDelivered},  {299, Outcome::kDelivered},  {301, Outcome::kRejected},
      {302, Outcome::kRejected},   {303, Outcome::kRejected},   {307, Outcome::kRejected},
      {308, Outcome::kRejected},   {400, Outcome::kRejected},   {401, Outcome::kRejected},
      {403, Outcome::kRejected},   {404, Outcome::kRejected},   {409, Outcome::kRejected},
      {413, Outcome::kRejected},   {415, Outcome::kRejected},   {422, Outcome::kRejected},
      {408, Outcome::kRetryLater}, {429, Outcome::kRetryLater}, {500, Outcome::kRetryLater},
      {502, Outcome::kRetryLater}, {503, Outcome::kRetryLater}, {504, Outcome::kRetryLater},
      {599, Outcome::kRetryLater}, {100, Outcome::kRetryLater}, {0, Outcome::kRetryLater},
      {600, Outcome::kRetryLater},
  };
  for (const auto& c : table) {
    const auto r = classify_status(c.status, std::nullopt);
    EXPECT_EQ(r.outcome, c.outcome) << c.status;
    if (c.outcome == Outcome::kDelivered) {
      EXPECT_TRUE(r.error.empty()) << c.status;
    } else {
      EXPECT_EQ(r.error.rfind("HTTP " + std::to_string(c.status), 0), 0u) << r.error;
    }
  }
}

TEST(HttpStatusMapping, RedirectSaysItIsNotFollowed) {
  const auto r = classify_status(302, milliseconds(5000));
  EXPECT_EQ(r.outcome, Outcome::kRejected);
  EXPECT_NE(r.error.find("not followed"), std::string::npos) << r.error;
  EXPECT_FALSE(r.retry_after.has_value());
}

TEST(HttpStatusMapping, RetryAfterOnlyForRetriedStatuses) {
  EXPECT_EQ(classify_status(503, milliseconds(3000)).retry_after, milliseconds(3000));
  EXPECT_EQ(classify_status(429, milliseconds(1000)).retry_after, milliseconds(1000));
  EXPECT_EQ(classify_status(408, milliseconds(10)).retry_after, milliseconds(10));
  EXPECT_FALSE(classify_status(400, milliseconds(3000)).retry_after.has_value());
  EXPECT_FALSE(classify_status(200, milliseconds(3000)).retry_after.has_value());
  EXPECT_FALSE(classify_status(503, std::nullopt).retry_after.has_value());
}

TEST(HttpTransportMapping, EveryFailureIsRetriedWithAPlainText) {
  EXPECT_EQ(classify_transport(TransportFailure::kConnect, "Connection refused", 100).error,
            "connect failed: Connection refused");
  EXPECT_EQ(classify_transport(TransportFailure::kTimeout, "", 2500).error,
            "timed out after 2500 ms");
  for (auto f :
       {TransportFailure::kTimeout, TransportFailure::kConnect, TransportFailure::kResolve,
        TransportFailure::kTls, TransportFailure::kConnectionLost, TransportFailure::kOther}) {
    const auto r = classify_transport(f, "x", 1);
    EXPECT_EQ(r.outcome, Outcome::kRetryLater);
    EXPECT_FALSE(r.error.empty());
    EXPECT_FALSE(r.retry_after.has_value());
  }
}

}  // namespace
}  // namespace ozghub::adapters::http
