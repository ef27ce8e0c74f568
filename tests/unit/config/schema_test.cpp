#include "config/schema.hpp"

#include <yaml-cpp/yaml.h>

#include <set>

#include "config/config.hpp"
#include "test_support.hpp"

namespace ozghub::config::schema {
namespace {

// A complete configuration without TLS: every key below can be added to it alone.
constexpr char kBase[] = R"(amqp: { dev_mode: true }
routing: { directory: routing.yaml }
adapters: { out: { type: transfer_dir, root: /srv/transfer } }
)";

std::string parent_of(std::string_view path) {
  auto dot = path.rfind('.');
  return dot == std::string_view::npos ? "" : std::string(path.substr(0, dot));
}

TEST(ConfigSchema, EveryKeyIsDescribedOnceUnderADeclaredParent) {
  std::set<std::string_view> seen;
  for (const auto& k : keys()) {
    EXPECT_TRUE(seen.insert(k.path).second) << k.path << " is declared twice";
    EXPECT_GE(k.description.size(), 10u) << k.path << " needs a description";
    EXPECT_EQ(k.description.back(), '.') << k.path;
    const std::string parent = parent_of(k.path);
    if (parent.empty()) continue;
    // "senders[].name" lives under "senders", "encryption.keks.*.type" under "encryption.keks".
    std::string owner = parent;
    if (owner.ends_with("[]")) owner.resize(owner.size() - 2);
    if (owner.ends_with(".*")) owner.resize(owner.size() - 2);
    const Key* p = find(owner);
    ASSERT_NE(p, nullptr) << k.path << ": its parent " << owner << " is not declared";
    EXPECT_TRUE(seen.count(p->path)) << k.path << " comes before its parent";
  }
}

TEST(ConfigSchema, EveryDefaultIsAValueOfItsType) {
  for (const auto& k : keys()) {
    if (k.default_value.empty()) continue;
    SCOPED_TRACE(std::string(k.path) + " = " + std::string(k.default_value));
    const YAML::Node n = YAML::Load(std::string(k.default_value));
    switch (k.type) {
      case Type::kList:
        EXPECT_TRUE(n.IsSequence());
        break;
      case Type::kInteger:
        EXPECT_NO_THROW((void)n.as<long long>());
        break;
      case Type::kNumber:
        EXPECT_NO_THROW((void)n.as<double>());
        break;
      case Type::kBoolean:
        EXPECT_NO_THROW((void)n.as<bool>());
        break;
      case Type::kDuration:
        EXPECT_TRUE(parse_duration(n.Scalar()).is_ok());
        break;
      case Type::kHostPort:
        EXPECT_NE(n.Scalar().rfind(':'), std::string::npos);
        break;
      case Type::kString:
      case Type::kPath:
        EXPECT_TRUE(n.IsScalar());
        break;
      case Type::kSection:
      case Type::kMapping:
        ADD_FAILURE() << "sections have no default";
        break;
    }
  }
}

// Each default, written into an otherwise complete file, parses: the table and the parser agree
// on the key's name, place and type. (amqp needs certificates without dev_mode; senders and
// the operator-named entries need their required keys: their defaults are checked above.)
TEST(ConfigSchema, EveryDefaultParsesWhereTheTableSaysItGoes) {
  int checked = 0;
  for (const auto& k : keys()) {
    const std::string path(k.path);
    if (k.default_value.empty() || path.find("[]") != std::string::npos ||
        path.find(".*") != std::string::npos || path.rfind("amqp", 0) == 0) {
      continue;
    }
    YAML::Node root = YAML::Load(kBase);
    std::vector<std::string> parts;
    for (std::size_t pos = 0; pos <= path.size();) {
      auto dot = std::min(path.find('.', pos), path.size());
      parts.push_back(path.substr(pos, dot - pos));
      pos = dot + 1;
    }
    const YAML::Node value = YAML::Load(std::string(k.default_value));
    if (parts.size() == 1) root[parts[0]] = value;
    if (parts.size() == 2) root[parts[0]][parts[1]] = value;
    ASSERT_LE(parts.size(), 2u) << path;
    YAML::Emitter out;
    out << root;
    auto c = parse(out.c_str(), "hub.yaml", "/etc/ozg-hub");
    EXPECT_TRUE(c.is_ok()) << path << ": " << c.status().message() << "\n" << out.c_str();
    ++checked;
  }
  EXPECT_GT(checked, 25);
}

TEST(ConfigSchema, AKeyMissingFromTheTableIsUnknown) {
  auto c = parse(std::string(kBase) + "retry: { max_attempts: 3, colour: red }\n", "hub.yaml", "/");
  ASSERT_FALSE(c.is_ok());
  EXPECT_NE(
      c.status().message().find("hub.yaml:4: unknown key 'colour' in retry (known: max_attempts, "
                                "initial_backoff_ms, max_backoff_ms, multiplier, jitter)"),
      std::string::npos)
      << c.status().message();
  auto k =
      parse(std::string(kBase) + "encryption: { keks: { k1: { type: file, path: k, x: 1 } } }\n",
            "hub.yaml", "/");
  ASSERT_FALSE(k.is_ok());
  EXPECT_NE(k.status().message().find("unknown key 'x' in encryption.keks.k1"), std::string::npos)
      << k.status().message();
}

TEST(ConfigSchema, ChildrenOfTheTopLevelAndOfEntries) {
  auto top = children("");
  EXPECT_NE(std::find(top.begin(), top.end(), "log_level"), top.end());
  EXPECT_EQ(std::find(top.begin(), top.end(), "max_attempts"), top.end());
  auto keks = children("encryption.keks.*");
  EXPECT_EQ(keks.size(), 7u);
  auto senders = children("senders[]");
  EXPECT_EQ(senders.size(), 5u);
}

TEST(ConfigSchema, ChangedKeysIgnoreStyleAndDefaults) {
  const YAML::Node a =
      YAML::Load("retry:\n  max_attempts: 10\nworkers: 0\nsenders: [{name: a, services: \"*\"}]\n");
  const YAML::Node b = YAML::Load("senders:\n  - services: '*'\n    name: a\n");
  EXPECT_TRUE(changed_keys(a, b).empty());
  const YAML::Node c = YAML::Load(
      "retry: { max_attempts: 4 }\nsenders: [{name: b, services: \"*\"}]\nlog_level: debug\n");
  std::vector<std::string_view> changed;
  for (const auto* k : changed_keys(a, c)) changed.push_back(k->path);
  EXPECT_EQ(changed, (std::vector<std::string_view>{"senders", "retry.max_attempts", "log_level"}));
}

TEST(ConfigSchema, TheCommittedReferenceIsCurrent) {
  const auto path = testing::source_dir() / "docs" / "configuration.md";
  EXPECT_EQ(testing::read_file(path), reference_markdown())
      << path << " differs from the schema table: regenerate it with\n"
      << "  build/broker/ozg-hub --config-reference > docs/configuration.md";
}

TEST(ConfigSchema, ReferenceListsEveryKey) {
  const std::string md = reference_markdown();
  for (const auto& k : keys()) {
    EXPECT_NE(md.find("| `" + std::string(k.path) + "` |"), std::string::npos) << k.path;
  }
}

}  // namespace
}  // namespace ozghub::config::schema
