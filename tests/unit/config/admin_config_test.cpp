#include "config/config.hpp"
#include "test_support.hpp"

namespace ozghub::config {
namespace {

constexpr char kBase[] = R"(listen: "127.0.0.1:0"
amqp: { dev_mode: true }
routing: { directory: routing.yaml }
adapters: { out: { type: transfer_dir, root: /srv/transfer } }
)";

TEST(AdminConfig, ReadyCertificateDaysDefaultsToTwo) {
  auto c = parse(kBase, "hub.yaml", "/etc/ozg-hub");
  ASSERT_OK(c);
  EXPECT_EQ(c->admin.ready_certificate_days, 2);
}

TEST(AdminConfig, ReadsReadyCertificateDays) {
  auto c = parse(
      std::string(kBase) + "admin: { listen: \"127.0.0.1:9651\", ready_certificate_days: 14 }\n",
      "hub.yaml", "/etc/ozg-hub");
  ASSERT_OK(c);
  EXPECT_EQ(c->admin.ready_certificate_days, 14);
  EXPECT_EQ(c->admin.port, 9651);
}

TEST(AdminConfig, NegativeReadyCertificateDaysIsAnErrorWithItsLine) {
  auto c = parse(std::string(kBase) + "admin:\n  ready_certificate_days: -1\n", "hub.yaml",
                 "/etc/ozg-hub");
  ASSERT_FALSE(c.is_ok());
  EXPECT_NE(c.status().message().find("hub.yaml:6: admin.ready_certificate_days is out of range"),
            std::string::npos)
      << c.status().message();
}

}  // namespace
}  // namespace ozghub::config
