#include "validation/xml_validator.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlIO.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <thread>

#include "test_support.hpp"

namespace ozghub::validation {
namespace {

using ozghub::testing::read_file;
using ozghub::testing::source_dir;
using ozghub::testing::TempDir;
using ozghub::testing::write_file;

constexpr std::string_view kAntragNs = "urn:ozg-hub:schema:antrag:1.0";

std::filesystem::path antrag_xsd() {
  return source_dir() / "schemas" / "ozg-antrag" / "ozg-antrag-1.0.xsd";
}
std::filesystem::path validation_corpus() {
  return source_dir() / "tests" / "unit" / "validation" / "corpus";
}

std::shared_ptr<const SchemaCatalog> antrag_catalog() {
  static const std::shared_ptr<const SchemaCatalog> catalog = [] {
    initialise_xml_library();
    auto loaded = SchemaCatalog::load({{std::string(kAntragNs), antrag_xsd().string()}});
    if (!loaded) {
      ADD_FAILURE() << loaded.status().message();
      return std::shared_ptr<const SchemaCatalog>();
    }
    return *loaded;
  }();
  return catalog;
}

std::string minimal_antrag() { return read_file(validation_corpus() / "valid__minimal.xml"); }
std::string example_antrag() {
  return read_file(source_dir() / "schemas" / "ozg-antrag" / "example-antrag.xml");
}

std::string outcome(const OrRejection<Validated>& r) {
  if (std::holds_alternative<Validated>(r)) return "valid";
  return std::string(condition_label(std::get<Rejection>(r).condition));
}
std::string description(const OrRejection<Validated>& r) {
  if (const auto* rej = std::get_if<Rejection>(&r)) return rej->description;
  return "(valid: " + std::get<Validated>(r).namespace_uri + ")";
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
    s.replace(pos, from.size(), to);
}
std::string replaced(std::string s, std::string_view from, std::string_view to) {
  EXPECT_NE(s.find(from), std::string::npos) << from;
  s.replace(s.find(from), from.size(), to);
  return s;
}

bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t len = c < 0x80         ? 1
                            : (c >> 5) == 6  ? 2
                            : (c >> 4) == 14 ? 3
                            : (c >> 3) == 30 ? 4
                                             : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

// Reports whether anything opened or read a file after the watch was set up (inotify sees every
// process, including this one).
class FileWatch {
 public:
  explicit FileWatch(const std::filesystem::path& path)
      : fd_(inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
    if (fd_ >= 0) wd_ = inotify_add_watch(fd_, path.c_str(), IN_OPEN | IN_ACCESS);
  }
  ~FileWatch() {
    if (fd_ >= 0) close(fd_);
  }
  FileWatch(const FileWatch&) = delete;
  FileWatch& operator=(const FileWatch&) = delete;
  bool armed() const { return fd_ >= 0 && wd_ >= 0; }
  bool touched() {
    alignas(inotify_event) char buf[4096];
    return read(fd_, buf, sizeof buf) > 0;
  }

 private:
  int fd_;
  int wd_ = -1;
};

// A listening socket on 127.0.0.1: the kernel completes any connection attempt into the backlog,
// so "readable" means somebody tried to connect.
class Listener {
 public:
  Listener() : fd_(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(0x7F000001U);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(fd_, 16) != 0 || getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
      return;
    }
    port_ = ntohs(addr.sin_port);
  }
  ~Listener() {
    if (fd_ >= 0) close(fd_);
  }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  int port() const { return port_; }
  bool contacted() const {
    pollfd p{fd_, POLLIN, 0};
    return poll(&p, 1, 100) > 0;
  }

