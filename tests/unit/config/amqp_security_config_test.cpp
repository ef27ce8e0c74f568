// amqp.{dev_mode,tls,sasl}, senders and connectors: what parses, and every combination that is
// refused.
#include "config/config.hpp"
#include "test_support.hpp"

namespace ozghub::config {
namespace {

// The rest of a valid file; the tests add the AMQP part.
constexpr char kRest[] = R"(
routing: { directory: routing.demo.yaml }
adapters: { out: { type: transfer_dir, root: /srv/transfer } }
)";

// The demo PKI and password file (config/demo-certs, config/demo-passwords).
constexpr char kTls[] = R"(amqp:
  tls:
    listen: "127.0.0.1:5999"
    certificate: demo-certs/hub-amqps.pem
    key: demo-certs/hub-amqps.key
    client_ca: demo-certs/amqps-demo-ca.pem
  sasl:
    mechanisms: [EXTERNAL, PLAIN]
    password_file: demo-passwords
)";

std::string config_dir() { return (ozghub::testing::source_dir() / "config").string(); }

Result<Config> parse_amqp(const std::string& yaml) {
  return parse(yaml + kRest, "hub.yaml", config_dir());
}

// The error text, or "" when the file parsed.
std::string errors_of(const std::string& yaml) {
  auto c = parse_amqp(yaml);
  return c.is_ok() ? std::string() : c.status().message();
}

#define EXPECT_ERROR(yaml, text) \
  EXPECT_NE(errors_of(yaml).find(text), std::string::npos) << errors_of(yaml)

TEST(AmqpSecurityConfig, TlsSasAndSendersParse) {
  auto c = parse_amqp(std::string(kTls) + R"(senders:
  - name: portal
    certificate_subject: "CN=demo-portal,O=Demo Portal,C=DE"
    services: "*"
  - name: form
    plain_user: form
    addresses: [applications]
    services: ["99085001000000", "99050012104000"]
)");
  ASSERT_OK(c);
  EXPECT_FALSE(c->amqp.dev_mode);
  EXPECT_TRUE(c->amqp.tls.enabled);
  EXPECT_EQ(c->amqp.tls.host, "127.0.0.1");
  EXPECT_EQ(c->amqp.tls.port, 5999);
  EXPECT_EQ(c->amqp.tls.key, config_dir() + "/demo-certs/hub-amqps.key");
  EXPECT_EQ(c->amqp.tls.origin, "hub.yaml:3");  // the mapping starts at its first key
  EXPECT_TRUE(c->amqp.external);
  EXPECT_TRUE(c->amqp.plain);
  EXPECT_EQ(c->amqp.password_file, config_dir() + "/demo-passwords");
  ASSERT_EQ(c->senders.size(), 2u);
  EXPECT_EQ(c->senders[0].name, "portal");
  EXPECT_TRUE(c->senders[0].all_services);
  EXPECT_EQ(c->senders[0].addresses, std::vector<std::string>{"applications"});
  EXPECT_EQ(c->senders[1].plain_user, "form");
  EXPECT_FALSE(c->senders[1].all_services);
  EXPECT_EQ(c->senders[1].services.size(), 2u);
}

TEST(AmqpSecurityConfig, DevModeNeedsNoTlsNorSenders) {
  auto c = parse_amqp("listen: \"127.0.0.1:0\"\namqp: { dev_mode: true }\n");
  ASSERT_OK(c);
  EXPECT_TRUE(c->amqp.dev_mode);
  EXPECT_FALSE(c->amqp.tls.enabled);
}

TEST(AmqpSecurityConfig, NobodyCouldLogIn) {
  EXPECT_ERROR("", "hub.yaml:2: amqp.tls is required unless amqp.dev_mode is true");
  EXPECT_ERROR(kTls, "senders is empty: nobody may submit");
  EXPECT_ERROR("listen: \"0.0.0.0:5672\"\n" + std::string(kTls),
               "hub.yaml:1: listen is the plaintext port, opened only with amqp.dev_mode");
}

