// The real xdomea messages of the shared corpus against the xdomea XSD sets: a standard with many
// includes and imports, and messages written by somebody else.
#include <algorithm>

#include "test_support.hpp"
#include "validation/xml_validator.hpp"

namespace ozghub::validation {
namespace {

using ozghub::testing::corpus_dir;
using ozghub::testing::read_file;

constexpr const char* kVersions[] = {"2.3.0", "2.4.0", "3.0.0"};

std::string xdomea_namespace(std::string_view version) {
  return "urn:xoev-de:xdomea:schema:" + std::string(version);
}

std::shared_ptr<const SchemaCatalog> xdomea_catalog() {
  static const std::shared_ptr<const SchemaCatalog> catalog = [] {
    initialise_xml_library();
    std::vector<CatalogEntry> entries;
    for (const char* v : kVersions) {
      entries.push_back({xdomea_namespace(v),
                         (corpus_dir() / "schemas" / "xdomea" / (std::string("xdomea_") + v) /
                          "xdomea-Nachrichten-AussonderungDurchfuehren.xsd")
                             .string()});
    }
    auto loaded = SchemaCatalog::load(entries);
    if (!loaded) {
      ADD_FAILURE() << loaded.status().message();
      return std::shared_ptr<const SchemaCatalog>();
    }
    return *loaded;
  }();
  return catalog;
}

struct Message {
  std::string version;
  std::filesystem::path path;
};

std::vector<Message> real_messages() {
  std::vector<Message> out;
  for (const char* v : kVersions) {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(corpus_dir() / "messages" / "xdomea" /
                                                             (std::string("xdomea_") + v))) {
      if (e.path().extension() == ".xml") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (auto& f : files) out.push_back({v, f});
  }
  for (const auto& e : std::filesystem::directory_iterator(corpus_dir() / "messages" /
                                                           "xdomea-examples" / "v3.0.0")) {
    if (e.path().extension() == ".xml") out.push_back({"3.0.0", e.path()});
  }
  return out;
}

std::string outcome(const OrRejection<Validated>& r) {
  if (const auto* v = std::get_if<Validated>(&r)) return "valid " + v->namespace_uri;
  const auto& rej = std::get<Rejection>(r);
  return std::string(condition_label(rej.condition)) + ": " + rej.description;
}

// "line L, column C" of a byte offset, counted the way a person counts in an editor.
std::string position(std::string_view text, std::size_t offset) {
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i < offset; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++line;
      column = 1;
    } else if ((c & 0xC0) != 0x80) {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

TEST(XdomeaSchemaCatalog, LoadsThreeVersionsWithTheirImports) {
  const auto catalog = xdomea_catalog();
  ASSERT_NE(catalog, nullptr);
  EXPECT_EQ(catalog->namespaces(),
            (std::vector<std::string>{xdomea_namespace("2.3.0"), xdomea_namespace("2.4.0"),
                                      xdomea_namespace("3.0.0")}));
}

TEST(XdomeaValidation, RealMessagesAreValid) {
  const auto messages = real_messages();
  ASSERT_EQ(messages.size(), 13u);
  Validator validator(xdomea_catalog(), Limits{});
  for (const auto& m : messages) {
    SCOPED_TRACE(m.path.string());
    // Every message carries an xsi:schemaLocation (an http URL, or /dev/null in the hand-written
    // one); validation uses the catalog's grammar for its namespace regardless.
    const std::string xml = read_file(m.path);
    ASSERT_NE(xml.find("schemaLocation"), std::string::npos);
    EXPECT_EQ(outcome(validator.validate(xml)), "valid " + xdomea_namespace(m.version));
    EXPECT_EQ(outcome(validator.validate(xml, xdomea_namespace(m.version))),
              "valid " + xdomea_namespace(m.version));
  }
}

TEST(XdomeaValidation, MessageOfAnotherVersionThanTheNamedSchemaIsRejected) {
  Validator validator(xdomea_catalog(), Limits{});
  const auto r = validator.validate(
      read_file(corpus_dir() /
                "messages/xdomea/xdomea_2.3.0/xx_Aussonderung.Aussonderung.0503.xml"),
      xdomea_namespace("3.0.0"));
  EXPECT_EQ(
      outcome(r),
      "schema_violation: line 2, column 1: element 'Aussonderung.Aussonderung.0503': the root "
      "element is in namespace 'urn:xoev-de:xdomea:schema:2.3.0', but the message names the "
      "schema 'urn:xoev-de:xdomea:schema:3.0.0'");
}

// An element the schema does not know, inserted on its own line as the first child of the
// message head.
TEST(XdomeaValidation, InsertedElementIsReportedAtItsLineAndColumn) {
  Validator validator(xdomea_catalog(), Limits{});
  for (const auto& m : real_messages()) {
    SCOPED_TRACE(m.path.string());
    std::string xml = read_file(m.path);
    const auto kopf = xml.find("<xdomea:Kopf>");
    ASSERT_NE(kopf, std::string::npos);
    const std::size_t insert_at = kopf + std::string_view("<xdomea:Kopf>").size();
    const std::string inserted = "\n      <xdomea:Unerwartet>x</xdomea:Unerwartet>";
    xml.insert(insert_at, inserted);
    const std::size_t element_at = insert_at + inserted.find('<');
    EXPECT_EQ(
        outcome(validator.validate(xml)),
        "schema_violation: " + position(xml, element_at) +
            ": element 'Unerwartet': This element is not expected. Expected is ( ProzessID ).");
  }
}

// A required element removed: the validator notices at the element that follows it.
TEST(XdomeaValidation, RemovedRequiredElementIsReportedWhereTheNextOneStarts) {
  Validator validator(xdomea_catalog(), Limits{});
  for (const auto& m : real_messages()) {
    SCOPED_TRACE(m.path.string());
    std::string xml = read_file(m.path);
    const auto begin = xml.find("<xdomea:ProzessID>");
    const auto end = xml.find("</xdomea:ProzessID>");
    ASSERT_NE(begin, std::string::npos);
    ASSERT_NE(end, std::string::npos);
    xml.erase(begin, end + std::string_view("</xdomea:ProzessID>").size() - begin);
    const auto next = xml.find("<xdomea:Nachrichtentyp", begin);
    ASSERT_NE(next, std::string::npos);
    const auto r = validator.validate(xml);
    EXPECT_EQ(outcome(r), "schema_violation: " + position(xml, next) +
                              ": element 'Nachrichtentyp': This element is not expected. Expected "
                              "is ( ProzessID ).");
  }
}

// A value that breaks its type, deep inside the message: the description points at the element.
TEST(XdomeaValidation, BrokenValueIsReportedAtItsElement) {
  Validator validator(xdomea_catalog(), Limits{});
  for (const auto& m : real_messages()) {
    SCOPED_TRACE(m.path.string());
    std::string xml = read_file(m.path);
    const std::string open = "<xdomea:Erstellungszeitpunkt>";
    const auto at = xml.find(open);
    ASSERT_NE(at, std::string::npos);
    const auto value_end = xml.find('<', at + open.size());
    xml.replace(at + open.size(), value_end - at - open.size(), "gestern");
    const auto r = validator.validate(xml);
    EXPECT_EQ(outcome(r), "schema_violation: " + position(xml, at) +
                              ": element 'Erstellungszeitpunkt': 'gestern' is not a valid value of "
                              "the atomic type 'xs:dateTime'.");
  }
}

}  // namespace
}  // namespace ozghub::validation
