#include "routing/routing_directory.hpp"

#include <filesystem>
#include <map>
#include <random>
#include <utility>
#include <vector>

#include "test_support.hpp"

namespace ozghub::routing {
namespace {

using ozghub::testing::corpus_dir;
using ozghub::testing::source_dir;
using ozghub::testing::TempDir;
using ozghub::testing::write_file;

constexpr const char* kPassport = "99085001000000";
constexpr const char* kGewerbe = "99050012104000";
constexpr const char* kFuehrerschein = "99108047050001";
constexpr const char* kFuehrerscheinVerlaengerung = "99108048020000";
constexpr const char* kOther = "99036001000000";

constexpr const char* kMoeckern = "150860140140";
constexpr const char* kBurg = "150860015015";
constexpr const char* kNebra = "150845053360";
constexpr const char* kMuenchen = "091620000000";

std::filesystem::path data_dir() { return source_dir() / "tests/unit/routing/data"; }

// The office id, or the condition symbol of the rejection.
std::string route(const RoutingDirectory& d, std::string_view ars, std::string_view leika) {
  auto r = d.lookup(ars, leika);
  if (const auto* m = std::get_if<RouteMatch>(&r)) return m->office->id;
  return std::string(condition_symbol(std::get<Rejection>(r).condition));
}

std::string description(const RoutingDirectory& d, std::string_view ars, std::string_view leika) {
  auto r = d.lookup(ars, leika);
  const auto* rej = std::get_if<Rejection>(&r);
  return rej ? rej->description : "(routed)";
}

// Loads YAML text written to a fresh folder (so that relative paths resolve there).
class RoutingLoader : public ::testing::Test {
 protected:
  Result<std::shared_ptr<const RoutingDirectory>> load(std::string_view yaml) {
    write_file(path(), yaml);
    return RoutingDirectory::load(path());
  }
  std::string path() const { return (tmp_.path() / "routing.yaml").string(); }
  std::string gv100ad() const {
    return (corpus_dir() / "areas" / "GV100AD_301123.txt").lexically_normal().string();
  }
  const std::filesystem::path& dir() const { return tmp_.path(); }

