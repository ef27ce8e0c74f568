#include "config/reloader.hpp"

#include <prometheus/registry.h>

#include <optional>

#include "registry.hpp"
#include "test_support.hpp"

namespace ozghub::config {
namespace {

using ozghub::testing::read_file;
using ozghub::testing::source_dir;
using ozghub::testing::TempDir;
using ozghub::testing::write_file;

// The demo routing directory, copied so that a test can change it.
std::string demo_routing() {
  std::string text = read_file(source_dir() / "config" / "routing.demo.yaml");
  auto replace = [&](const std::string& from, const std::string& to) {
    for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos)) {
      text.replace(pos, from.size(), to);
      pos += to.size();
    }
  };
  replace("../../shared/corpus", ozghub::testing::corpus_dir().string());
  replace("demo-certs/", (source_dir() / "config" / "demo-certs").string() + "/");
  return text;
}

double sample(prometheus::Registry& registry, const std::string& name,
              const std::string& result = "") {
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& m : family.metric) {
      if (!result.empty() && (m.label.empty() || m.label[0].value != result)) continue;
      return family.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
    }
  }
  return -1;
}

class ReloaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    routing_path_ = (tmp_.path() / "routing.yaml").string();
    write_file(routing_path_, demo_routing());
    config_path_ = (tmp_.path() / "hub.yaml").string();
    write(config());
    ASSERT_OK(adapters::register_builtin_adapters(types_));
    auto cfg = load_file(config_path_);
    ASSERT_OK(cfg);
    auto adapters = delivery::create_adapters(types_, cfg->adapters, 2);
    ASSERT_OK(adapters);
    adapters_ = std::move(*adapters);
    auto snapshot = pipeline::RoutingSnapshot::load(cfg->routing_directory, adapters_);
    ASSERT_OK(snapshot);
    routing_.set(*snapshot);
    auto keyring = crypto::Keyring::open(cfg->encryption);
    ASSERT_OK(keyring);
    keys_.set(*keyring);
    reloader_.emplace(
        config_path_,
        ReloadTargets{&types_, &adapters_, &routing_, &keys_,
                      [this](const RetryPolicy& r) { retry_ = r; }, [this] { ++keys_reloaded_; }},
        metrics_);
  }
  void TearDown() override { log::set_min_level(log::Level::kInfo); }

  std::string config(const std::string& extra = "", const std::string& retry = "3") const {
    return "amqp: { dev_mode: true }\n"
           "data_dir: " +
           (tmp_.path() / "data").string() +
           "\n"
           "schemas:\n"
           "  - namespace: \"urn:ozg-hub:schema:antrag:1.0\"\n"
           "    xsd: " +
           (source_dir() / "schemas/ozg-antrag/ozg-antrag-1.0.xsd").string() +
           "\n"
           "routing: { directory: routing.yaml }\n"
           "adapters: { transfer: { type: transfer_dir, root: " +
           (tmp_.path() / "out").string() +
           " } }\n"
           "retry: { max_attempts: " +
           retry +
           " }\n"
           "encryption: { keks: { k1: { type: file, path: kek.key, create_if_missing: true } } "
           "}\n" +
           extra;
  }
  void write(const std::string& text) { write_file(config_path_, text); }

  TempDir tmp_;
  std::string config_path_, routing_path_;
  delivery::AdapterRegistry types_;
  delivery::AdapterMap adapters_;
  pipeline::RoutingState routing_;
  crypto::KeyringState keys_;
  std::optional<RetryPolicy> retry_;
  int keys_reloaded_ = 0;
  prometheus::Registry registry_;
  ReloadMetrics metrics_{registry_};
  std::optional<Reloader> reloader_;
};