 private:
  int fd_;
  int port_ = 0;
};

// Fills the placeholders of the corpus documents: a canary file the hostile ones point at and
// the port of a socket nobody may connect to.
struct Traps {
  TempDir dir;
  std::filesystem::path canary = dir.path() / "canary.txt";
  Listener listener;
  Traps() { write_file(canary, "secret: if this text shows up anywhere, a file was read\n"); }
  std::string instantiate(std::string text) const {
    replace_all(text, "@HTTP_PORT@", std::to_string(listener.port()));
    replace_all(text, "@CANARY_URL@", "file://" + canary.string());
    replace_all(text, "@CANARY_PATH@", canary.string());
    return text;
  }
};

// ---- Data-driven corpus ----------------------------------------------------------------------

std::map<std::string, std::string> expected_descriptions() {
  std::map<std::string, std::string> out;
  std::istringstream in(read_file(validation_corpus() / "expected-descriptions.tsv"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto tab = line.find('\t');
    if (tab == std::string::npos) continue;
    out[line.substr(0, tab)] = line.substr(tab + 1);
  }
  return out;
}

TEST(ValidationCorpus, EveryDocumentHasTheOutcomeItsNameStates) {
  Traps traps;
  FileWatch watch(traps.canary);
  ASSERT_TRUE(watch.armed());
  const auto descriptions = expected_descriptions();

  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(validation_corpus())) {
    if (e.path().extension() == ".xml") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 50u);
  for (const auto& [name, text] : descriptions) {
    EXPECT_TRUE(std::filesystem::exists(validation_corpus() / name)) << name;
  }

  // One validator for everything, twice, in two orders: a hostile document must leave nothing
  // behind in the reused parser and validation contexts.
  Validator validator(antrag_catalog(), Limits{});
  for (int round = 0; round < 2; ++round) {
    for (const auto& file : files) {
      const std::string name = file.filename().string();
      SCOPED_TRACE(name);
      const std::string expected = name.substr(0, name.find("__"));
      const auto result = validator.validate(traps.instantiate(read_file(file)));
      EXPECT_EQ(outcome(result), expected) << description(result);
      if (expected == "valid") {
        EXPECT_EQ(description(result), "(valid: " + std::string(kAntragNs) + ")");
        continue;
      }
      const std::string text = description(result);
      EXPECT_TRUE(is_valid_utf8(text)) << text;
      EXPECT_LE(text.size(), 503u);
      if (expected != "unknown_schema") {
        EXPECT_EQ(text.rfind("line ", 0), 0u) << text;
      }
      EXPECT_EQ(text.find("{urn:ozg-hub"), std::string::npos) << text;
      EXPECT_EQ(text.find("secret"), std::string::npos) << text;
      if (const auto it = descriptions.find(name); it != descriptions.end()) {
        EXPECT_NE(text.find(it->second), std::string::npos)
            << "description: " << text << "\nexpected to contain: " << it->second;
      }
    }
    std::reverse(files.begin(), files.end());
  }
  EXPECT_FALSE(watch.touched()) << "a hostile document made the parser open the canary file";
  EXPECT_FALSE(traps.listener.contacted()) << "a hostile document made the parser connect";
}

TEST(ValidationCorpus, ShippedExampleIsValid) {
  Validator validator(antrag_catalog(), Limits{});
  const auto result = validator.validate(example_antrag());
  EXPECT_EQ(outcome(result), "valid") << description(result);
}

// ---- Generated hostile documents -------------------------------------------------------------

std::string nested(int depth) {
  std::string s = "<Antrag xmlns=\"urn:ozg-hub:schema:antrag:1.0\">";
  for (int i = 1; i < depth; ++i) s += "<a>";
  for (int i = 1; i < depth; ++i) s += "</a>";
  return s + "</Antrag>";
}

TEST(XmlValidatorHardening, NestingDeeperThanTheLimitIsForbidden) {
  Limits limits;
  limits.max_depth = 128;
  Validator validator(antrag_catalog(), limits);
  const auto at_limit = validator.validate(nested(128));
  EXPECT_EQ(outcome(at_limit), "schema_violation") << description(at_limit);
  const auto over = validator.validate(nested(129));
  EXPECT_EQ(outcome(over), "forbidden_construct");
  EXPECT_EQ(description(over), "line 1, column 428: elements are nested deeper than 128 levels");
}

TEST(XmlValidatorHardening, DeepNestingIsForbiddenEvenBeyondLibxml2sOwnLimit) {
  Limits limits;
  limits.max_depth = 100000;  // acts as 256, libxml2's own ceiling
  Validator validator(antrag_catalog(), limits);
  const auto start = std::chrono::steady_clock::now();
  for (int depth : {257, 300, 200000}) {
    const auto r = validator.validate(nested(depth));
    EXPECT_EQ(outcome(r), "forbidden_construct") << depth << ": " << description(r);
    EXPECT_NE(description(r).find("deeper than 256 levels"), std::string::npos);
  }
  // A guard against super-linear blow-ups, not a performance figure (see benchmarks/).
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

TEST(XmlValidatorHardening, DocumentOverTheSizeLimitIsTooLargeBeforeParsing) {
  const std::string doc = example_antrag();
  Limits limits;
  limits.max_document_bytes = doc.size();
  Validator validator(antrag_catalog(), limits);
  EXPECT_EQ(outcome(validator.validate(doc)), "valid");
  const std::string bigger = doc + " ";
  const auto r = validator.validate(bigger);
  EXPECT_EQ(outcome(r), "too_large");
  EXPECT_EQ(description(r), "the document has " + std::to_string(bigger.size()) +
                                " bytes; the limit is " + std::to_string(doc.size()));
  // Too large wins even when the document is also hostile: nothing of it is parsed.
  EXPECT_EQ(outcome(validator.validate("<!DOCTYPE x [<!ENTITY a \"" + std::string(doc.size(), 'a') +
                                       "\">]><x/>")),
            "too_large");
}

TEST(XmlValidatorHardening, EmptyDocumentIsNotWellFormed) {
  Validator validator(antrag_catalog(), Limits{});
  const auto r = validator.validate("");
  EXPECT_EQ(outcome(r), "not_well_formed");
  EXPECT_EQ(description(r), "the document is empty");
  EXPECT_EQ(outcome(validator.validate("   \n")), "not_well_formed");
}

struct Utf8Case {
  const char* name;
  std::string_view anchor;  // replaced in the minimal document
  std::string replacement;
};

class XmlValidatorInvalidUtf8 : public ::testing::TestWithParam<Utf8Case> {};

TEST_P(XmlValidatorInvalidUtf8, IsNotWellFormed) {
  Validator validator(antrag_catalog(), Limits{});
  const std::string doc = replaced(minimal_antrag(), GetParam().anchor, GetParam().replacement);
  const auto r = validator.validate(doc);
  EXPECT_EQ(outcome(r), "not_well_formed") << description(r);
  EXPECT_EQ(description(r).rfind("line ", 0), 0u) << description(r);
  EXPECT_TRUE(is_valid_utf8(description(r))) << description(r);
  // The same validator goes on to accept a valid document.
  EXPECT_EQ(outcome(validator.validate(minimal_antrag())), "valid");
}

INSTANTIATE_TEST_SUITE_P(
    Positions, XmlValidatorInvalidUtf8,
    ::testing::Values(Utf8Case{"lone_continuation_in_text", "Rückruf",
                               "R\x80"
                               "ckruf"},
                      Utf8Case{"ff_byte_in_text", "Rückruf",
                               "R\xFF"
                               "ckruf"},
                      Utf8Case{"truncated_sequence_in_text", "Rückruf", "R\xC3"},
                      Utf8Case{"overlong_slash", "Rückruf",
                               "R\xC0\xAF"
                               "ckruf"},
                      Utf8Case{"utf16_surrogate", "Rückruf",
                               "R\xED\xA0\x80"
                               "ckruf"},
                      Utf8Case{"beyond_unicode", "Rückruf",
                               "R\xF4\x90\x80\x80"
                               "ckruf"},
                      Utf8Case{"in_attribute_value", "<Anliegen>", "<Anliegen a=\"\xFE\">"},
                      Utf8Case{"in_element_name", "<Anliegen>Bitte um Rückruf.</Anliegen>",
                               "<Anl\xE9gen>x</Anl\xE9gen>"},
                      Utf8Case{"in_comment", "<Anliegen>", "<!-- \xE9 --><Anliegen>"},
                      Utf8Case{"in_cdata", "Bitte um Rückruf.", "<![CDATA[\xE9]]>"},
                      Utf8Case{"in_processing_instruction", "<Anliegen>", "<?pi \xE9?><Anliegen>"},
                      Utf8Case{"latin1_umlaut_in_text", "Köln", "K\xF6ln"}),
    [](const ::testing::TestParamInfo<Utf8Case>& param) { return std::string(param.param.name); });

TEST(XmlValidatorHardening, InvalidUtf8AtTheVeryEndIsNotWellFormed) {
  Validator validator(antrag_catalog(), Limits{});
  const auto r = validator.validate(minimal_antrag() + "\xC3");
  EXPECT_EQ(outcome(r), "not_well_formed") << description(r);
}

std::string utf16(std::string_view ascii_or_utf8, bool little_endian) {
  std::string out = little_endian ? "\xFF\xFE" : "\xFE\xFF";
  for (std::size_t i = 0; i < ascii_or_utf8.size(); ++i) {
    auto c = static_cast<unsigned char>(ascii_or_utf8[i]);
    unsigned code = c;
    if (c >= 0x80) {  // two-byte UTF-8 is enough for the test documents
      code = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(ascii_or_utf8[++i]) & 0x3Fu);
    }
    const char lo = static_cast<char>(code & 0xFF);
    const char hi = static_cast<char>(code >> 8);
    out += little_endian ? std::string{lo, hi} : std::string{hi, lo};
  }
  return out;
}

TEST(XmlValidatorHardening, OnlyUtf8IsAccepted) {
  Validator validator(antrag_catalog(), Limits{});
  const std::string utf8 = minimal_antrag();
  for (bool le : {true, false}) {
    const std::string doc = utf16(replaced(utf8, "encoding=\"UTF-8\"", "encoding=\"UTF-16\""), le);
    const auto r = validator.validate(doc);
    EXPECT_EQ(outcome(r), "not_well_formed") << description(r);
    EXPECT_NE(description(r).find("only UTF-8 is accepted"), std::string::npos) << description(r);
    EXPECT_NE(description(r).find("UTF-16"), std::string::npos) << description(r);
  }
  // Declared ISO-8859-1 with a real Latin-1 byte in it: libxml2 could decode it, the hub does not.
  std::string latin1 = replaced(utf8, "encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\"");
  latin1 = replaced(latin1, "K\xC3\xB6ln", "K\xF6ln");
  const auto r = validator.validate(latin1);
  EXPECT_EQ(outcome(r), "not_well_formed");
  EXPECT_EQ(description(r),
            "line 1, column 1: only UTF-8 is accepted, but the document is encoded as ISO-8859-1");
  for (const char* name : {"windows-1252", "US-ASCII", "UTF-32", "EBCDIC-nonsense"}) {
    const auto other = validator.validate(
        replaced(utf8, "encoding=\"UTF-8\"", std::string("encoding=\"") + name + "\""));
    EXPECT_EQ(outcome(other), "not_well_formed") << name << ": " << description(other);
  }
  // A UTF-8 byte order mark is fine.
  EXPECT_EQ(outcome(validator.validate("\xEF\xBB\xBF" + utf8)), "valid");
}

std::string element_with_attributes(int n) {
  std::string s = "<Antrag xmlns=\"urn:ozg-hub:schema:antrag:1.0\"";
  for (int i = 0; i < n; ++i) s += " a" + std::to_string(i) + "=\"\"";
  return s + "/>";
}

TEST(XmlValidatorHardening, TooManyAttributesAreForbiddenAndCheapToRefuse) {
  Validator validator(antrag_catalog(), Limits{});
  const auto within = validator.validate(element_with_attributes(255));
  EXPECT_EQ(outcome(within), "schema_violation") << description(within);
  const auto over = validator.validate(element_with_attributes(256));
  EXPECT_EQ(outcome(over), "forbidden_construct");
  EXPECT_EQ(description(over), "line 1, column 1: an element has more than 256 attributes");

  // libxml2 2.9 needs ~2 s for 40,000 attributes and hours for a 16 MiB tag; refused up front.
  const auto start = std::chrono::steady_clock::now();
  const auto huge = validator.validate(element_with_attributes(1'000'000));
  EXPECT_EQ(outcome(huge), "forbidden_construct");
  // A guard against super-linear blow-ups (they took minutes), not a performance figure:
  // those are measured in benchmarks/.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(15));
}

TEST(XmlValidatorHardening, ParserErrorsStopTheParseSoBrokenDocumentsStayCheap) {
  // After an error libxml2 2.9 would keep parsing the rest in recovery; the validator stops at
  // the next callback. Each tag below is within the attribute limit, but thousands of them after
  // an error would still cost seconds if the parser went on.
  std::string tag = "<x";
  for (int i = 0; i < 250; ++i) tag += " a" + std::to_string(i) + "=''";
  tag += "/>";
  std::string doc = "<Antrag xmlns=\"urn:ozg-hub:schema:antrag:1.0\">&undefined;";
  while (doc.size() < (8u << 20)) doc += tag;
  doc += "</Antrag>";
  Validator validator(antrag_catalog(), Limits{});
  const auto start = std::chrono::steady_clock::now();
  const auto r = validator.validate(doc);
  EXPECT_EQ(outcome(r), "not_well_formed") << description(r);
  EXPECT_EQ(description(r), "line 1, column 58: Entity 'undefined' not defined");
  // A guard against super-linear blow-ups (they took minutes), not a performance figure:
  // those are measured in benchmarks/.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(15));
}

TEST(XmlValidatorHardening, NamespaceDeclarationsInScopeAreBounded) {
  Validator validator(antrag_catalog(), Limits{});
  std::string doc = "<Antrag xmlns=\"urn:ozg-hub:schema:antrag:1.0\">";
  for (int level = 0; level < 20; ++level) {
    doc += "<a";
    for (int i = 0; i < 10; ++i)
      doc += " xmlns:p" + std::to_string(level) + "_" + std::to_string(i) +
             "=\"urn:x:" + std::to_string(i) + "\"";
    doc += ">";
  }
  for (int level = 0; level < 20; ++level) doc += "</a>";
  doc += "</Antrag>";
  const auto r = validator.validate(doc);
  EXPECT_EQ(outcome(r), "forbidden_construct") << description(r);
  EXPECT_NE(description(r).find("too many namespace declarations are in scope; the limit is 128"),
            std::string::npos);
}

TEST(XmlValidatorHardening, LargeHostileButWellFormedDocumentsStayLinear) {
  Validator validator(antrag_catalog(), Limits{});
  const std::string base = minimal_antrag();
  struct Shape {
    const char* name;
    std::string unit;
  };
  for (const Shape& shape :
       {Shape{"entity references", "&amp;"}, Shape{"character references", "&#x20AC;"},
        Shape{"plain text", "Rückruf "}, Shape{"cdata sections", "<![CDATA[x]]>"},
        Shape{"comments", "<!--c-->"}}) {
    std::string filler;
    while (filler.size() < (12u << 20)) filler += shape.unit;
    const std::string doc = replaced(base, "Bitte um Rückruf.", filler);
    const auto start = std::chrono::steady_clock::now();
    const auto r = validator.validate(doc);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(outcome(r), "schema_violation") << shape.name << ": " << description(r);
    // A guard against the quadratic text handling that took 86 s here, not a performance figure.
    EXPECT_LT(elapsed, std::chrono::seconds(30)) << shape.name;
  }
}

// ---- Descriptions ----------------------------------------------------------------------------

TEST(XmlValidatorDescriptions, SchemaViolationNamesLineColumnElementAndRule) {
  Validator validator(antrag_catalog(), Limits{});
  const std::string doc =
      replaced(minimal_antrag(), "    <Vornamen>Erika</Vornamen>\n",
               "    <Vornamen>Erika</Vornamen>\n    <Doktorgrad>Dr.</Doktorgrad>\n");
  const auto r = validator.validate(doc);
  EXPECT_EQ(outcome(r), "schema_violation");
  EXPECT_EQ(description(r),
            "line 7, column 5: element 'Doktorgrad': This element is not expected. Expected is one "
            "of ( Geburtsname, Geburtsdatum ).");
}

TEST(XmlValidatorDescriptions, MissingElementIsReportedWhereTheNextOneStarts) {
  Validator validator(antrag_catalog(), Limits{});
  const std::string doc =
      replaced(minimal_antrag(),
               "  <Kontakt>\n    <EMail>erika.mustermann@example.org</EMail>\n  </Kontakt>\n", "");
  const auto r = validator.validate(doc);
  EXPECT_EQ(outcome(r), "schema_violation");
  EXPECT_EQ(description(r),
            "line 18, column 3: element 'Anliegen': This element is not expected. Expected is ( "
            "Kontakt ).");
}

TEST(XmlValidatorDescriptions, MissingLastChildIsReportedAtTheParentsEndTag) {
  Validator validator(antrag_catalog(), Limits{});
  const std::string doc = replaced(
      minimal_antrag(),
      "    <MissbrauchsHinweisZurKenntnisGenommen>true</MissbrauchsHinweisZurKenntnisGenommen>\n",
      "");
  const auto r = validator.validate(doc);
  EXPECT_EQ(outcome(r), "schema_violation");
  EXPECT_EQ(description(r),
            "line 26, column 3: element 'Erklaerungen': Missing child element(s). Expected is ( "
            "MissbrauchsHinweisZurKenntnisGenommen ).");
}

TEST(XmlValidatorDescriptions, FacetViolationQuotesTheValueAndTheRule) {
  Validator validator(antrag_catalog(), Limits{});
  const auto r = validator.validate(
      replaced(minimal_antrag(), "<RichtigkeitVersichert>true", "<RichtigkeitVersichert>false"));
  EXPECT_EQ(outcome(r), "schema_violation");
  EXPECT_EQ(description(r),
            "line 24, column 5: element 'RichtigkeitVersichert': [facet 'pattern'] The value "
            "'false' is not accepted by the pattern 'true'.");
}

TEST(XmlValidatorDescriptions, NotWellFormedNamesLineAndColumn) {
  Validator validator(antrag_catalog(), Limits{});
  const auto r =
      validator.validate(replaced(minimal_antrag(), "<Ort>Köln</Ort>", "<Ort>Köln</Stadt>"));
  EXPECT_EQ(outcome(r), "not_well_formed");
  EXPECT_EQ(description(r),
            "line 16, column 22: Opening and ending tag mismatch: Ort line 16 and Stadt");
}

TEST(XmlValidatorDescriptions, DoctypeIsReportedWhereItStarts) {
  Validator validator(antrag_catalog(), Limits{});
  const auto r = validator.validate(
      "<?xml version=\"1.0\"?>\n<!-- x -->\n  <!DOCTYPE Antrag SYSTEM \"x.dtd\">\n<Antrag/>");
  EXPECT_EQ(outcome(r), "forbidden_construct");
  EXPECT_EQ(description(r),
            "line 3, column 3: a DOCTYPE declaration is not allowed (no DTDs, entity declarations "
            "or external references)");
}

TEST(XmlValidatorDescriptions, LongDescriptionsAreCutAtACharacterBoundary) {
  Validator validator(antrag_catalog(), Limits{});
  std::string name;
  while (name.size() < 3000) name += "\xC3\xA4";  // ä
  const auto r = validator.validate(
      replaced(minimal_antrag(), "<Anliegen>Bitte um Rückruf.</Anliegen>", "<" + name + "/>"));
  EXPECT_EQ(outcome(r), "schema_violation");
  const std::string text = description(r);
  EXPECT_LE(text.size(), 503u);
  EXPECT_TRUE(is_valid_utf8(text));
  EXPECT_EQ(text.substr(text.size() - 3), "\xE2\x80\xA6");
  EXPECT_EQ(text.rfind("line 21, column 3: element '\xC3\xA4\xC3\xA4", 0), 0u) << text;
}

TEST(XmlValidatorDescriptions, LineNumbersBeyond65535AreExact) {
  Validator validator(antrag_catalog(), Limits{});
  const std::string doc = replaced(minimal_antrag(), "<Anliegen>Bitte um Rückruf.</Anliegen>",
                                   std::string(70000, '\n') + "<Unerwartet/>");
  const auto r = validator.validate(doc);
  EXPECT_EQ(outcome(r), "schema_violation");
  EXPECT_EQ(description(r).rfind("line 70021, column 1: element 'Unerwartet'", 0), 0u)
      << description(r);
}

// ---- The `schema` property -------------------------------------------------------------------

TEST(XmlValidatorSchemaProperty, NamedSchemaMustBeInTheCatalog) {
  Validator validator(antrag_catalog(), Limits{});
  const auto r = validator.validate(minimal_antrag(), "urn:example:unknown");
  EXPECT_EQ(outcome(r), "unknown_schema");
  EXPECT_EQ(description(r),
            "the schema 'urn:example:unknown' named by the message is not in the schema catalog; "
            "the catalog has 'urn:ozg-hub:schema:antrag:1.0'");
}

TEST(XmlValidatorSchemaProperty, RootNamespaceMustMatchTheNamedSchema) {
  auto loaded = SchemaCatalog::load(
      {{std::string(kAntragNs), antrag_xsd().string()},
       {"urn:xoev-de:xdomea:schema:3.0.0",
        (ozghub::testing::corpus_dir() / "schemas/xdomea/xdomea_3.0.0/"
                                         "xdomea-Nachrichten-AussonderungDurchfuehren.xsd")
            .string()}});
  ASSERT_OK(loaded);
  Validator validator(*loaded, Limits{});
  const auto r = validator.validate(minimal_antrag(), "urn:xoev-de:xdomea:schema:3.0.0");
  EXPECT_EQ(outcome(r), "schema_violation");
  EXPECT_EQ(description(r),
            "line 2, column 1: element 'Antrag': the root element is in namespace "
            "'urn:ozg-hub:schema:antrag:1.0', but the message names the schema "
            "'urn:xoev-de:xdomea:schema:3.0.0'");
  const auto ok = validator.validate(minimal_antrag(), kAntragNs);
  EXPECT_EQ(outcome(ok), "valid") << description(ok);
}

TEST(XmlValidatorSchemaProperty, UnknownRootNamespaceListsTheCatalog) {
  Validator validator(antrag_catalog(), Limits{});
  const auto r = validator.validate("<x:Antrag xmlns:x=\"urn:example:other\"/>");
  EXPECT_EQ(outcome(r), "unknown_schema");
  EXPECT_EQ(description(r),
            "the root element 'Antrag' is in namespace 'urn:example:other', which is not in the "
            "schema catalog; the catalog has 'urn:ozg-hub:schema:antrag:1.0'");
  const auto none = validator.validate("<Antrag/>");
  EXPECT_EQ(outcome(none), "unknown_schema");
  EXPECT_EQ(description(none).rfind("the root element 'Antrag' has no namespace", 0), 0u);
}

TEST(XmlValidatorSchemaProperty, NotWellFormedWinsOverASchemaViolationEarlierInTheDocument) {
  Validator validator(antrag_catalog(), Limits{});
  std::string doc = replaced(minimal_antrag(), "<Anrede>keine Angabe", "<Anrede>Dr.");
  doc = replaced(doc, "<Ort>Köln</Ort>", "<Ort>Köln</Stadt>");
  EXPECT_EQ(outcome(validator.validate(doc)), "not_well_formed");
  // And a DOCTYPE wins over everything.
  EXPECT_EQ(outcome(validator.validate(replaced(doc, "?>\n", "?>\n<!DOCTYPE Antrag>\n"))),
            "forbidden_construct");
}

// ---- Schema-location hints -------------------------------------------------------------------

constexpr std::string_view kPermissiveXsd = R"(<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:ozg-hub:schema:antrag:1.0"
           elementFormDefault="qualified">
  <xs:element name="Antrag"><xs:complexType><xs:sequence>
    <xs:any processContents="skip" minOccurs="0" maxOccurs="unbounded"/>
  </xs:sequence></xs:complexType></xs:element>
</xs:schema>
)";