 private:
  TempDir tmp_;
};

#define EXPECT_HAS(haystack, needle)                    \
  EXPECT_NE((haystack).find(needle), std::string::npos) \
      << "missing: " << (needle) << "\nin: " << (haystack)

TEST(RoutingPrecedence, Table) {
  auto loaded = RoutingDirectory::load((data_dir() / "precedence.yaml").string());
  ASSERT_OK(loaded);
  const RoutingDirectory& d = **loaded;
  struct Case {
    const char* ars;
    const char* leika;
    const char* expected;  // office id or condition symbol
  };
  const std::vector<Case> cases = {
      // 12 digits.
      {kMoeckern, kPassport, "moeckern"},       // the municipality's "*"
      {kMoeckern, kFuehrerschein, "kreis-fs"},  // a Kreis's service beats a municipality's "*"
      {kMoeckern, kGewerbe, "land-gewerbe"},    // ... and so does a 3-digit one
      {kBurg, kPassport, "burg-pass"},          // service at 12 digits
      {kBurg, kGewerbe, "burg-gv-gewerbe"},     // service: 9 digits before 3
      {kBurg, kOther, "burg-gv"},               // "*": 9 digits before 5 and 2
      {kBurg, kFuehrerschein, "kreis-fs"},      // service at 5 beats "*" at 9
      {kNebra, kPassport, "land"},              // other Kreis: only the Land's "*"
      {kNebra, kGewerbe, "land-gewerbe"},
      {kMuenchen, kGewerbe, "muenchen"},
      {kMuenchen, kPassport, "ozg:no-responsible-office"},
      {"146120000000", kPassport, "ozg:no-responsible-office"},  // Dresden: nothing in Saxony
      // 9 digits: the 12-digit rules below it do not apply.
      {"150860015", kPassport, "burg-gv"},
      {"150860015", kGewerbe, "burg-gv-gewerbe"},
      {"150860140", kPassport, "kreis"},  // Möckern's Gemeindeverband, not Möckern itself
      {"150860140", kFuehrerschein, "kreis-fs"},
      // 5 digits.
      {"15086", kPassport, "kreis"},
      {"15086", kFuehrerschein, "kreis-fs"},
      {"15086", kGewerbe, "land-gewerbe"},
      {"15084", kPassport, "land"},
      // 3 digits (a Land without Regierungsbezirke).
      {"150", kGewerbe, "land-gewerbe"},
      {"150", kPassport, "land"},
      {"091", kGewerbe, "ozg:no-responsible-office"},
      // 2 digits: the 3-digit rule is more specific than the ARS and does not apply.
      {"15", kGewerbe, "land"},
      {"15", kPassport, "land"},
      {"09", kGewerbe, "ozg:no-responsible-office"},
      // Unknown areas: well-formed, but not in the directory.
      {"159999999999", kPassport, "ozg:unknown-area"},
      {"150869999", kPassport, "ozg:unknown-area"},
      {"140", kPassport, "ozg:unknown-area"},  // Saxony has (former) Regierungsbezirke
      {"99", kPassport, "ozg:unknown-area"},
      // Malformed.
      {"1508601", kPassport, "ozg:invalid-property"},
      {"", kPassport, "ozg:invalid-property"},
      {"15086014014a", kPassport, "ozg:invalid-property"},
      {"1508601401400", kPassport, "ozg:invalid-property"},
      {kMoeckern, "123", "ozg:invalid-property"},
      {kMoeckern, "", "ozg:invalid-property"},
      {kMoeckern, "*", "ozg:invalid-property"},
      {kMoeckern, "9908500100000x", "ozg:invalid-property"},
      {kMoeckern, "990850010000000", "ozg:invalid-property"},
      {"159999999999", "123", "ozg:invalid-property"},  // shape before existence
  };
  for (const Case& c : cases) {
    EXPECT_EQ(route(d, c.ars, c.leika), c.expected) << "ARS " << c.ars << ", LeiKa " << c.leika;
  }
}

TEST(RoutingPrecedence, MatchNamesTheRuleAndItsLine) {
  auto loaded = RoutingDirectory::load((data_dir() / "precedence.yaml").string());
  ASSERT_OK(loaded);
  auto r = (*loaded)->lookup(kMoeckern, kPassport);
  ASSERT_TRUE(std::holds_alternative<RouteMatch>(r));
  const RouteMatch& m = std::get<RouteMatch>(r);
  const Responsibility rule = (*loaded)->responsibility(m.rule);
  EXPECT_EQ(rule.service, "*");
  EXPECT_EQ(rule.area, kMoeckern);
  EXPECT_EQ(rule.office_id, "moeckern");
  EXPECT_EQ(rule.line, 15);
  EXPECT_EQ((*loaded)->rule_file(m.rule), "");
  EXPECT_EQ(m.office, (*loaded)->office("moeckern"));
  EXPECT_EQ((*loaded)->office("nobody"), nullptr);
  EXPECT_EQ((*loaded)->responsibility_count(), 9u);
}

TEST(RoutingPrecedence, RejectionsSayWhatIsWrong) {
  auto loaded = RoutingDirectory::load((data_dir() / "precedence.yaml").string());
  ASSERT_OK(loaded);
  const RoutingDirectory& d = **loaded;
  EXPECT_EQ(description(d, "1508601", kPassport),
            "area_id \"1508601\" is not an ARS: expected 2, 3, 5, 9 or 12 digits");
  EXPECT_EQ(description(d, kMoeckern, "123"),
            "service_id \"123\" is not a LeiKa key: expected 14 digits");
  EXPECT_EQ(description(d, "159999999999", kPassport),
            "area_id \"159999999999\" is not in the area directory");
  EXPECT_EQ(description(d, kMuenchen, kPassport),
            "no office is responsible for service_id \"99085001000000\" in area_id "
            "\"091620000000\" (München, Landeshauptstadt)");
  // Sender data is quoted bounded and printable.
  std::string junk = "\x01\"" + std::string(1000, '7');
  std::string desc = description(d, junk, kPassport);
  EXPECT_LT(desc.size(), 120u) << desc;
  EXPECT_HAS(desc, "\"??7777");
}

TEST(RoutingDemo, LoadsAndRoutes) {
  auto loaded = RoutingDirectory::load((source_dir() / "config/routing.demo.yaml").string());
  ASSERT_OK(loaded);
  const RoutingDirectory& d = **loaded;
  EXPECT_EQ(d.offices().size(), 5u);
  EXPECT_EQ(d.responsibility_count(), 6u);
  EXPECT_EQ(route(d, kMoeckern, kPassport), "moeckern-buergeramt");
  EXPECT_EQ(route(d, kMoeckern, kFuehrerschein), "jerichower-land-fahrerlaubnis");
  EXPECT_EQ(route(d, kMoeckern, kFuehrerscheinVerlaengerung), "jerichower-land-fahrerlaubnis");
  EXPECT_EQ(route(d, kBurg, kGewerbe), "jerichower-land-kreisverwaltung");
  EXPECT_EQ(route(d, kNebra, kPassport), "sachsen-anhalt-landesverwaltungsamt");
  EXPECT_EQ(route(d, kMuenchen, kGewerbe), "muenchen-kvr-gewerbe");
  EXPECT_EQ(route(d, kMuenchen, kPassport), "ozg:no-responsible-office");

  const Office* moeckern = d.office("moeckern-buergeramt");
  ASSERT_NE(moeckern, nullptr);
  EXPECT_EQ(moeckern->name, "Stadt Möckern, Bürgeramt");
  std::filesystem::path cert = moeckern->certificate_path;
  EXPECT_TRUE(cert.is_absolute()) << cert;
  EXPECT_TRUE(std::filesystem::equivalent(
      cert, source_dir() / "config/demo-certs/moeckern-buergeramt.pem"));
  ASSERT_EQ(moeckern->channels.size(), 1u);
  EXPECT_EQ(moeckern->channels[0].adapter, "transfer");
  EXPECT_TRUE(moeckern->channels[0].params.empty());
  EXPECT_EQ(d.office("jerichower-land-kreisverwaltung")->certificate_path, "");
}

TEST(RoutingDemo, ParsesTextWithPathsRelativeToTheGivenFolder) {
  const std::string yaml = ozghub::testing::read_file(source_dir() / "config/routing.demo.yaml");
  auto parsed = RoutingDirectory::parse(yaml, "demo.yaml", (source_dir() / "config").string());
  ASSERT_OK(parsed);
  EXPECT_EQ((*parsed)->responsibility_count(), 6u);
  EXPECT_TRUE(
      std::filesystem::equivalent((*parsed)->office("moeckern-buergeramt")->certificate_path,
                                  source_dir() / "config/demo-certs/moeckern-buergeramt.pem"));

  // Elsewhere the relative GV100AD path leads nowhere; errors name the text as `path` says.
  TempDir elsewhere;
  auto moved = RoutingDirectory::parse(yaml, "demo.yaml", elsewhere.path().string());
  ASSERT_FALSE(moved.is_ok());
  EXPECT_NE(moved.status().message().find("demo.yaml:"), std::string::npos)
      << moved.status().message();
  EXPECT_NE(moved.status().message().find("GV100AD"), std::string::npos)
      << moved.status().message();
}

TEST_F(RoutingLoader, ReportsAllErrorsWithTheirLines) {
  write_file(dir() / "moeckern.pem", "not checked here");
  auto r = load(R"(areas:
  extra:
    - { ars: "150860140140", name: "Möckern, Stadt" }
    - { ars: "15086", name: "Jerichower Land" }
    - { ars: "1508", name: "kaputt" }
offices:
  - id: moeckern
    name: Möckern
    certificate: missing.pem
    channels: [{ adapter: transfer }]
  - id: "kreis verwaltung"
    name: Kreis
    channels: [{ adapter: transfer }]
  - id: moeckern
    name: Noch einmal
    channels: []
  - id: land
    name: Land
    certificate: moeckern.pem
    channels: [{ adapter: transfer, params: { root: /srv } }, { params: { a: b } }]
responsibilities:
  - { service: "*", area: "150860140140", office: moeckern }
  - { service: "*", area: "150860140140", office: land }
  - { service: "9908500100000", area: "15086", office: land }
  - { service: "*", area: "1508601", office: land }
  - { service: "*", area: "15087", office: land }
  - { service: "*", area: "15086", office: nobody }
  - { service: "99085001000000", area: "150860140140" }
  - { service: "99085001000000", area: 15086, office: land }
)");
  ASSERT_FALSE(r.is_ok());
  const std::string& m = r.status().message();
  const std::string f = path() + ":";
  EXPECT_HAS(m, "12 routing directory error(s):");
  EXPECT_HAS(m, f + "5: areas.extra: '1508' is not an ARS");
  EXPECT_HAS(m, f + "9: office 'moeckern': certificate " + (dir() / "missing.pem").string() +
                    " does not exist");
  EXPECT_HAS(m, f + "11: office id 'kreis verwaltung' may only hold letters, digits");
  EXPECT_HAS(m, f + "14: office id 'moeckern' is already used (line 7)");
  EXPECT_HAS(m, f + "14: office 'moeckern' has no channels");
  EXPECT_HAS(m, f + "20: office 'land': channel #2 has no 'adapter'");
  EXPECT_HAS(m, f + "23: service '*' in area '150860140140' is already assigned (line 22)");
  EXPECT_HAS(m, f + "24: service '9908500100000' is neither a 14-digit LeiKa key nor \"*\"");
  EXPECT_HAS(m, f + "25: area '1508601' is not an ARS: expected 2, 3, 5, 9 or 12 digits");
  EXPECT_HAS(m, f + "26: area '15087' is not in the area directory");
  EXPECT_HAS(m, f + "27: office 'nobody' is not declared under 'offices'");
  EXPECT_HAS(m, f + "28: responsibility has no 'office'");
  // Errors come sorted by line; the last rule (an unquoted area) is fine.
  EXPECT_LT(m.find(f + "5:"), m.find(f + "9:"));
  EXPECT_LT(m.find(f + "26:"), m.find(f + "27:"));
  EXPECT_EQ(m.find(f + "29:"), std::string::npos) << m;
}

TEST_F(RoutingLoader, UnknownAndMissingKeys) {
  auto r = load(R"(areas:
  gv100ad: )" + gv100ad() +
                R"(
  colour: blue
offices:
  - { id: land, name: Land, channels: [{ adapter: transfer, adpater: x }], prio: 1 }
  - { id: kreis, channels: [{ adapter: transfer }] }
responsibilites:
  - { service: "*", area: "15", office: land }
)");
  ASSERT_FALSE(r.is_ok());
  const std::string& m = r.status().message();
  const std::string f = path() + ":";
  EXPECT_HAS(m, f + "1: missing 'responsibilities'");
  EXPECT_HAS(m, f + "3: unknown key 'colour' in 'areas' (known: gv100ad, extra)");
  EXPECT_HAS(m, f + "5: unknown key 'adpater' in a channel (known: adapter, params)");
  EXPECT_HAS(m, f + "5: unknown key 'prio' in an office (known: id, name, certificate, channels)");
  EXPECT_HAS(m, f + "6: office 'kreis' has no 'name'");
  EXPECT_HAS(m, f + "7: unknown key 'responsibilites' in the top level");
  EXPECT_HAS(m, "6 routing directory error(s)");
}

TEST_F(RoutingLoader, RepeatedKeyAndWrongTypes) {
  auto r = load(R"(areas: { extra: [{ ars: "15", name: Land }] }
offices:
  - id: land
    name: Land
    name: Land again
    channels: { adapter: transfer }
  - id: [a, b]
    name: x
    channels: [{ adapter: transfer, params: { dir: [1] } }]
responsibilities:
  - { service: "*", area: { ars: "15" }, office: land }
)");
  ASSERT_FALSE(r.is_ok());
  const std::string& m = r.status().message();
  const std::string f = path() + ":";
  EXPECT_HAS(m, f + "5: key 'name' appears twice in an office (first on line 4)");
  EXPECT_HAS(m, f + "6: channels must be a list");
  EXPECT_HAS(m, f + "7: an office's 'id' must be a string");
  EXPECT_HAS(m, f + "9: params: each value must be a string");
  EXPECT_HAS(m, f + "11: a responsibility's 'area' must be a string");
  EXPECT_HAS(m, "5 routing directory error(s)");  // nothing reported twice
}

TEST_F(RoutingLoader, YamlSyntaxErrorNamesItsLine) {
  auto r = load(R"(areas:
  extra: [{ ars: "15", name: Land }]
offices:
  - id: land
   name: Land
responsibilities: []
)");
  ASSERT_FALSE(r.is_ok());
  EXPECT_HAS(r.status().message(), path() + ":5: YAML syntax error");
}

TEST_F(RoutingLoader, UnquotedWildcardGetsAHint) {
  auto r = load(R"(areas: { extra: [{ ars: "15", name: Land }] }
offices: [{ id: land, name: Land, channels: [{ adapter: transfer }] }]
responsibilities:
  - { service: *, area: "15", office: land }
)");
  ASSERT_FALSE(r.is_ok());
  EXPECT_HAS(r.status().message(), path() + ":4: YAML syntax error");
  EXPECT_HAS(r.status().message(), "service: \"*\"");
}

TEST_F(RoutingLoader, NotAMappingAndMissingFile) {
  auto r = load("- just a list\n");
  ASSERT_FALSE(r.is_ok());
  EXPECT_HAS(r.status().message(), path() + ":1: expected a mapping");
  auto missing = RoutingDirectory::load((dir() / "nope.yaml").string());
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kIoError);
}

