// connectors and case_numbers: what parses, and what is refused.
#include "config/config.hpp"
#include "test_support.hpp"

namespace ozghub::config {
namespace {

constexpr char kRest[] = R"(
routing: { directory: routing.demo.yaml }
adapters: { out: { type: transfer_dir, root: /srv/transfer } }
)";

std::string config_dir() { return (ozghub::testing::source_dir() / "config").string(); }

Result<Config> parse_yaml(const std::string& yaml) {
  return parse(yaml + kRest, "hub.yaml", config_dir());
}

std::string errors_of(const std::string& yaml) {
  auto c = parse_yaml(yaml);
  return c.is_ok() ? std::string() : c.status().message();
}

#define EXPECT_ERROR(yaml, text) \
  EXPECT_NE(errors_of(yaml).find(text), std::string::npos) << errors_of(yaml)

TEST(ConnectorsConfig, OnlyConnectorsNeedNoListener) {
  auto c = parse_yaml(R"(connectors:
  - name: rabbit
    url: amqp://mq.example:5672
    source: /queue/applications
    credit_window: 64
    reconnect_initial_ms: 200
    reconnect_max_ms: 5000
case_numbers: { instance: 7 }
)");
  ASSERT_OK(c);
  ASSERT_EQ(c->connectors.size(), 1u);
  const ConnectorEntry& e = c->connectors.front();
  EXPECT_EQ(e.name, "rabbit");
  EXPECT_EQ(e.url, "amqp://mq.example:5672");
  EXPECT_EQ(e.source, "/queue/applications");
  EXPECT_EQ(e.credit_window, 64u);
  EXPECT_EQ(e.reconnect_initial.count(), 200);
  EXPECT_EQ(e.reconnect_max.count(), 5000);
  EXPECT_EQ(c->case_number_instance, 7);
  EXPECT_FALSE(c->amqp.tls.enabled);
  EXPECT_FALSE(c->amqp.dev_mode);
}

TEST(ConnectorsConfig, WithoutConnectorsSomebodyMustBeAbleToLogIn) {
  EXPECT_ERROR("connectors: []\n", "amqp.tls is required unless amqp.dev_mode");
}

TEST(ConnectorsConfig, EntriesAreChecked) {
  EXPECT_ERROR("connectors: [{ url: amqp://h:1, source: q }]\n", "connectors[] needs a 'name'");
  EXPECT_ERROR("connectors: [{ name: a, url: amqp://h:1 }]\n", "needs a 'source'");
  EXPECT_ERROR("connectors: [{ name: a, url: http://h:1, source: q }]\n",
               "url must be amqp://HOST:PORT or amqps://HOST:PORT");
  EXPECT_ERROR("connectors: [{ name: a, url: amqp://h, source: q }]\n", "url must be");
  EXPECT_ERROR("connectors: [{ name: a, url: amqp://h:1, source: q, user: u }]\n",
               "user (SASL PLAIN) needs an amqps url");
  EXPECT_ERROR("connectors: [{ name: a, url: amqps://h:1, source: q }]\n",
               "an amqps url needs 'ca'");
  EXPECT_ERROR(
      "connectors: [{ name: a, url: amqp://h:1, source: q }, { name: a, url: amqp://h:2, "
      "source: q }]\n",
      "the name 'a' is used twice");
  EXPECT_ERROR("connectors: [{ name: a, url: amqp://h:1, source: q, colour: red }]\n",
               "unknown key 'colour'");
  EXPECT_ERROR(
      "connectors: [{ name: a, url: amqp://h:1, source: q, reconnect_initial_ms: 9000, "
      "reconnect_max_ms: 100 }]\n",
      "reconnect_initial_ms must be at least 1 and at most reconnect_max_ms");
}

TEST(ConnectorsConfig, CaseNumberInstanceIsOneDigit) {
  const std::string c = "connectors: [{ name: a, url: amqp://h:1, source: q }]\n";
  EXPECT_ERROR(c + "case_numbers: { instance: 10 }\n", "case_numbers.instance must be a digit");
  auto unset = parse_yaml(c);
  ASSERT_OK(unset);
  EXPECT_EQ(unset->case_number_instance, -1);
}

}  // namespace
}  // namespace ozghub::config