constexpr std::string_view kStrictXsd = R"(<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:ozg-hub:schema:antrag:1.0"
           elementFormDefault="qualified">
  <xs:element name="Antrag"><xs:complexType><xs:sequence>
    <xs:element name="NurDiesesElement" type="xs:string"/>
  </xs:sequence></xs:complexType></xs:element>
</xs:schema>
)";

std::string with_schema_location(std::string doc, const std::string& hint) {
  return replaced(std::move(doc), "<Antrag xmlns=\"urn:ozg-hub:schema:antrag:1.0\">",
                  "<Antrag xmlns=\"urn:ozg-hub:schema:antrag:1.0\" "
                  "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" " +
                      hint + ">");
}

TEST(XmlValidatorSchemaLocation, LocalFileHintsAreNeverRead) {
  TempDir dir;
  const auto permissive = dir.path() / "permissive.xsd";
  const auto strict = dir.path() / "strict.xsd";
  write_file(permissive, kPermissiveXsd);
  write_file(strict, kStrictXsd);

  // Both files would change the outcome if they were used.
  const std::string invalid =
      replaced(minimal_antrag(),
               "  <Kontakt>\n    <EMail>erika.mustermann@example.org</EMail>\n  </Kontakt>\n", "");
  const std::string valid = minimal_antrag();
  {
    auto permissive_catalog = SchemaCatalog::load({{std::string(kAntragNs), permissive.string()}});
    auto strict_catalog = SchemaCatalog::load({{std::string(kAntragNs), strict.string()}});
    ASSERT_OK(permissive_catalog);
    ASSERT_OK(strict_catalog);
    EXPECT_EQ(outcome(Validator(*permissive_catalog, Limits{}).validate(invalid)), "valid");
    EXPECT_EQ(outcome(Validator(*strict_catalog, Limits{}).validate(valid)), "schema_violation");
  }

  FileWatch permissive_watch(permissive);
  FileWatch strict_watch(strict);
  ASSERT_TRUE(permissive_watch.armed());
  ASSERT_TRUE(strict_watch.armed());
  Validator validator(antrag_catalog(), Limits{});
  for (const std::string& prefix : {std::string(), std::string("file://")}) {
    const auto r1 = validator.validate(
        with_schema_location(invalid, "xsi:schemaLocation=\"urn:ozg-hub:schema:antrag:1.0 " +
                                          prefix + permissive.string() + "\""));
    EXPECT_EQ(outcome(r1), "schema_violation") << description(r1);
    const auto r2 = validator.validate(with_schema_location(
        valid,
        "xsi:schemaLocation=\"urn:ozg-hub:schema:antrag:1.0 " + prefix + strict.string() + "\""));
    EXPECT_EQ(outcome(r2), "valid") << description(r2);
    const auto r3 = validator.validate(with_schema_location(
        valid, "xsi:noNamespaceSchemaLocation=\"" + prefix + strict.string() + "\""));
    EXPECT_EQ(outcome(r3), "valid") << description(r3);
  }
  EXPECT_FALSE(permissive_watch.touched());
  EXPECT_FALSE(strict_watch.touched());
}

