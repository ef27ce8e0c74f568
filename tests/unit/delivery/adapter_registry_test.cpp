#include "delivery/adapter_registry.hpp"

#include "pipeline/routing_state.hpp"
#include "registry.hpp"
#include "test_support.hpp"

namespace ozghub::delivery {
namespace {

using ozghub::testing::TempDir;

config::AdapterInstance instance(std::string name, std::string type,
                                 std::map<std::string, std::string> params,
                                 std::string base_dir = "") {
  config::AdapterInstance i;
  i.name = std::move(name);
  i.type = std::move(type);
  i.params = std::move(params);
  i.origin = "hub.yaml:7";
  i.base_dir = std::move(base_dir);
  return i;
}

// A type that records what the host handed it.
struct Recorder final : Adapter {
  Result<std::shared_ptr<const ChannelBinding>> bind(const ChannelContext& ch) override {
    if (ch.params.get("mode") == "refuse") return Status::invalid_argument("mode refused");
    bound.push_back(ch.params.all().begin()->first);
    return std::shared_ptr<const ChannelBinding>();
  }
  DeliveryResult deliver(const DeliveryRequest&) noexcept override {
    return DeliveryResult::delivered();
  }
  std::vector<std::string> bound;
};

AdapterType recorder_type() {
  AdapterType t;
  t.name = "recorder";
  t.description = "test";
  t.params = {
      {"server", ParamSpec::Kind::kString, ParamSpec::Scope::kInstance, true, "", {}, 0, 0, "s"},
      {"port", ParamSpec::Kind::kInt, ParamSpec::Scope::kInstance, false, "25", {}, 1, 65535, "p"},
      {"to", ParamSpec::Kind::kString, ParamSpec::Scope::kChannel, true, "", {}, 0, 0, "t"},
      {"mode",
       ParamSpec::Kind::kChoice,
       ParamSpec::Scope::kEither,
       false,
       "plain",
       {"plain", "fancy", "refuse"},
       0,
       0,
       "m"},
      {"dir", ParamSpec::Kind::kPath, ParamSpec::Scope::kEither, false, "", {}, 0, 0, "d"},
  };
  t.create = [](const Params&) -> Result<std::unique_ptr<Adapter>> {
    return std::unique_ptr<Adapter>(std::make_unique<Recorder>());
  };
  return t;
}

AdapterRegistry registry() {
  AdapterRegistry r;
  EXPECT_TRUE(adapters::register_builtin_adapters(r).is_ok());
  EXPECT_TRUE(r.add(recorder_type()).is_ok());
  return r;
}

TEST(AdapterRegistry, BuildsOneAdapterPerInstanceWithDefaultsAndHostKeys) {
  TempDir dir;
  auto reg = registry();
  auto map = create_adapters(
      reg,
      {instance("a", "transfer_dir", {{"root", (dir.path() / "a").string()}}),
       instance("b", "transfer_dir", {{"root", "b"}, {"sync", "filesystem"}, {"concurrency", "3"}},
                dir.path()),
       instance("r", "recorder", {{"server", "mx"}, {"timeout_ms", "1500"}})},
      16);
  ASSERT_OK(map);
  ASSERT_EQ(map->size(), 3u);
  EXPECT_EQ(map->at("a")->concurrency, 16);
  EXPECT_EQ(map->at("b")->concurrency, 3);
  EXPECT_EQ(map->at("b")->params.get("root"), (dir.path() / "b").string());
  EXPECT_EQ(map->at("a")->params.get("sync"), "file");
  EXPECT_EQ(map->at("r")->params.get_int("port"), 25);
  EXPECT_EQ(map->at("r")->timeout.count(), 1500);
}

TEST(AdapterRegistry, ReportsEveryErrorWithItsOrigin) {
  auto reg = registry();
  auto r =
      create_adapters(reg,
                      {instance("x", "carrier_pigeon", {}), instance("y", "transfer_dir", {}),
                       instance("z", "transfer_dir", {{"root", "/tmp"}, {"sync", "sometimes"}}),
                       instance("w", "recorder", {{"server", "mx"}, {"to", "a@b"}}),
                       instance("v", "recorder", {{"server", "mx"}, {"port", "0"}}),
                       instance("u", "recorder", {{"server", "mx"}, {"concurrency", "0"}})},
                      4);
  ASSERT_FALSE(r.is_ok());
  const auto& m = r.status().message();
  EXPECT_NE(m.find("hub.yaml:7: adapters.x: unknown adapter type 'carrier_pigeon'"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("adapters.y: transfer_dir needs 'root'"), std::string::npos) << m;
  EXPECT_NE(m.find("'sync' must be one of file, filesystem, not 'sometimes'"), std::string::npos)
      << m;
  EXPECT_NE(m.find("unknown key 'to' for adapter type recorder"), std::string::npos) << m;
  EXPECT_NE(m.find("it belongs in a channel's params"), std::string::npos) << m;
  EXPECT_NE(m.find("'port' must be an integer from 1 to 65535, not '0'"), std::string::npos) << m;
  EXPECT_NE(m.find("adapters.u.concurrency must be a positive integer"), std::string::npos) << m;
}

TEST(AdapterRegistry, RefusesDuplicateTypesAndReservedKeys) {
  auto reg = registry();
  EXPECT_FALSE(reg.add(recorder_type()).is_ok());
  auto t = recorder_type();
  t.name = "other";
  t.params.push_back(
      {"timeout_ms", ParamSpec::Kind::kInt, ParamSpec::Scope::kInstance, false, "", {}, 0, 10, ""});
  EXPECT_FALSE(reg.add(std::move(t)).is_ok());
}

TEST(ChannelParams, MergesChannelOverInstanceAndChecksScopeAndRequiredKeys) {
  auto reg = registry();
  auto map =
      create_adapters(reg, {instance("r", "recorder", {{"server", "mx"}, {"mode", "fancy"}})}, 1);
  ASSERT_OK(map);
  const AdapterSlot& slot = *map->at("r");
  routing::Channel ch;
  ch.adapter = "r";
  ch.origin = "routing.yaml:12";
  ch.base_dir = "/etc/ozg-hub";
  ch.params = {{"to", "amt@example.org"}, {"dir", "spool"}};
  auto p = channel_params(slot, ch);
  ASSERT_OK(p);
  EXPECT_EQ(p->get("server"), "mx");
  EXPECT_EQ(p->get("mode"), "fancy");
  EXPECT_EQ(p->get("to"), "amt@example.org");
  EXPECT_EQ(p->get("dir"), "/etc/ozg-hub/spool");

  ch.params = {{"mode", "plain"}, {"server", "other"}};
  auto bad = channel_params(slot, ch);
  ASSERT_FALSE(bad.is_ok());
  const auto& m = bad.status().message();
  EXPECT_NE(m.find("routing.yaml:12: "), std::string::npos) << m;
  EXPECT_NE(m.find("unknown channel parameter 'server'"), std::string::npos) << m;
  EXPECT_NE(m.find("needs 'to'"), std::string::npos) << m;
}

TEST(RoutingSnapshot, BindsEveryChannelAndReportsUnconfiguredAdaptersAndBindErrors) {
  TempDir dir;
  auto reg = registry();
  auto map = create_adapters(reg,
                             {instance("transfer", "transfer_dir", {{"root", dir.path().string()}}),
                              instance("mail", "recorder", {{"server", "mx"}})},
                             1);
  ASSERT_OK(map);
  routing::AreaDirectory areas;
  areas.add("15", "Sachsen-Anhalt");
  routing::Office good;
  good.id = "amt";
  good.name = "Amt";
  good.channels.resize(2);
  good.channels[0].adapter = "transfer";
  good.channels[1].adapter = "mail";
  good.channels[1].params = {{"to", "amt@example.org"}};
  auto directory = routing::RoutingDirectory::build(areas, {good}, {{"*", "15", "amt", 0}});
  ASSERT_OK(directory);
  auto snap = pipeline::RoutingSnapshot::make(*directory, *map);
  ASSERT_OK(snap);
  ASSERT_NE((*snap)->channel("amt", 1), nullptr);
  EXPECT_EQ((*snap)->channel("amt", 1)->slot, map->at("mail").get());
  EXPECT_EQ((*snap)->channel("amt", 1)->params.get("to"), "amt@example.org");
  EXPECT_EQ((*snap)->channel("amt", 2), nullptr);

  routing::Office bad = good;
  bad.channels[0].adapter = "smtp";
  bad.channels[1].params["mode"] = "refuse";
  auto directory2 = routing::RoutingDirectory::build(areas, {bad}, {{"*", "15", "amt", 0}});
  ASSERT_OK(directory2);
  auto s = pipeline::RoutingSnapshot::make(*directory2, *map);
  ASSERT_FALSE(s.is_ok());
  const auto& m = s.status().message();
  EXPECT_NE(m.find("office amt: channel names adapter 'smtp', which is not configured"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("adapter mail: mode refused"), std::string::npos) << m;
}

}  // namespace
}  // namespace ozghub::delivery
