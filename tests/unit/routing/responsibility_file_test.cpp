#include "routing/responsibility_file.hpp"

#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "routing/route_explanation.hpp"
#include "routing/routing_directory.hpp"
#include "test_support.hpp"

namespace ozghub::routing {
namespace {

using ozghub::testing::corpus_dir;
using ozghub::testing::source_dir;
using ozghub::testing::TempDir;
using ozghub::testing::write_file;

#define EXPECT_HAS(haystack, needle)                    \
  EXPECT_NE((haystack).find(needle), std::string::npos) \
      << "missing: " << (needle) << "\nin: " << (haystack)

constexpr const char* kPassport = "99085001000000";
constexpr const char* kGewerbe = "99050012104000";
constexpr const char* kFuehrerschein = "99108047050001";
constexpr const char* kOther = "99036001000000";

struct Read {
  std::vector<std::string> rules;  // "line: service|area|office"
  std::vector<std::string> errors;
  Status status;
};

Read read(const std::filesystem::path& file) {
  Read r;
  r.status = read_responsibility_file(
      file.string(),
      [&](const RuleLine& l) {
        r.rules.push_back(std::to_string(l.line) + ": " + std::string(l.service) + "|" +
                          std::string(l.area) + "|" + std::string(l.office));
      },
      [&](int line, const std::string& what) {
        r.errors.push_back(std::to_string(line) + ": " + what);
      });
  return r;
}

std::string route(const RoutingDirectory& d, std::string_view ars, std::string_view leika) {
  auto r = d.lookup(ars, leika);
  if (const auto* m = std::get_if<RouteMatch>(&r)) return m->office->id;
  return std::string(condition_symbol(std::get<Rejection>(r).condition));
}

std::string gv100ad() {
  return (corpus_dir() / "areas" / "GV100AD_301123.txt").lexically_normal().string();
}

TEST(ResponsibilityFile, ColumnsCommentsBlankLinesAndLineEnds) {
  TempDir tmp;
  write_file(tmp.path() / "r.tsv",
             "# a comment\n"
             "\n"
             "99085001000000\t150860140140\tmoeckern\n"
             "   # an indented comment\n"
             "  *   15086 \t kreis  \r\n"
             "\t\t\n"
             "99085001000000 15 land");  // no final newline
  Read r = read(tmp.path() / "r.tsv");
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_EQ(r.errors, std::vector<std::string>{});
  EXPECT_EQ(r.rules, (std::vector<std::string>{"3: 99085001000000|150860140140|moeckern",
                                               "5: *|15086|kreis", "7: 99085001000000|15|land"}));
}

TEST(ResponsibilityFile, WrongColumnCountsAndLongLinesNameTheirLines) {
  TempDir tmp;
  write_file(tmp.path() / "r.tsv", "99085001000000 15\n" + std::string(5000, '9') +
                                       " 15 land\n"
                                       "99085001000000 15 land extra\n"
                                       "99085001000000;15;land\n"
                                       "* 15 land\n");
  Read r = read(tmp.path() / "r.tsv");
  ASSERT_TRUE(r.status.is_ok());
  EXPECT_EQ(r.errors,
            (std::vector<std::string>{"1: expected 3 columns (service, area, office), got 2",
                                      "2: line longer than 4096 bytes",
                                      "3: expected 3 columns (service, area, office), got more",
                                      "4: expected 3 columns (service, area, office), got 1"}));
  EXPECT_EQ(r.rules, std::vector<std::string>{"5: *|15|land"});
}

TEST(ResponsibilityFile, LinesAcrossChunkBoundariesAndMissingFile) {
  TempDir tmp;
  std::string text;
  const int n = 60000;  // about 2.4 MB: lines straddle the 1 MiB chunks
  for (int i = 0; i < n; ++i) text += std::to_string(99000000000000LL + i) + "\t15\toffice\n";
  write_file(tmp.path() / "r.tsv", text);
  Read r = read(tmp.path() / "r.tsv");
  ASSERT_TRUE(r.status.is_ok());
  EXPECT_TRUE(r.errors.empty());
  ASSERT_EQ(r.rules.size(), static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    ASSERT_EQ(r.rules[i],
              std::to_string(i + 1) + ": " + std::to_string(99000000000000LL + i) + "|15|office");
  }
  Read missing = read(tmp.path() / "nothing.tsv");
  EXPECT_FALSE(missing.status.is_ok());
  EXPECT_HAS(missing.status.message(), "nothing.tsv");
}

// The same rules as precedence.yaml, partly in two bulk files: every query routes the same, so
// the compact index keeps the precedence of the YAML rules.
TEST(RoutingBulk, RoutesExactlyAsTheYamlRules) {
  auto data = source_dir() / "tests/unit/routing/data";
  auto yaml = RoutingDirectory::load((data / "precedence.yaml").string());
  auto bulk = RoutingDirectory::load((data / "precedence_bulk.yaml").string());
  ASSERT_OK(yaml);
  ASSERT_OK(bulk);
  EXPECT_EQ((*bulk)->responsibility_count(), 9u);
  std::vector<std::string> areas;
  (*yaml)->areas().for_each([&](std::string_view ars, std::string_view) {
    if (ars.substr(0, 2) == "15" || ars.substr(0, 2) == "09") areas.emplace_back(ars);
  });
  ASSERT_GT(areas.size(), 2000u);
  for (const char* odd : {"159999999999", "150869999", "140", "99", "1508601", "", "15x"}) {
    areas.emplace_back(odd);
  }
  for (const auto& ars : areas) {
    for (const char* leika : {kPassport, kGewerbe, kFuehrerschein, kOther, "123", "*"}) {
      ASSERT_EQ(route(**bulk, ars, leika), route(**yaml, ars, leika)) << ars << " " << leika;
    }
  }
}

TEST(RoutingBulk, MatchNamesTheFileAndLine) {
  auto data = source_dir() / "tests/unit/routing/data";
  auto loaded = RoutingDirectory::load((data / "precedence_bulk.yaml").string());
  ASSERT_OK(loaded);
  const RoutingDirectory& d = **loaded;
  auto r = d.lookup("150860140140", kFuehrerschein);
  ASSERT_TRUE(std::holds_alternative<RouteMatch>(r));
  const RuleRef& ref = std::get<RouteMatch>(r).rule;
  EXPECT_EQ(d.responsibility(ref), (Responsibility{kFuehrerschein, "15086", "kreis-fs", 3}));
  EXPECT_EQ(d.rule_file(ref), (data / "precedence_kreis.tsv").lexically_normal().string());

  auto x = explain(d, "150860015015", kOther);
  ASSERT_TRUE(x.rule);
  EXPECT_EQ(*x.rule, (Responsibility{"*", "150860015", "burg-gv", 4}));
  EXPECT_HAS(x.reason, "precedence_rest.tsv:4)");
  // A rule of the YAML list keeps its line, without a file.
  auto m = explain(d, "091620000000", kGewerbe);
  ASSERT_TRUE(m.rule);
  EXPECT_EQ(m.rule->line, 16);
  EXPECT_EQ(m.rule_file, "");
  EXPECT_HAS(m.reason, "(line 16)");
}

class RoutingBulkLoader : public ::testing::Test {
 protected:
  Result<std::shared_ptr<const RoutingDirectory>> load(std::string_view yaml_rules,
                                                       std::string_view files,
                                                       std::string_view tsv) {
    std::string yaml = "areas:\n  gv100ad: " + gv100ad() +
                       "\n"
                       "offices:\n"
                       "  - { id: moeckern, name: M, channels: [{ adapter: transfer }] }\n"
                       "  - { id: kreis, name: K, channels: [{ adapter: transfer }] }\n";
    yaml += yaml_rules;
    yaml += files;
    write_file(tmp_.path() / "routing.yaml", yaml);
    write_file(tmp_.path() / "rules.tsv", tsv);
    return RoutingDirectory::load((tmp_.path() / "routing.yaml").string());
  }
  std::string path(const char* name) const { return (tmp_.path() / name).string(); }