TEST(XmlValidatorSchemaLocation, NetworkHintsAreNeverFetched) {
  Listener listener;
  const std::string url = "http://127.0.0.1:" + std::to_string(listener.port()) + "/ozg-antrag.xsd";
  Validator validator(antrag_catalog(), Limits{});
  const std::string invalid = replaced(minimal_antrag(), "<Anrede>keine Angabe", "<Anrede>Dr.");
  EXPECT_EQ(
      outcome(validator.validate(with_schema_location(
          minimal_antrag(), "xsi:schemaLocation=\"urn:ozg-hub:schema:antrag:1.0 " + url + "\""))),
      "valid");
  EXPECT_EQ(outcome(validator.validate(with_schema_location(
                invalid, "xsi:schemaLocation=\"urn:ozg-hub:schema:antrag:1.0 " + url + "\""))),
            "schema_violation");
  EXPECT_EQ(outcome(validator.validate(with_schema_location(
                minimal_antrag(), "xsi:noNamespaceSchemaLocation=\"" + url + "\""))),
            "valid");
  EXPECT_FALSE(listener.contacted());
}

// ---- The external-entity loader and libxml2's I/O --------------------------------------------

TEST(XmlEntityLoader, RefusesFilesAndNetworkOutsideCatalogLoading) {
  initialise_xml_library();
  Traps traps;
  FileWatch watch(traps.canary);
  ASSERT_TRUE(watch.armed());
  xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
  ASSERT_NE(ctxt, nullptr);
  const std::string http = "http://127.0.0.1:" + std::to_string(traps.listener.port()) + "/x.dtd";
  for (const std::string& url :
       {"file://" + traps.canary.string(), traps.canary.string(), http,
        "ftp://127.0.0.1:" + std::to_string(traps.listener.port()) + "/x"}) {
    EXPECT_EQ(xmlLoadExternalEntity(url.c_str(), nullptr, ctxt), nullptr) << url;
  }
  xmlFreeParserCtxt(ctxt);
  // libxml2's own entry points that would open a URL: the HTTP and FTP readers are unregistered.
  xmlParserInputBufferPtr buf =
      xmlParserInputBufferCreateFilename(http.c_str(), XML_CHAR_ENCODING_NONE);
  EXPECT_EQ(buf, nullptr);
  if (buf != nullptr) xmlFreeParserInputBuffer(buf);
  xmlDocPtr doc = xmlReadFile(http.c_str(), nullptr, XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  EXPECT_EQ(doc, nullptr);
  if (doc != nullptr) xmlFreeDoc(doc);
  EXPECT_FALSE(watch.touched());
  EXPECT_FALSE(traps.listener.contacted());
}

TEST(XmlEntityLoader, LocalFileAccessAllowsLocalFilesOnThisThreadOnly) {
  initialise_xml_library();
  Traps traps;
  const std::string file_url = "file://" + traps.canary.string();
  const std::string http = "http://127.0.0.1:" + std::to_string(traps.listener.port()) + "/x.xsl";
  xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
  ASSERT_NE(ctxt, nullptr);
  {
    LocalFileAccess files;
    xmlParserInputPtr in = xmlLoadExternalEntity(file_url.c_str(), nullptr, ctxt);
    EXPECT_NE(in, nullptr);
    if (in != nullptr) xmlFreeInputStream(in);
    EXPECT_EQ(xmlLoadExternalEntity(http.c_str(), nullptr, ctxt), nullptr);
    // Another thread is not covered by this thread's scope.
    std::thread([&] {
      xmlParserCtxtPtr other = xmlNewParserCtxt();
      EXPECT_EQ(xmlLoadExternalEntity(file_url.c_str(), nullptr, other), nullptr);
      xmlFreeParserCtxt(other);
    }).join();
    { LocalFileAccess nested; }
    in = xmlLoadExternalEntity(traps.canary.c_str(), nullptr, ctxt);
    EXPECT_NE(in, nullptr) << "a nested scope must not end the outer one";
    if (in != nullptr) xmlFreeInputStream(in);
  }
  FileWatch watch(traps.canary);
  EXPECT_EQ(xmlLoadExternalEntity(file_url.c_str(), nullptr, ctxt), nullptr);
  xmlFreeParserCtxt(ctxt);
  EXPECT_FALSE(watch.touched());
  EXPECT_FALSE(traps.listener.contacted());
}

TEST(XmlEntityLoader, CatalogLoadingReadsLocalIncludesButNeverTheNetwork) {
  TempDir dir;
  Listener listener;
  write_file(dir.path() / "types.xsd", R"(<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:test:inc"
           xmlns="urn:test:inc" elementFormDefault="qualified">
  <xs:simpleType name="Plz"><xs:restriction base="xs:string"><xs:pattern value="[0-9]{5}"/></xs:restriction></xs:simpleType>
</xs:schema>
)");
  write_file(dir.path() / "main.xsd", R"(<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:test:inc"
           xmlns="urn:test:inc" elementFormDefault="qualified">
  <xs:include schemaLocation="types.xsd"/>
  <xs:element name="Plz" type="Plz"/>
</xs:schema>
)");
  write_file(dir.path() / "remote.xsd", R"(<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:test:remote"
           xmlns:o="urn:test:other" elementFormDefault="qualified">
  <xs:import namespace="urn:test:other" schemaLocation="http://127.0.0.1:)" +
                                            std::to_string(listener.port()) + R"(/other.xsd"/>
  <xs:element name="R" type="o:T"/>
</xs:schema>
)");
  auto local = SchemaCatalog::load({{"urn:test:inc", (dir.path() / "main.xsd").string()}});
  ASSERT_OK(local);
  Validator validator(*local, Limits{});
  EXPECT_EQ(outcome(validator.validate("<Plz xmlns=\"urn:test:inc\">39291</Plz>")), "valid");
  EXPECT_EQ(outcome(validator.validate("<Plz xmlns=\"urn:test:inc\">3929</Plz>")),
            "schema_violation");

  auto remote = SchemaCatalog::load({{"urn:test:remote", (dir.path() / "remote.xsd").string()}});
  EXPECT_FALSE(remote.is_ok());
  EXPECT_NE(remote.status().message().find("remote.xsd"), std::string::npos)
      << remote.status().message();
  EXPECT_FALSE(listener.contacted());
}

// ---- Nothing reaches stderr ------------------------------------------------------------------

// Redirects file descriptor 2 into a file for its lifetime.
class StderrCapture {
 public:
  explicit StderrCapture(const std::filesystem::path& file) : saved_(dup(2)) {
    const int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    dup2(fd, 2);
    close(fd);
  }
  ~StderrCapture() {
    dup2(saved_, 2);
    close(saved_);
  }
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;

 private:
  int saved_;
};

TEST(XmlValidatorQuiet, Libxml2NeverWritesToStderr) {
  TempDir dir;
  const auto captured = dir.path() / "stderr.txt";
  Traps traps;
  write_file(dir.path() / "broken.xsd",
             "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\"><xs:element");
  write_file(dir.path() / "bad-type.xsd",
             "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\"><xs:element name=\"a\" "
             "type=\"xs:nosuchtype\"/></xs:schema>");
  {
    StderrCapture capture(captured);
    EXPECT_FALSE(SchemaCatalog::load({{"", (dir.path() / "broken.xsd").string()}}).is_ok());
    EXPECT_FALSE(SchemaCatalog::load({{"", (dir.path() / "bad-type.xsd").string()}}).is_ok());
    Validator validator(antrag_catalog(), Limits{});
    for (const auto& e : std::filesystem::directory_iterator(validation_corpus())) {
      if (e.path().extension() == ".xml")
        static_cast<void>(validator.validate(traps.instantiate(read_file(e.path()))));
    }
    static_cast<void>(validator.validate(minimal_antrag() + "\xFF"));
    static_cast<void>(validator.validate(nested(1000)));
    // A thread that never called into the validator before still inherits the silent handler.
    std::thread([&] {
      xmlDocPtr doc = xmlReadMemory("<a><b></a>", 10, nullptr, nullptr, 0);
      if (doc != nullptr) xmlFreeDoc(doc);
    }).join();
  }
  EXPECT_EQ(read_file(captured), "");
}

// ---- The catalog -----------------------------------------------------------------------------

TEST(SchemaCatalog, LoadsEntriesAndAnswersLookups) {
  auto catalog = antrag_catalog();
  ASSERT_NE(catalog, nullptr);
  EXPECT_TRUE(catalog->has(kAntragNs));
  EXPECT_FALSE(catalog->has("urn:ozg-hub:schema:antrag:2.0"));
  EXPECT_EQ(catalog->namespaces(), std::vector<std::string>{std::string(kAntragNs)});
  EXPECT_NE(catalog->find(kAntragNs), nullptr);
  EXPECT_EQ(catalog->find(""), nullptr);
}

TEST(SchemaCatalog, MissingFileFailsNamingIt) {
  auto r = SchemaCatalog::load({{"urn:x", "/nonexistent/dir/x.xsd"}});
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  EXPECT_NE(r.status().message().find("/nonexistent/dir/x.xsd"), std::string::npos);
}

TEST(SchemaCatalog, BrokenXsdFailsWithTheParsersReason) {
  TempDir dir;
  write_file(dir.path() / "broken.xsd",
             "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\">\n<xs:element");
  auto r = SchemaCatalog::load({{"", (dir.path() / "broken.xsd").string()}});
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("broken.xsd"), std::string::npos) << r.status().message();

  write_file(dir.path() / "bad-type.xsd",
             "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\">\n  <xs:element name=\"a\" "
             "type=\"xs:nosuchtype\"/>\n</xs:schema>\n");
  auto t = SchemaCatalog::load({{"", (dir.path() / "bad-type.xsd").string()}});
  ASSERT_FALSE(t.is_ok());
  EXPECT_NE(t.status().message().find("bad-type.xsd:2"), std::string::npos) << t.status().message();
  EXPECT_NE(t.status().message().find("nosuchtype"), std::string::npos) << t.status().message();
}

