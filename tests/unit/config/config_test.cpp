#include "config/config.hpp"

#include "test_support.hpp"

namespace ozghub::config {
namespace {

TEST(Config, EmbeddedDefaultsAreValid) {
  auto c = parse(kEmbeddedDefaults, "<defaults>", "/srv/hub");
  ASSERT_OK(c);
  EXPECT_EQ(c->listen_port, 5672);
  EXPECT_EQ(c->data_dir, "/srv/hub/ozg-hub-data");
  EXPECT_EQ(c->routing_directory, "/srv/hub/config/routing.demo.yaml");
  ASSERT_EQ(c->adapters.size(), 1u);
  EXPECT_EQ(c->adapters[0].type, "transfer_dir");
  EXPECT_EQ(c->adapters[0].params.at("root"), "ozg-hub-data/transfer");
  EXPECT_EQ(c->adapters[0].base_dir, "/srv/hub");  // the adapter registry resolves the path
  EXPECT_EQ(c->adapters[0].origin, "<defaults>:12");
  EXPECT_TRUE(c->amqp.dev_mode);
}

TEST(Config, ReadsEveryKey) {
  auto c = parse(R"(
listen: "127.0.0.1:0"
amqp: { dev_mode: true }
data_dir: /var/lib/ozg-hub
routing: { directory: routing.yaml }
adapters: { out: { type: transfer_dir, root: /srv/transfer } }
limits: { max_message_bytes: 1000, max_xml_bytes: 500, max_attachments: 3, max_xml_depth: 20,
          credit_window: 10, max_inflight: 100 }
workers: 3
delivery_threads: 2
commit: { max_batch: 64 }
retry: { max_attempts: 4, initial_backoff_ms: 10, max_backoff_ms: 100, multiplier: 3, jitter: 0.1 }
log_level: debug
)",
                 "hub.yaml", "/etc/ozg-hub");
  ASSERT_OK(c);
  EXPECT_EQ(c->listen_host, "127.0.0.1");
  EXPECT_EQ(c->listen_port, 0);
  EXPECT_EQ(c->routing_directory, "/etc/ozg-hub/routing.yaml");
  EXPECT_EQ(c->limits.max_xml_depth, 20);
  EXPECT_EQ(c->limits.credit_window, 10u);
  EXPECT_EQ(c->workers, 3);
  EXPECT_EQ(c->commit_max_batch, 64u);
  EXPECT_EQ(c->retry.max_attempts, 4);
  EXPECT_EQ(c->retry.initial_backoff.count(), 10);
  EXPECT_DOUBLE_EQ(c->retry.multiplier, 3.0);
}

TEST(Config, ReportsAllErrorsWithLines) {
  // The adapter check stands in for the daemon's (delivery::check_instances).
  const AdapterCheck check = [](const Plugins&, const std::vector<AdapterInstance>& instances) {
    std::vector<std::string> errors;
    for (const auto& i : instances) errors.push_back(i.origin + ": unknown type " + i.type);
    return errors;
  };
  auto c = parse(R"(listen: "nowhere"
routing: { directory: r.yaml }
adapters: { out: { type: carrier_pigeon } }
limits: { credit_window: lots }
colour: blue
)",
                 "hub.yaml", "/", check);
  ASSERT_FALSE(c.is_ok());
  const std::string& m = c.status().message();
  EXPECT_NE(m.find("hub.yaml:1: listen must be HOST:PORT"), std::string::npos) << m;
  EXPECT_NE(m.find("hub.yaml:3:"), std::string::npos) << m;
  EXPECT_NE(m.find("carrier_pigeon"), std::string::npos) << m;
  EXPECT_NE(m.find("hub.yaml:4: limits.credit_window: 'lots' is not a valid value"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("hub.yaml:5: unknown key 'colour'"), std::string::npos) << m;
}

TEST(Config, SyntaxErrorNamesTheLine) {
  auto c = parse("listen: \"a:1\"\nadapters: [unclosed\n", "bad.yaml", "/");
  ASSERT_FALSE(c.is_ok());
  EXPECT_NE(c.status().message().find("bad.yaml:"), std::string::npos);
}

}  // namespace
}  // namespace ozghub::config

namespace ozghub::config {
namespace {

// The documented example must stay in step with the parser: every key in it is known.
TEST(Config, ExampleFileDocumentsValidKeys) {
  auto c = load_file((ozghub::testing::source_dir() / "config/ozg-hub.example.yaml").string());
  ASSERT_OK(c);
  Config defaults;
  EXPECT_EQ(c->limits.max_inflight, defaults.limits.max_inflight);
  EXPECT_EQ(c->retry.max_attempts, defaults.retry.max_attempts);
  EXPECT_EQ(c->commit_max_batch, defaults.commit_max_batch);
  EXPECT_EQ(c->routing_directory,
            (ozghub::testing::source_dir() / "config/routing.demo.yaml").string());
}

}  // namespace
}  // namespace ozghub::config