 private:
  TempDir tmp_;
};

TEST_F(RoutingBulkLoader, ReportsEveryBadLineWithItsNumber) {
  auto r = load(
      "responsibilities:\n"                                       // line 6
      "  - { service: \"*\", area: \"15086\", office: kreis }\n"  // line 7
      "  - { service: \"*\", area: \"15\", office: nobody }\n",   // line 8
      "responsibilities_file: rules.tsv\n",
      "# service area office\n"
      "99085001000000 150860140140 moeckern\n"  // 2: fine
      "9908500100000 150860140140 moeckern\n"   // 3: LeiKa of 13 digits
      "99085001000000 1508601401 moeckern\n"    // 4: ARS of 10 digits
      "99085001000000 159999999999 moeckern\n"  // 5: unknown area
      "99085001000000 15086 niemand\n"          // 6: unknown office
      "99085001000000 150860140140 kreis\n"     // 7: repeats line 2
      "* 15086 moeckern\n"                      // 8: repeats the YAML's line 7
      "99085001000000 15086\n"                  // 9: two columns
      "** 15 kreis\n");                         // 10: neither LeiKa nor *
  ASSERT_FALSE(r.is_ok());
  const std::string m = r.status().message();
  const std::string y = path("routing.yaml");
  const std::string t = path("rules.tsv");
  EXPECT_HAS(m, "9 routing directory error(s)");
  EXPECT_HAS(m, y + ":8: office 'nobody' is not declared under 'offices'");
  EXPECT_HAS(m, t + ":3: service '9908500100000' is neither a 14-digit LeiKa key nor \"*\"");
  EXPECT_HAS(m, t + ":4: area '1508601401' is not an ARS: expected 2, 3, 5, 9 or 12 digits");
  EXPECT_HAS(m, t + ":5: area '159999999999' is not in the area directory");
  EXPECT_HAS(m, t + ":6: office 'niemand' is not declared under 'offices'");
  EXPECT_HAS(m, t + ":7: service '99085001000000' in area '150860140140' is already assigned "
                    "(line 2)");
  EXPECT_HAS(m, t + ":8: service '*' in area '15086' is already assigned (" + y + ":7)");
  EXPECT_HAS(m, t + ":9: expected 3 columns (service, area, office), got 2");
  EXPECT_HAS(m, t + ":10: service '**' is neither");
  // The directory file's errors first, then each bulk file's in line order.
  EXPECT_LT(m.find(y + ":8"), m.find(t + ":3"));
  EXPECT_LT(m.find(t + ":3"), m.find(t + ":10"));
}

TEST_F(RoutingBulkLoader, FileNamesAndOptionalYamlList) {
  // A bulk file alone will do: 'responsibilities' is then optional.
  auto ok = load("", "responsibilities_file: rules.tsv\n", "* 15086 kreis\n");
  ASSERT_OK(ok);
  EXPECT_EQ(route(**ok, "150860140140", kPassport), "kreis");
  EXPECT_EQ((*ok)->responsibility_count(), 1u);

  auto missing = load("", "responsibilities_file: [rules.tsv, nothing.tsv]\n", "");
  ASSERT_FALSE(missing.is_ok());
  EXPECT_HAS(missing.status().message(), path("routing.yaml") + ":6: responsibilities_file: ");
  EXPECT_HAS(missing.status().message(), "nothing.tsv");

  auto bad = load("", "responsibilities_file: { a: b }\n", "");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_HAS(bad.status().message(),
             ":6: 'responsibilities_file' must be a path or a list of paths");

  auto neither = load("", "", "");
  ASSERT_FALSE(neither.is_ok());
  EXPECT_HAS(neither.status().message(), ":1: missing 'responsibilities'");
}

TEST_F(RoutingBulkLoader, LeadingZerosAreSpelledOut) {
  auto d = load("", "responsibilities_file: rules.tsv\n",
                "00000000000001 01 kreis\n"
                "* 01001 moeckern\n");
  ASSERT_OK(d);
  auto r = (*d)->lookup("010010000000", "00000000000001");
  ASSERT_TRUE(std::holds_alternative<RouteMatch>(r));
  EXPECT_EQ((*d)->responsibility(std::get<RouteMatch>(r).rule),
            (Responsibility{"00000000000001", "01", "kreis", 1}));
  r = (*d)->lookup("010010000000", kPassport);
  ASSERT_TRUE(std::holds_alternative<RouteMatch>(r));
  EXPECT_EQ((*d)->responsibility(std::get<RouteMatch>(r).rule),
            (Responsibility{"*", "01001", "moeckern", 2}));
}

// Random rules at every level in a bulk file route as the same rules given to build().
TEST_F(RoutingBulkLoader, AgreesWithBuildOnRandomRules) {
  auto areas_r = AreaDirectory::load_gv100ad(gv100ad());
  ASSERT_OK(areas_r);
  std::vector<std::string> gemeinden;
  areas_r->for_each([&](std::string_view ars, std::string_view) {
    if (ars.size() == 12 && ars.substr(0, 2) == "15") gemeinden.emplace_back(ars);
  });
  std::mt19937_64 rng(7);
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  const std::size_t lengths[] = {2, 3, 5, 9, 12};
  std::vector<std::string> services;
  for (int i = 0; i < 100; ++i) services.push_back(std::to_string(99000000000000LL + i * 7919));
  std::map<std::pair<std::string, std::string>, std::string> seen;
  std::vector<Responsibility> rules;
  std::string tsv;
  for (int i = 0; i < 20000; ++i) {
    std::string service = pick(4) == 0 ? "*" : services[pick(services.size())];
    std::string area = gemeinden[pick(gemeinden.size())].substr(0, lengths[pick(5)]);
    std::string office = pick(2) == 0 ? "moeckern" : "kreis";
    if (!seen.emplace(std::make_pair(service, area), office).second) continue;
    rules.push_back(Responsibility{service, area, office, 0});
    tsv += service + "\t" + area + "\t" + office + "\n";
  }
  auto bulk = load("", "responsibilities_file: rules.tsv\n", tsv);
  ASSERT_OK(bulk);
  Office moeckern{"moeckern", "M", "", {Channel{"transfer", {}, "", ""}}};
  Office kreis{"kreis", "K", "", {Channel{"transfer", {}, "", ""}}};
  auto built = RoutingDirectory::build(*areas_r, {moeckern, kreis}, rules);
  ASSERT_OK(built);
  EXPECT_EQ((*bulk)->responsibility_count(), rules.size());
  for (int i = 0; i < 20000; ++i) {
    std::string ars = gemeinden[pick(gemeinden.size())].substr(0, lengths[pick(5)]);
    std::string leika = pick(10) == 0 ? "99999999999999" : services[pick(services.size())];
    ASSERT_EQ(route(**bulk, ars, leika), route(**built, ars, leika)) << ars << " " << leika;
  }
}

}  // namespace
}  // namespace ozghub::routing