TEST(SchemaCatalog, EntryNamespaceMustBeTheXsdsTargetNamespace) {
  auto r = SchemaCatalog::load({{"urn:ozg-hub:schema:antrag:2.0", antrag_xsd().string()}});
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(
      r.status().message().find("the XSD's targetNamespace is 'urn:ozg-hub:schema:antrag:1.0'"),
      std::string::npos)
      << r.status().message();
}

TEST(SchemaCatalog, NamespaceListedTwiceIsAnError) {
  auto r = SchemaCatalog::load({{std::string(kAntragNs), antrag_xsd().string()},
                                {std::string(kAntragNs), antrag_xsd().string()}});
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("twice"), std::string::npos);
}

TEST(SchemaCatalog, EmptyCatalogKnowsNothing) {
  auto r = SchemaCatalog::load({});
  ASSERT_OK(r);
  Validator validator(*r, Limits{});
  const auto result = validator.validate(minimal_antrag());
  EXPECT_EQ(outcome(result), "unknown_schema");
  EXPECT_NE(description(result).find("the catalog has (none)"), std::string::npos);
}

TEST(SchemaCatalog, NoNamespaceSchemaIsAddressedByTheEmptyNamespace) {
  TempDir dir;
  write_file(dir.path() / "plain.xsd",
             "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\"><xs:element name=\"a\" "
             "type=\"xs:int\"/></xs:schema>");
  auto r = SchemaCatalog::load({{"", (dir.path() / "plain.xsd").string()}});
  ASSERT_OK(r);
  Validator validator(*r, Limits{});
  EXPECT_EQ(outcome(validator.validate("<a>42</a>")), "valid");
  EXPECT_EQ(outcome(validator.validate("<a>x</a>")), "schema_violation");
}