TEST(AmqpSecurityConfig, SaslNeedsTls) {
  EXPECT_ERROR(
      "amqp:\n  dev_mode: true\n  sasl: { mechanisms: [PLAIN], password_file: "
      "demo-passwords }\n",
      "hub.yaml:3: amqp.sasl.mechanisms: EXTERNAL and PLAIN need amqp.tls");
  EXPECT_ERROR("amqp:\n  dev_mode: true\n  sasl: { mechanisms: [ANONYMOUS] }\n",
               "'ANONYMOUS' is not EXTERNAL or PLAIN");
  EXPECT_ERROR(R"(amqp:
  tls: { certificate: demo-certs/hub-amqps.pem, key: demo-certs/hub-amqps.key }
  sasl: { mechanisms: [EXTERNAL, PLAIN] }
)",
               "EXTERNAL needs amqp.tls.client_ca");
  EXPECT_ERROR(R"(amqp:
  tls: { certificate: demo-certs/hub-amqps.pem, key: demo-certs/hub-amqps.key }
  sasl: { mechanisms: [PLAIN] }
)",
               "hub.yaml:3: amqp.sasl: PLAIN needs password_file");
  EXPECT_ERROR(R"(amqp:
  tls: { certificate: demo-certs/hub-amqps.pem, key: demo-certs/hub-amqps.key }
  sasl: { mechanisms: [PLAIN], password_file: no-such-file }
)",
               "amqp.sasl.password_file: cannot read");
}

TEST(AmqpSecurityConfig, ServerKeyMustMatchAndBeStrong) {
  EXPECT_ERROR(R"(amqp:
  dev_mode: true
  tls:
    certificate: demo-certs/moeckern-buergeramt.pem
    key: demo-certs/hub-amqps.key
)",
               "hub.yaml:5: amqp.tls.key: the key");
  EXPECT_ERROR("amqp: { dev_mode: true, tls: { key: demo-certs/hub-amqps.key } }\n",
               "amqp.tls needs 'certificate' and 'key'");
  // RSA-3072 is enough (the demo office's key pair).
  EXPECT_EQ(errors_of(R"(amqp:
  dev_mode: true
  tls:
    certificate: demo-certs/moeckern-buergeramt.pem
    key: demo-certs/moeckern-buergeramt.key
  sasl: { mechanisms: [PLAIN], password_file: demo-passwords }
)"),
            "");
}

TEST(AmqpSecurityConfig, SenderEntriesAreChecked) {
  const std::string e = errors_of(std::string(kTls) + R"(senders:
  - certificate_subject: "CN=a"
    services: "*"
  - name: b
    services: "*"
  - name: c
    plain_user: c
    services: ["123"]
  - name: c
    plain_user: c
    addresses: [elsewhere]
  - name: d
    certificate_subject: "CN=a"
    services: "*"
)");
  for (const char* want :
       {"hub.yaml:11: senders[] needs a 'name'",
        "hub.yaml:13: senders[] 'b' needs certificate_subject or plain_user",
        "hub.yaml:17: senders[].services: '123' is not a 14-digit LeiKa key",
        "hub.yaml:18: senders[] 'c' needs 'services'",
        "hub.yaml:20: senders[].addresses: unknown address 'elsewhere'",
        "hub.yaml:18: senders[]: the name 'c' is used twice",
        "hub.yaml:18: senders[]: the plain_user of 'c' is used twice",
        "hub.yaml:21: senders[]: the certificate_subject of 'd' is used twice"}) {
    EXPECT_NE(e.find(want), std::string::npos) << want << "\n" << e;
  }
}

TEST(AmqpSecurityConfig, SenderIdentityNeedsItsMechanism) {
  EXPECT_ERROR(R"(amqp:
  tls: { certificate: demo-certs/hub-amqps.pem, key: demo-certs/hub-amqps.key }
  sasl: { mechanisms: [PLAIN], password_file: demo-passwords }
senders:
  - { name: a, certificate_subject: "CN=a", services: "*" }
)",
               "certificate_subject needs SASL EXTERNAL over amqp.tls");
  EXPECT_ERROR(R"(amqp:
  tls: { certificate: demo-certs/hub-amqps.pem, key: demo-certs/hub-amqps.key,
         client_ca: demo-certs/amqps-demo-ca.pem }
senders:
  - { name: a, plain_user: a, services: "*" }
)",
               "plain_user needs SASL PLAIN");
}

// connectors (scale-out, ingress/broker_connector.hpp) and case_numbers.

TEST(ConnectorsConfig, OnlyConnectorsNeedNoListener) {
  auto c = parse_amqp(R"(connectors:
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
  EXPECT_ERROR("connectors: [{ name: a, url: \"amqps://u:secret@h:1\", source: q, ca: c }]\n",
               "url must not carry credentials");
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
  auto unset = parse_amqp(c);
  ASSERT_OK(unset);
  EXPECT_EQ(unset->case_number_instance, -1);
}

}  // namespace
}  // namespace ozghub::config
