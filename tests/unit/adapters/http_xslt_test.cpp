// The XSLT step of the HTTP adapter, with the AutiSta sample profile as the real stylesheet.
#include <atomic>
#include <thread>
#include <vector>

#include "http/xslt_transform.hpp"
#include "test_support.hpp"
#include "validation/xml_validator.hpp"

namespace ozghub::adapters::http {
namespace {

namespace fs = std::filesystem;
using ozghub::testing::read_file;
using ozghub::testing::source_dir;
using ozghub::testing::TempDir;
using ozghub::testing::write_file;

fs::path profile_dir() { return source_dir() / "adapters/http/profiles/autista-sample"; }
fs::path sample_stylesheet() { return profile_dir() / "antrag-to-urkundenbestellung.xsl"; }
fs::path sample_xsd() { return profile_dir() / "urkundenbestellung-1.0.xsd"; }
std::string sample_application() {
  return read_file(profile_dir() / "sample-antrag-geburtsurkunde.xml");
}

const std::vector<XsltParam> kParams = {
    {"case-number", "20261123000000000042"},
    {"received-at", "2026-11-23T11:53:34.056Z"},
    {"office-id", "burg-standesamt"},
    {"service-id", "99050012104000"},
    {"area-id", "150860015015"},
};

std::shared_ptr<const Stylesheet> compile_or_die(const fs::path& path) {
  auto s = Stylesheet::compile(path.string());
  EXPECT_TRUE(s.is_ok()) << s.status().message();
  return s.is_ok() ? *s : nullptr;
}

TEST(AutiStaSample, SampleApplicationPassesTheHubsIngressValidation) {
  auto catalog = validation::SchemaCatalog::load(
      {{"urn:ozg-hub:schema:antrag:1.0",
        (source_dir() / "schemas/ozg-antrag/ozg-antrag-1.0.xsd").string()}});
  ASSERT_OK(catalog);
  validation::Validator validator(*catalog, validation::Limits{});
  auto outcome = validator.validate(sample_application());
  const auto* rejection = std::get_if<Rejection>(&outcome);
  EXPECT_EQ(rejection, nullptr) << (rejection ? rejection->description : "");
}

TEST(AutiStaSample, TransformsIntoAValidCertificateOrder) {
  auto style = compile_or_die(sample_stylesheet());
  ASSERT_NE(style, nullptr);
  auto out = style->transform(sample_application(), kParams);
  ASSERT_OK(out);
  auto schema = OutputSchema::load(sample_xsd().string());
  ASSERT_OK(schema);
  EXPECT_EQ((*schema)->namespace_uri(), "urn:ozg-hub:sample:autista:urkundenbestellung:1.0");
  ASSERT_OK((*schema)->validate(*out));

  const std::string& xml = *out;
  for (const char* expected :
       {"<Urkundenbestellung xmlns=\"urn:ozg-hub:sample:autista:urkundenbestellung:1.0\"",
        "<Vorgangsnummer>20261123000000000042</Vorgangsnummer>",
        "<Eingangszeitpunkt>2026-11-23T11:53:34.056Z</Eingangszeitpunkt>",
        "<Empfaenger>burg-standesamt</Empfaenger>", "<Gebiet>150860015015</Gebiet>",
        "<Urkundenart>Geburtsurkunde</Urkundenart>", "<Anzahl>2</Anzahl>",
        "<Verwendungszweck>Anmeldung zur Schule</Verwendungszweck>",
        "<Registernummer>G 123/2015</Registernummer>", "<Vornamen>Mia Sophie</Vornamen>",
        "<Geburtsdatum>2015-05-03</Geburtsdatum>",  // converted from 03.05.2015
        "<Beziehung>Elternteil</Beziehung>", "<Name>Erika Mustermann</Name>",
        "<Ort>M\xC3\xB6"
        "ckern</Ort>",
        "<Staat>Deutschland</Staat>", "<EMail>erika.mustermann@example.org</EMail>",
        "<Telefon>+49 170 0000000</Telefon>"}) {
    EXPECT_NE(xml.find(expected), std::string::npos) << expected << "\n" << xml;
  }
  EXPECT_EQ(xml.find("urn:ozg-hub:schema:antrag"), std::string::npos) << xml;
}

TEST(AutiStaSample, OwnEntryWhenNoOtherPersonIsNamed) {
  auto style = compile_or_die(sample_stylesheet());
  ASSERT_NE(style, nullptr);
  std::string app = sample_application();
  const auto from = app.find("Beziehung:");
  const auto to = app.find("</Anliegen>");
  app.replace(from, to - from, "Urkundenart: Eheurkunde\nEreignisdatum: 2019-06-14\n");
  auto out = style->transform(app, kParams);
  ASSERT_OK(out);
  auto schema = OutputSchema::load(sample_xsd().string());
  ASSERT_OK(schema);
  ASSERT_OK((*schema)->validate(*out));
  EXPECT_NE(out->find("<Vornamen>Erika</Vornamen>"), std::string::npos) << *out;
  EXPECT_NE(out->find("<Beziehung>selbst</Beziehung>"), std::string::npos) << *out;
  EXPECT_NE(out->find("<Ereignisdatum>2019-06-14</Ereignisdatum>"), std::string::npos) << *out;
}

TEST(AutiStaSample, ValidationFailureNamesThePlaceNotTheData) {
  auto style = compile_or_die(sample_stylesheet());
  ASSERT_NE(style, nullptr);
  std::string app = sample_application();
  app.replace(app.find("Urkundenart: Geburtsurkunde"), 27, "Urkundenart: Fahrradschein");
  auto out = style->transform(app, kParams);
  ASSERT_OK(out);
  auto schema = OutputSchema::load(sample_xsd().string());
  ASSERT_OK(schema);
  Status s = (*schema)->validate(*out);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("schema_violation"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("element 'Urkundenart'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("line "), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("Fahrradschein"), std::string::npos) << s.message();
}

TEST(XsltSecurity, DocumentFunctionCannotReadLocalFiles) {
  TempDir dir;
  write_file(dir.path() / "steal.xsl", R"xsl(<?xml version="1.0"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:template match="/">
    <out><xsl:copy-of select="document('file:///etc/passwd')"/><xsl:value-of
        select="document('/etc/hostname')"/></out>
  </xsl:template>
</xsl:stylesheet>
)xsl");
  auto style = compile_or_die(dir.path() / "steal.xsl");
  ASSERT_NE(style, nullptr);
  auto out = style->transform("<a>x</a>", {});
  ASSERT_FALSE(out.is_ok()) << *out;
  EXPECT_NE(out.status().message().find("security policy"), std::string::npos)
      << out.status().message();
  EXPECT_EQ(out.status().message().find("passwd"), std::string::npos) << out.status().message();
}

TEST(XsltSecurity, DocumentFunctionCannotReachTheNetwork) {
  TempDir dir;
  write_file(dir.path() / "net.xsl", R"xsl(<?xml version="1.0"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:template match="/"><out><xsl:copy-of select="document('http://127.0.0.1:9/x')"/></out>
  </xsl:template>
</xsl:stylesheet>
)xsl");
  auto style = compile_or_die(dir.path() / "net.xsl");
  ASSERT_NE(style, nullptr);
  auto out = style->transform("<a/>", {});
  ASSERT_FALSE(out.is_ok()) << *out;
}

TEST(XsltSecurity, EvenTheStylesheetItselfCannotBeReadAsADocument) {
  TempDir dir;
  write_file(dir.path() / "self.xsl", R"xsl(<?xml version="1.0"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:template match="/"><out><xsl:value-of select="count(document(''))"/></out></xsl:template>
</xsl:stylesheet>
)xsl");
  auto style = compile_or_die(dir.path() / "self.xsl");
  ASSERT_NE(style, nullptr);
  auto out = style->transform("<a/>", {});
  ASSERT_FALSE(out.is_ok()) << *out;
}

TEST(XsltSecurity, InputEntitiesAreNotExpanded) {
  TempDir dir;
  write_file(dir.path() / "copy.xsl", R"xsl(<?xml version="1.0"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:template match="/"><out><xsl:value-of select="."/></out></xsl:template>
</xsl:stylesheet>
)xsl");
  auto style = compile_or_die(dir.path() / "copy.xsl");
  ASSERT_NE(style, nullptr);
  auto out =
      style->transform("<!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><a>&x;</a>", {});
  ASSERT_FALSE(out.is_ok()) << *out;
  EXPECT_NE(out.status().message().find("DOCTYPE"), std::string::npos);
}

TEST(Xslt, TerminatingMessageFailsWithoutQuotingIt) {
  TempDir dir;
  write_file(dir.path() / "stop.xsl", R"xsl(<?xml version="1.0"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:template match="/">
    <xsl:message terminate="yes">secret: <xsl:value-of select="."/></xsl:message>
  </xsl:template>
</xsl:stylesheet>
)xsl");
  auto style = compile_or_die(dir.path() / "stop.xsl");
  ASSERT_NE(style, nullptr);
  auto out = style->transform("<a>Erika</a>", {});
  ASSERT_FALSE(out.is_ok());
  EXPECT_NE(out.status().message().find("terminated"), std::string::npos) << out.status().message();
  EXPECT_EQ(out.status().message().find("Erika"), std::string::npos) << out.status().message();
}

TEST(Xslt, ParametersAreLiteralStrings) {
  TempDir dir;
  write_file(dir.path() / "p.xsl", R"xsl(<?xml version="1.0"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output method="text"/>
  <xsl:param name="v"/>
  <xsl:template match="/"><xsl:value-of select="$v"/></xsl:template>
</xsl:stylesheet>
)xsl");
  auto style = compile_or_die(dir.path() / "p.xsl");
  ASSERT_NE(style, nullptr);
  auto out = style->transform("<a/>", {{"v", "1 + 1 'and' \"quotes\" /etc"}});
  ASSERT_OK(out);
  EXPECT_EQ(*out, "1 + 1 'and' \"quotes\" /etc");
}

TEST(Xslt, CompileErrorsNameTheFile) {
  TempDir dir;
  write_file(dir.path() / "broken.xsl", R"xsl(<?xml version="1.0"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:template match="/"><xsl:value-of select="(("/></xsl:template>
</xsl:stylesheet>
)xsl");
  auto s = Stylesheet::compile((dir.path() / "broken.xsl").string());
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.status().message().find("broken.xsl"), std::string::npos) << s.status().message();
  EXPECT_NE(s.status().message().find("does not compile"), std::string::npos)
      << s.status().message();

  write_file(dir.path() / "notxml.xsl", "<xsl:stylesheet");
  auto t = Stylesheet::compile((dir.path() / "notxml.xsl").string());
  ASSERT_FALSE(t.is_ok());
  EXPECT_NE(t.status().message().find("notxml.xsl"), std::string::npos) << t.status().message();

  auto missing = Stylesheet::compile((dir.path() / "missing.xsl").string());
  ASSERT_FALSE(missing.is_ok());
}

TEST(Xslt, OneStylesheetTransformsOnManyThreads) {
  auto style = compile_or_die(sample_stylesheet());
  ASSERT_NE(style, nullptr);
  auto schema = OutputSchema::load(sample_xsd().string());
  ASSERT_OK(schema);
  const std::string app = sample_application();
  auto reference = style->transform(app, kParams);
  ASSERT_OK(reference);
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto out = style->transform(app, kParams);
        if (!out.is_ok() || *out != *reference || !(*schema)->validate(*out).is_ok()) {
          ++mismatches;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(Xslt, DescribePositionKeepsOnlyMarkup) {
  using detail::describe_position;
  EXPECT_EQ(describe_position("line 12, column 7: element 'Familienname': [facet 'enumeration'] "
                              "The value 'Erika' is not an element of the set"),
            "line 12, column 7, element 'Familienname'");
  EXPECT_EQ(describe_position("line 3: element 'a b': x"), "line 3");
  EXPECT_EQ(describe_position("the document is empty"), "");
}

}  // namespace
}  // namespace ozghub::adapters::http