// ---- Reuse and threads -----------------------------------------------------------------------

TEST(XmlValidatorReuse, ManyDistinctNamesDoNotAccumulate) {
  // The parser context's dictionary is recycled once it grows large; validation goes on.
  Validator validator(antrag_catalog(), Limits{});
  int counter = 0;
  for (int doc = 0; doc < 2200; ++doc) {
    std::string xml = "<Antrag xmlns=\"urn:ozg-hub:schema:antrag:1.0\"><Antragsteller>";
    for (int i = 0; i < 50; ++i) xml += "<n" + std::to_string(counter++) + "/>";
    xml += "</Antragsteller></Antrag>";
    ASSERT_EQ(outcome(validator.validate(xml)), "schema_violation");
  }
  EXPECT_EQ(outcome(validator.validate(minimal_antrag())), "valid");
  EXPECT_EQ(
      outcome(validator.validate(
          "<!DOCTYPE a [<!ENTITY b \"c\">]><Antrag xmlns=\"urn:ozg-hub:schema:antrag:1.0\"/>")),
      "forbidden_construct");
}

TEST(XmlValidatorThreads, FourThreadsShareOneCatalog) {
  const auto xdomea_schema = [](const char* v) {
    return (ozghub::testing::corpus_dir() / "schemas/xdomea" / (std::string("xdomea_") + v) /
            "xdomea-Nachrichten-AussonderungDurchfuehren.xsd")
        .string();
  };
  auto loaded = SchemaCatalog::load({{std::string(kAntragNs), antrag_xsd().string()},
                                     {"urn:xoev-de:xdomea:schema:2.3.0", xdomea_schema("2.3.0")},
                                     {"urn:xoev-de:xdomea:schema:3.0.0", xdomea_schema("3.0.0")}});
  ASSERT_OK(loaded);
  const auto catalog = *loaded;

  Traps traps;
  std::vector<std::string> docs;
  for (const auto& e : std::filesystem::directory_iterator(validation_corpus())) {
    if (e.path().extension() == ".xml") docs.push_back(traps.instantiate(read_file(e.path())));
  }
  for (const char* v : {"2.3.0", "3.0.0"}) {
    for (const auto& e : std::filesystem::directory_iterator(
             ozghub::testing::corpus_dir() / "messages/xdomea" / (std::string("xdomea_") + v))) {
      docs.push_back(read_file(e.path()));
    }
  }
  docs.push_back(nested(500));
  docs.push_back(element_with_attributes(1000));

  std::vector<std::string> expected;
  {
    Validator single(catalog, Limits{});
    for (const auto& d : docs) {
      const auto r = single.validate(d);
      expected.push_back(outcome(r) + "|" + description(r));
    }
  }
  EXPECT_GT(std::count_if(expected.begin(), expected.end(),
                          [](const std::string& e) { return e.rfind("valid|", 0) == 0; }),
            15);

  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Validator validator(catalog, Limits{});
      for (int round = 0; round < 12; ++round) {
        for (std::size_t i = 0; i < docs.size(); ++i) {
          // Each thread walks the documents in its own order.
          const std::size_t k =
              (i * (2 * static_cast<std::size_t>(t) + 1) + static_cast<std::size_t>(round)) %
              docs.size();
          const auto r = validator.validate(docs[k]);
          if (outcome(r) + "|" + description(r) != expected[k]) ++mismatches;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace ozghub::validation