TEST_F(ReloaderTest, AValidFileAppliesTheReloadableParts) {
  const auto before = routing_.get();
  write_file(
      routing_path_,
      demo_routing() +
          "\n  - { service: \"99050012104000\", area: \"15002\", office: muenchen-kvr-gewerbe }\n");
  write(config("log_level: warn\n", "7"));
  ReloadReport r = reloader_->reload();
  ASSERT_TRUE(r.applied) << ::testing::PrintToString(r.errors);
  EXPECT_EQ(r.changed, (std::vector<std::string>{"retry.max_attempts", "log_level"}));
  EXPECT_TRUE(r.restart_required.empty()) << ::testing::PrintToString(r.restart_required);
  EXPECT_NE(routing_.get(), before);
  EXPECT_EQ(r.responsibilities, before->directory->responsibility_count() + 1);
  EXPECT_EQ(r.active_kek, "k1");
  ASSERT_TRUE(retry_.has_value());
  EXPECT_EQ(retry_->max_attempts, 7);
  EXPECT_EQ(keys_reloaded_, 1);
  EXPECT_FALSE(log::enabled(log::Level::kInfo));
  EXPECT_EQ(sample(registry_, "ozghub_config_reloads_total", "success"), 1);
  EXPECT_EQ(sample(registry_, "ozghub_config_reloads_total", "failure"), 0);
  EXPECT_EQ(sample(registry_, "ozghub_config_last_reload_successful"), 1);
  // The same file again: nothing changed since the last reload.
  r = reloader_->reload();
  ASSERT_TRUE(r.applied);
  EXPECT_TRUE(r.changed.empty());
}

TEST_F(ReloaderTest, AnInvalidFileChangesNothing) {
  const auto routing = routing_.get();
  const auto keys = keys_.get();
  write(config("colour: blue\nlog_level: debug\n", "0"));
  ReloadReport r = reloader_->reload();
  EXPECT_FALSE(r.applied);
  EXPECT_EQ(r.condition, "invalid");
  ASSERT_EQ(r.errors.size(), 2u) << ::testing::PrintToString(r.errors);
  EXPECT_EQ(r.errors[0].rfind(config_path_ + ":", 0), 0u) << r.errors[0];
  EXPECT_EQ(routing_.get(), routing);
  EXPECT_EQ(keys_.get(), keys);
  EXPECT_FALSE(retry_.has_value());
  EXPECT_EQ(keys_reloaded_, 0);
  EXPECT_FALSE(log::enabled(log::Level::kDebug));
  EXPECT_EQ(sample(registry_, "ozghub_config_reloads_total", "failure"), 1);
  EXPECT_EQ(sample(registry_, "ozghub_config_last_reload_successful"), 0);
}

TEST_F(ReloaderTest, ABrokenRoutingDirectoryChangesNothing) {
  const auto routing = routing_.get();
  write_file(routing_path_, demo_routing() + "\n  - { service: nonsense, area: 15, office: x }\n");
  write(config("", "5"));
  ReloadReport r = reloader_->reload();
  EXPECT_FALSE(r.applied);
  EXPECT_EQ(r.condition, "routing_directory");
  EXPECT_FALSE(r.errors.empty());
  EXPECT_EQ(routing_.get(), routing);
  EXPECT_FALSE(retry_.has_value());
}

TEST_F(ReloaderTest, AChangedRestartOnlyKeyIsReportedNotApplied) {
  write(config("workers: 3\ncommit: { max_batch: 64 }\n"));
  ReloadReport r = reloader_->reload();
  ASSERT_TRUE(r.applied) << ::testing::PrintToString(r.errors);
  EXPECT_EQ(r.restart_required, (std::vector<std::string>{"workers", "commit.max_batch"}));
  EXPECT_TRUE(r.changed.empty());
  // Still in force as started: the next reload reports them again.
  r = reloader_->reload();
  EXPECT_EQ(r.restart_required.size(), 2u);
  // A new adapter instance needs a restart too (its lane and threads); the rest applies.
  std::string text = config("", "4");
  text.replace(text.find("adapters: { transfer:"), 21,
               "adapters: { spare: { type: transfer_dir, root: /tmp }, transfer:");
  write(text);
  r = reloader_->reload();
  ASSERT_TRUE(r.applied) << ::testing::PrintToString(r.errors);
  EXPECT_EQ(r.restart_required, (std::vector<std::string>{"adapters"}));
  EXPECT_EQ(r.changed, (std::vector<std::string>{"retry.max_attempts"}));
  EXPECT_EQ(retry_->max_attempts, 4);
}

}  // namespace
}  // namespace ozghub::config