TEST_F(RoutingLoader, BadGv100adIsReportedAtItsKey) {
  write_file(dir() / "gv.txt", "40202311301508\n");
  auto r = load(R"(areas:
  gv100ad: gv.txt
offices: [{ id: land, name: Land, channels: [{ adapter: transfer }] }]
responsibilities:
  - { service: "*", area: "15", office: land }
)");
  ASSERT_FALSE(r.is_ok());
  const std::string& m = r.status().message();
  EXPECT_HAS(m, path() + ":2: areas.gv100ad: 1 error(s) in the GV100AD file:");
  EXPECT_HAS(m, (dir() / "gv.txt").string() + ":1: record of type 40 is too short");
  // With no area directory, areas are not reported as unknown on top.
  EXPECT_EQ(m.find("not in the area directory"), std::string::npos) << m;
}

TEST_F(RoutingLoader, PathsAreRelativeToTheFile) {
  std::filesystem::create_directories(dir() / "certs");
  write_file(dir() / "certs/land.pem", "x");
  auto r = load(R"(areas:
  gv100ad: )" + gv100ad() +
                R"(
  extra:
    - { ars: "159999999999", name: "Testgemeinde" }
offices:
  - id: land
    name: Land
    certificate: certs/../certs/land.pem
    channels:
      - adapter: transfer
        params: { root: /srv/transfer, port: 25 }
      - adapter: mail
responsibilities:
  - { service: "*", area: "159999999999", office: land }
)");
  ASSERT_OK(r);
  const Office* land = (*r)->office("land");
  ASSERT_NE(land, nullptr);
  EXPECT_EQ(land->certificate_path, (dir() / "certs/land.pem").string());
  ASSERT_EQ(land->channels.size(), 2u);
  EXPECT_EQ(land->channels[0].params.at("root"), "/srv/transfer");
  EXPECT_EQ(land->channels[0].params.at("port"), "25");
  EXPECT_EQ(land->channels[1].adapter, "mail");
  EXPECT_EQ(route(**r, "159999999999", kPassport), "land");
  EXPECT_EQ((*r)->areas().name("159999999999"), "Testgemeinde");
}

