#include "registry.hpp"

#include "test_support.hpp"

namespace ozghub::adapters {
namespace {

using ozghub::testing::TempDir;

config::AdapterInstance instance(std::string name, std::string type,
                                 std::map<std::string, std::string> params) {
  return {std::move(name), std::move(type), std::move(params)};
}

TEST(AdapterRegistry, BuildsOneAdapterPerInstance) {
  TempDir dir;
  auto map =
      create_adapters({instance("a", "transfer_dir", {{"root", (dir.path() / "a").string()}}),
                       instance("b", "transfer_dir",
                                {{"root", (dir.path() / "b").string()}, {"sync", "filesystem"}})});
  ASSERT_OK(map);
  EXPECT_EQ(map->size(), 2u);
  EXPECT_TRUE(map->count("a"));
  EXPECT_TRUE(map->count("b"));
}

TEST(AdapterRegistry, RefusesUnknownTypesAndBadParameters) {
  TempDir dir;
  auto unknown = create_adapters({instance("x", "carrier_pigeon", {})});
  ASSERT_FALSE(unknown.is_ok());
  EXPECT_NE(unknown.status().message().find("carrier_pigeon"), std::string::npos);
  EXPECT_FALSE(create_adapters({instance("x", "transfer_dir", {})}).is_ok());
  auto bad_sync = create_adapters(
      {instance("x", "transfer_dir", {{"root", dir.path().string()}, {"sync", "sometimes"}})});
  ASSERT_FALSE(bad_sync.is_ok());
  EXPECT_NE(bad_sync.status().message().find("sync"), std::string::npos);
}

TEST(AdapterRegistry, EveryChannelMustNameAConfiguredAdapter) {
  TempDir dir;
  routing::AreaDirectory areas;
  areas.add("15", "Sachsen-Anhalt");
  routing::Office office{"amt", "Amt", "", {{"transfer", {}}, {"smtp", {}}}};
  auto directory =
      routing::RoutingDirectory::build(std::move(areas), {office}, {{"*", "15", "amt", 0}});
  ASSERT_OK(directory);
  auto map =
      create_adapters({instance("transfer", "transfer_dir", {{"root", dir.path().string()}})});
  ASSERT_OK(map);
  Status s = check_channels(**directory, *map);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("office amt: channel names adapter 'smtp'"), std::string::npos)
      << s.message();
  EXPECT_EQ(s.message().find("'transfer'"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace ozghub::adapters
