#include "admin/certificate_expiry.hpp"

#include <gtest/gtest.h>

#include "crypto/cms.hpp"
#include "metric_values.hpp"
#include "test_support.hpp"

namespace ozghub::admin {
namespace {

using ozghub::testing::metric_value;
using ozghub::testing::source_dir;

constexpr std::int64_t kDay = 86400;
constexpr const char* kGauge = "ozghub_certificate_expiry_seconds";

std::shared_ptr<const crypto::Recipient> demo_recipient(const char* office) {
  auto r = crypto::Recipient::from_pem_file(
      (source_dir() / "config/demo-certs" / (std::string(office) + ".pem")).string());
  EXPECT_TRUE(r.is_ok()) << r.status().message();
  return *r;
}

std::shared_ptr<const pipeline::RoutingSnapshot> snapshot(
    std::vector<std::shared_ptr<const crypto::Recipient>> recipients) {
  auto s = std::make_shared<pipeline::RoutingSnapshot>();
  int i = 0;
  for (auto& r : recipients) s->recipients.emplace("office-" + std::to_string(i++), r);
  return s;
}

bool holds(const Readiness& r, std::string_view condition) {
  return r.conditions().contains(condition);
}

TEST(ReadinessProbes, AdaptersNotStartedUntilStarted) {
  Readiness r;
  probe_adapters(r, false);
  EXPECT_TRUE(holds(r, "adapters_not_started"));
  probe_adapters(r, true);
  EXPECT_FALSE(holds(r, "adapters_not_started"));
  EXPECT_TRUE(holds(r, "starting"));  // the others stay as they are
}

TEST(ReadinessProbes, CertificateExpiringWithinTheConfiguredDays) {
  Readiness r;
  const std::int64_t now = 1'800'000'000;
  probe_certificates(r, now + 2 * kDay + 1, now, 2);
  EXPECT_FALSE(holds(r, "certificate_expiring"));
  probe_certificates(r, now + 2 * kDay - 1, now, 2);
  EXPECT_TRUE(holds(r, "certificate_expiring"));
  probe_certificates(r, now - 1, now, 0);  // expired: not ready even with 0 days
  EXPECT_TRUE(holds(r, "certificate_expiring"));
  probe_certificates(r, now + 1, now, 0);
  EXPECT_FALSE(holds(r, "certificate_expiring"));
  probe_certificates(r, now + 2 * kDay - 1, now, 2);
  probe_certificates(r, std::nullopt, now, 2);  // no office has a certificate
  EXPECT_FALSE(holds(r, "certificate_expiring"));
}

TEST(CertificateExpiry, EarliestCertificateOfTheSnapshotInForce) {
  auto moeckern = demo_recipient("moeckern-buergeramt");
  auto jerichow = demo_recipient("jerichower-land-fahrerlaubnis");
  const std::int64_t earliest = std::min(moeckern->not_after_unix(), jerichow->not_after_unix());
  EXPECT_EQ(earliest_not_after(*snapshot({moeckern, jerichow})), earliest);
  EXPECT_EQ(earliest_not_after(*snapshot({})), std::nullopt);

  pipeline::RoutingState routing;
  routing.set(snapshot({moeckern, jerichow}));
  Readiness readiness;
  prometheus::Registry registry;
  CertificateExpiry expiry(routing, readiness, 2, registry);

  expiry.refresh(earliest - 10 * kDay);
  EXPECT_EQ(metric_value(registry, kGauge), 10.0 * kDay);
  EXPECT_FALSE(holds(readiness, "certificate_expiring"));
  expiry.refresh(earliest - kDay);
  EXPECT_EQ(metric_value(registry, kGauge), 1.0 * kDay);
  EXPECT_TRUE(holds(readiness, "certificate_expiring"));

  // A reload without certificates: no sample, ready again.
  routing.set(snapshot({}));
  expiry.refresh(earliest - kDay);
  EXPECT_EQ(metric_value(registry, kGauge), std::nullopt);
  EXPECT_FALSE(holds(readiness, "certificate_expiring"));

  // And back with one.
  routing.set(snapshot({moeckern}));
  expiry.refresh(moeckern->not_after_unix() + 5);
  EXPECT_EQ(metric_value(registry, kGauge), -5.0);
  EXPECT_TRUE(holds(readiness, "certificate_expiring"));
}

}  // namespace
}  // namespace ozghub::admin