TEST_F(RoutingLoader, DotDotIsNoOfficeId) {
  auto r = load(R"(areas: { extra: [{ ars: "15", name: Land }] }
offices: [{ id: "..", name: Up, channels: [{ adapter: transfer }] }]
responsibilities: []
)");
  ASSERT_FALSE(r.is_ok());
  EXPECT_HAS(r.status().message(), path() + ":2: office id '..' cannot be used as a folder name");
}

Office office(std::string id) {
  Office o;
  o.id = std::move(id);
  o.name = "Office " + o.id;
  Channel ch;
  ch.adapter = "transfer";
  o.channels.push_back(std::move(ch));
  return o;
}

Responsibility rule(std::string service, std::string area, std::string office_id) {
  Responsibility r;
  r.service = std::move(service);
  r.area = std::move(area);
  r.office_id = std::move(office_id);
  return r;
}

TEST(RoutingBuild, ValidatesLikeLoad) {
  AreaDirectory areas;
  areas.add("15", "Sachsen-Anhalt");
  areas.add("15086", "Jerichower Land");
  Office no_channels = office("leer");
  no_channels.channels.clear();
  Office bad_cert = office("cert");
  bad_cert.certificate_path = "/nonexistent/ozghub/cert.pem";
  auto r = RoutingDirectory::build(
      areas, {office("land"), office("land"), office("a/b"), no_channels, bad_cert},
      {rule("*", "15", "land"), rule("*", "15", "land"), rule("123", "15", "land"),
       rule("*", "15087", "land"), rule("*", "1508", "land"), rule("*", "15086", "niemand")});
  ASSERT_FALSE(r.is_ok());
  const std::string& m = r.status().message();
  EXPECT_HAS(m, "9 routing directory error(s)");
  EXPECT_HAS(m, "office #2: office id 'land' is already used (office #1)");
  EXPECT_HAS(m, "office #3: office id 'a/b' may only hold");
  EXPECT_HAS(m, "office #4: office 'leer' has no channels");
  EXPECT_HAS(m,
             "office #5: office 'cert': certificate /nonexistent/ozghub/cert.pem does not exist");
  EXPECT_HAS(m,
             "responsibility #2: service '*' in area '15' is already assigned (responsibility #1)");
  EXPECT_HAS(m, "responsibility #3: service '123' is neither");
  EXPECT_HAS(m, "responsibility #4: area '15087' is not in the area directory");
  EXPECT_HAS(m, "responsibility #5: area '1508' is not an ARS");
  EXPECT_HAS(m, "responsibility #6: office 'niemand' is not declared");
}

