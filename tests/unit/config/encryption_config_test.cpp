// The `encryption` and `retention` sections of the configuration.
#include "config/config.hpp"
#include "test_support.hpp"

namespace ozghub::config {
namespace {

constexpr char kBase[] = R"(
routing: { directory: routing.yaml }
adapters: { out: { type: transfer_dir, root: /srv/transfer } }
amqp: { dev_mode: true }
)";

Result<Config> with(const std::string& yaml) {
  return parse(std::string(kBase) + yaml, "hub.yaml", "/etc/ozg-hub");
}

TEST(EncryptionConfig, ReadsFileAndPkcs11Keks) {
  auto c = with(R"(
encryption:
  active_kek: hsm
  keks:
    old: { type: file, path: kek.key }
    hsm: { type: pkcs11, module: /usr/lib/softhsm/libsofthsm2.so, token: t, key: k,
           pin_file: pin }
retention: { payload: 36h, audit: 400d, sweep_interval: 500ms }
)");
  ASSERT_OK(c);
  EXPECT_EQ(c->encryption.active_kek, "hsm");
  ASSERT_EQ(c->encryption.keks.size(), 2u);
  EXPECT_EQ(c->encryption.keks[0].id, "old");
  EXPECT_EQ(c->encryption.keks[0].path, "/etc/ozg-hub/kek.key");
  EXPECT_FALSE(c->encryption.keks[0].create_if_missing);
  EXPECT_EQ(c->encryption.keks[1].pin_file, "/etc/ozg-hub/pin");
  EXPECT_EQ(c->retention.payload, std::chrono::hours(36));
  EXPECT_EQ(c->retention.audit, std::chrono::hours(400 * 24));
  EXPECT_EQ(c->retention.sweep_interval, std::chrono::milliseconds(500));
}

TEST(EncryptionConfig, DefaultsAndTheOnlyKekIsActive) {
  auto c = with("encryption: { keks: { k1: { type: file, path: /k } } }\n");
  ASSERT_OK(c);
  EXPECT_EQ(c->encryption.active_kek, "k1");
  EXPECT_EQ(c->retention.payload, std::chrono::hours(7 * 24));
  auto d = parse(kEmbeddedDefaults, "<defaults>", "/srv/hub");
  ASSERT_OK(d);
  ASSERT_EQ(d->encryption.keks.size(), 1u);
  EXPECT_TRUE(d->encryption.keks[0].create_if_missing);
  EXPECT_EQ(d->encryption.keks[0].path, "/srv/hub/ozg-hub-demo-kek.key");
}

TEST(EncryptionConfig, EveryMistakeIsReportedWithItsLine) {
  auto c = with(R"(encryption:
  active_kek: missing
  keks:
    "bad id!": { type: file, path: /k }
    nofile: { type: file }
    half: { type: pkcs11, module: /m }
    mixed: { type: file, path: /k, token: t }
    what: { type: vault }
    extra: { type: file, path: /k, colour: blue }
retention: { payload: 7 days, sweep_interval: 0s }
)");
  ASSERT_FALSE(c.is_ok());
  const std::string& m = c.status().message();
  for (const char* expected : {
           "hub.yaml:8: encryption.keks.bad id!: a key id is 1-64",
           "hub.yaml:9: encryption.keks.nofile: type file needs 'path'",
           "hub.yaml:10: encryption.keks.half: type pkcs11 needs",
           "hub.yaml:11: encryption.keks.mixed: module, token, key and pin_file are for type "
           "pkcs11",
           "hub.yaml:12: encryption.keks.what.type must be file or pkcs11",
           "hub.yaml:13: unknown key 'colour' in encryption.keks.extra",
           "hub.yaml:6: encryption.active_kek: 'missing' is not one of encryption.keks",
           "hub.yaml:14: retention.payload: '7 days' is not a duration",
           "hub.yaml:14: retention.sweep_interval must be more than 0",
       }) {
    EXPECT_NE(m.find(expected), std::string::npos) << expected << "\n" << m;
  }
}

TEST(EncryptionConfig, SeveralKeksNeedAnActiveOne) {
  auto c =
      with("encryption: { keks: { a: { type: file, path: /a }, b: { type: file, path: /b } } }\n");
  ASSERT_FALSE(c.is_ok());
  EXPECT_NE(c.status().message().find("encryption.active_kek is required"), std::string::npos);
}

TEST(EncryptionConfig, Durations) {
  EXPECT_EQ(*parse_duration("250ms"), std::chrono::milliseconds(250));
  EXPECT_EQ(*parse_duration("30s"), std::chrono::seconds(30));
  EXPECT_EQ(*parse_duration("15m"), std::chrono::minutes(15));
  EXPECT_EQ(*parse_duration("12h"), std::chrono::hours(12));
  EXPECT_EQ(*parse_duration("7d"), std::chrono::hours(168));
  for (const char* bad : {"", "7", "d", "-1d", "1.5h", "7 d", "1w", "9999999999999d"}) {
    EXPECT_FALSE(parse_duration(bad).is_ok()) << bad;
  }
}

}  // namespace
}  // namespace ozghub::config
