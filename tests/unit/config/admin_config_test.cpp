// admin.{token_file,tls} and log_format: what parses, and what is refused.
#include "config/config.hpp"
#include "test_support.hpp"

namespace ozghub::config {
namespace {

constexpr char kRest[] = R"(
amqp: { dev_mode: true }
routing: { directory: routing.demo.yaml }
adapters: { out: { type: transfer_dir, root: /srv/transfer } }
)";

std::string config_dir() { return (ozghub::testing::source_dir() / "config").string(); }

Result<Config> parse_with(const std::string& yaml) {
  return parse(yaml + kRest, "hub.yaml", config_dir());
}

std::string errors_of(const std::string& yaml) {
  auto c = parse_with(yaml);
  return c.is_ok() ? std::string() : c.status().message();
}

#define EXPECT_ERROR(yaml, text) \
  EXPECT_NE(errors_of(yaml).find(text), std::string::npos) << errors_of(yaml)

TEST(AdminConfig, NoTokenAndNoTlsByDefault) {
  auto c = parse_with("");
  ASSERT_OK(c);
  EXPECT_TRUE(c->admin.token_file.empty());
  EXPECT_FALSE(c->admin.tls.enabled);
  EXPECT_EQ(c->log_format, "auto");
}

TEST(AdminConfig, ReadsTokenFileAndTlsWithPathsRelativeToTheFile) {
  auto c = parse_with(R"(admin:
  listen: "127.0.0.1:9651"
  token_file: demo-passwords
  tls:
    certificate: demo-certs/hub-amqps.pem
    key: demo-certs/hub-amqps.key
    client_ca: demo-certs/amqps-demo-ca.pem
log_format: journal
)");
  ASSERT_OK(c);
  EXPECT_EQ(c->admin.port, 9651);
  EXPECT_EQ(c->admin.token_file, config_dir() + "/demo-passwords");
  EXPECT_TRUE(c->admin.tls.enabled);
  EXPECT_EQ(c->admin.tls.certificate, config_dir() + "/demo-certs/hub-amqps.pem");
  EXPECT_EQ(c->admin.tls.key, config_dir() + "/demo-certs/hub-amqps.key");
  EXPECT_EQ(c->admin.tls.client_ca, config_dir() + "/demo-certs/amqps-demo-ca.pem");
  EXPECT_EQ(c->log_format, "journal");
}

TEST(AdminConfig, RefusesWhatCannotWork) {
  EXPECT_ERROR("admin: { token_file: no-such-token }\n", "admin.token_file: cannot read");
  EXPECT_ERROR("admin: { tls: { certificate: demo-certs/hub-amqps.pem } }\n",
               "admin.tls needs 'certificate' and 'key'");
  EXPECT_ERROR(
      "admin: { tls: { certificate: demo-certs/hub-amqps.pem, key: demo-certs/hub-amqps.key, "
      "client_ca: nope.pem } }\n",
      "admin.tls.client_ca: cannot read");
  EXPECT_ERROR(
      "admin: { tls: { certificate: demo-certs/hub-amqps.pem, key: demo-certs/demo-portal.key } "
      "}\n",
      "admin.tls.key:");
  EXPECT_ERROR("admin: { tls: { cert: x } }\n", "unknown key 'cert' in admin.tls");
  EXPECT_ERROR("admin: { token: x }\n", "unknown key 'token' in admin");
  EXPECT_ERROR("log_format: syslog\n", "log_format must be auto, json or journal");
}

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