TEST(RoutingBuild, EmptyDirectoryKnowsNothing) {
  RoutingDirectory empty;
  EXPECT_EQ(route(empty, kMoeckern, kPassport), "ozg:unknown-area");
  auto built = RoutingDirectory::build(AreaDirectory(), {}, {});
  ASSERT_OK(built);
  EXPECT_EQ(route(**built, kMoeckern, kPassport), "ozg:unknown-area");
  EXPECT_EQ(route(**built, "1508601", kPassport), "ozg:invalid-property");
}

// Many rules at random levels against a straightforward reference implementation: exercises
// the hash index (growth, collisions) and the precedence order together.
TEST(RoutingBuild, AgreesWithReferenceOnRandomRules) {
  auto areas_r =
      AreaDirectory::load_gv100ad((corpus_dir() / "areas" / "GV100AD_301123.txt").string());
  ASSERT_OK(areas_r);
  const AreaDirectory& areas = *areas_r;
  std::vector<std::string> gemeinden;
  areas.for_each([&](std::string_view ars, std::string_view) {
    if (ars.size() == 12 && (ars.substr(0, 2) == "15" || ars.substr(0, 2) == "09")) {
      gemeinden.emplace_back(ars);
    }
  });
  std::sort(gemeinden.begin(), gemeinden.end());
  ASSERT_GT(gemeinden.size(), 2000u);

  std::mt19937_64 rng(42);
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  std::vector<std::string> services;
  for (int i = 0; i < 300; ++i) services.push_back(std::to_string(99000000000000LL + i * 7919));
  const std::size_t lengths[] = {2, 3, 5, 9, 12};

  std::vector<Office> offices;
  for (int i = 0; i < 50; ++i) offices.push_back(office("o" + std::to_string(i)));
  std::map<std::pair<std::string, std::string>, std::string> reference;
  std::vector<Responsibility> rules;
  for (int i = 0; i < 60000; ++i) {
    std::string service = pick(4) == 0 ? "*" : services[pick(services.size())];
    std::string area = gemeinden[pick(gemeinden.size())].substr(0, lengths[pick(5)]);
    if (!areas.contains(area)) continue;  // e.g. "140": Saxony has Regierungsbezirke
    if (!reference.emplace(std::make_pair(service, area), "").second) continue;
    std::string office_id = "o" + std::to_string(pick(offices.size()));
    reference[{service, area}] = office_id;
    rules.push_back(rule(service, area, office_id));
  }
  auto built = RoutingDirectory::build(areas, offices, rules);
  ASSERT_OK(built);
  const RoutingDirectory& d = **built;

  auto expected = [&](const std::string& ars, const std::string& leika) -> std::string {
    for (const std::string& s : {leika, std::string("*")}) {
      for (std::size_t len : {12, 9, 5, 3, 2}) {
        if (len > ars.size()) continue;
        auto it = reference.find({s, ars.substr(0, len)});
        if (it != reference.end()) return it->second;
      }
    }
    return "ozg:no-responsible-office";
  };
  for (int i = 0; i < 20000; ++i) {
    std::string ars = gemeinden[pick(gemeinden.size())].substr(0, lengths[pick(5)]);
    if (!areas.contains(ars)) continue;
    std::string leika = pick(10) == 0 ? "99999999999999" : services[pick(services.size())];
    ASSERT_EQ(route(d, ars, leika), expected(ars, leika)) << ars << " " << leika;
  }
}

}  // namespace
}  // namespace ozghub::routing
