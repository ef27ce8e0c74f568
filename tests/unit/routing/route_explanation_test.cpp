#include "routing/route_explanation.hpp"

#include "test_support.hpp"

namespace ozghub::routing {
namespace {

using ozghub::testing::source_dir;

constexpr const char* kPassport = "99085001000000";
constexpr const char* kFuehrerschein = "99108047050001";
constexpr const char* kGewerbe = "99050012104000";
constexpr const char* kMoeckern = "150860140140";
constexpr const char* kBurg = "150860015015";
constexpr const char* kNebra = "150845053360";  // Burgenlandkreis: only the Land's rule
constexpr const char* kMuenchen = "091620000000";

Office office(std::string id) {
  Office o;
  o.id = std::move(id);
  o.name = "Office " + o.id;
  o.channels.push_back(Channel{"transfer", {}, "", ""});
  return o;
}

Responsibility rule(std::string service, std::string area, std::string office_id, int line) {
  return Responsibility{std::move(service), std::move(area), std::move(office_id), line};
}

class RouteExplanationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AreaDirectory areas;
    areas.add("15", "Sachsen-Anhalt");
    areas.add("15086", "Jerichower Land");
    areas.add(kMoeckern, "Möckern, Stadt");
    areas.add(kBurg, "Burg, Stadt");
    areas.add(kNebra, "Nebra (Unstrut), Stadt");
    auto built = RoutingDirectory::build(
        areas, {office("moeckern"), office("fahrerlaubnis"), office("kreis"), office("land")},
        {rule(kPassport, kMoeckern, "moeckern", 10), rule("*", kMoeckern, "moeckern", 11),
         rule(kFuehrerschein, "15086", "fahrerlaubnis", 12), rule("*", "15086", "kreis", 13),
         rule("*", "15", "land", 14)});
    ASSERT_OK(built);
    dir_ = *built;
  }

  std::shared_ptr<const RoutingDirectory> dir_;
};

TEST_F(RouteExplanationTest, ServiceRuleForTheMunicipalityItself) {
  auto x = explain(*dir_, kMoeckern, kPassport);
  ASSERT_NE(x.office, nullptr);
  EXPECT_EQ(x.office->id, "moeckern");
  EXPECT_EQ(x.rule->line, 10);
  EXPECT_FALSE(x.wildcard_service);
  EXPECT_TRUE(x.exact_area);
  EXPECT_EQ(x.rule_area_level, "Gemeinde");
  EXPECT_EQ(x.area_name, "Möckern, Stadt");
  EXPECT_EQ(x.reason,
            "the rule for service 99085001000000 in Gemeinde 150860140140 (Möckern, "
            "Stadt) itself (line 10)");
}

TEST_F(RouteExplanationTest, KreisServiceRuleBeatsTheMunicipalityCatchAll) {
  auto x = explain(*dir_, kMoeckern, kFuehrerschein);
  ASSERT_NE(x.office, nullptr);
  EXPECT_EQ(x.office->id, "fahrerlaubnis");
  EXPECT_EQ(x.rule->line, 12);
  EXPECT_FALSE(x.wildcard_service);
  EXPECT_FALSE(x.exact_area);
  EXPECT_EQ(x.rule_area_level, "Kreis");
  EXPECT_EQ(x.rule_area_name, "Jerichower Land");
  EXPECT_NE(x.reason.find("enclosing Kreis 15086 (Jerichower Land)"), std::string::npos)
      << x.reason;
}

TEST_F(RouteExplanationTest, WildcardForTheMunicipalityItself) {
  auto x = explain(*dir_, kMoeckern, kGewerbe);
  ASSERT_NE(x.office, nullptr);
  EXPECT_EQ(x.office->id, "moeckern");
  EXPECT_EQ(x.rule->line, 11);
  EXPECT_TRUE(x.wildcard_service);
  EXPECT_TRUE(x.exact_area);
  EXPECT_NE(x.reason.find("no rule names service 99050012104000"), std::string::npos) << x.reason;
}

TEST_F(RouteExplanationTest, WildcardFallsBackToKreisThenLand) {
  auto kreis = explain(*dir_, kBurg, kGewerbe);
  ASSERT_NE(kreis.office, nullptr);
  EXPECT_EQ(kreis.office->id, "kreis");
  EXPECT_TRUE(kreis.wildcard_service);
  EXPECT_FALSE(kreis.exact_area);
  EXPECT_EQ(kreis.rule_area_level, "Kreis");
  auto land = explain(*dir_, kNebra, kPassport);
  ASSERT_NE(land.office, nullptr);
  EXPECT_EQ(land.office->id, "land");
  EXPECT_EQ(land.rule->line, 14);
  EXPECT_EQ(land.rule_area_level, "Land");
  EXPECT_NE(land.reason.find("catch-all rule (\"*\") of the enclosing Land 15 (Sachsen-Anhalt)"),
            std::string::npos)
      << land.reason;
}

TEST_F(RouteExplanationTest, RejectionsSayWhy) {
  auto unknown = explain(*dir_, kMuenchen, kPassport);
  EXPECT_EQ(unknown.office, nullptr);
  ASSERT_TRUE(unknown.rejection);
  EXPECT_EQ(unknown.rejection->condition, Condition::kUnknownArea);
  auto malformed = explain(*dir_, "1508601", kPassport);
  ASSERT_TRUE(malformed.rejection);
  EXPECT_EQ(malformed.rejection->condition, Condition::kInvalidProperty);
  EXPECT_EQ(malformed.reason, malformed.rejection->description);
}

// explain() is lookup(): on the demo directory every answer names the office lookup() names.
TEST(RouteExplanation, AgreesWithLookupOnTheDemoDirectory) {
  auto demo = RoutingDirectory::load((source_dir() / "config/routing.demo.yaml").string());
  ASSERT_OK(demo);
  for (const char* area : {kMoeckern, kBurg, kNebra, kMuenchen, "150860015", "15086", "15"}) {
    for (const char* service : {kPassport, kFuehrerschein, kGewerbe}) {
      auto r = (*demo)->lookup(area, service);
      auto x = explain(**demo, area, service);
      if (const auto* m = std::get_if<RouteMatch>(&r)) {
        ASSERT_NE(x.office, nullptr) << area << " " << service;
        EXPECT_EQ(x.office, m->office);
        EXPECT_EQ(x.rule, (*demo)->responsibility(m->rule));
      } else {
        EXPECT_EQ(x.office, nullptr);
        ASSERT_TRUE(x.rejection);
        EXPECT_EQ(x.rejection->condition, std::get<Rejection>(r).condition);
      }
    }
  }
}

TEST(RouteExplanation, AreaLevels) {
  EXPECT_EQ(area_level(2), "Land");
  EXPECT_EQ(area_level(3), "Regierungsbezirk");
  EXPECT_EQ(area_level(5), "Kreis");
  EXPECT_EQ(area_level(9), "Gemeindeverband");
  EXPECT_EQ(area_level(12), "Gemeinde");
  EXPECT_EQ(area_level(4), "");
}

}  // namespace
}  // namespace ozghub::routing
