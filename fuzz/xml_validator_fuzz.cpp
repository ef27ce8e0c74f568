// Documents -> the hardened validator (broker/validation) against a catalog of the project's own
// schema (schemas/ozg-antrag) and xdomea 3.0.0 from ../shared/corpus, with the default limits.
// The first byte, if it is one of the few below, names the schema the way the `schema` message
// property does (also an unknown one); every other input is validated by its root namespace.
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "config/config.hpp"
#include "fuzz_support.hpp"
#include "validation/xml_validator.hpp"

namespace {

using namespace ozghub::validation;

constexpr std::string_view kAntrag = "urn:ozg-hub:schema:antrag:1.0";
constexpr std::string_view kXdomea = "urn:xoev-de:xdomea:schema:3.0.0";

Validator& validator() {
  static Validator* v = [] {
    initialise_xml_library();
    const auto corpus = ozghub::fuzz::source_dir() / ".." / "shared" / "corpus";
    std::vector<CatalogEntry> entries{
        {std::string(kAntrag),
         (ozghub::fuzz::source_dir() / "schemas" / "ozg-antrag" / "ozg-antrag-1.0.xsd").string()},
        {std::string(kXdomea), (corpus / "schemas" / "xdomea" / "xdomea_3.0.0" /
                                "xdomea-Nachrichten-AussonderungDurchfuehren.xsd")
                                   .string()}};
    auto catalog = SchemaCatalog::load(entries);
    if (!catalog) {
      std::fprintf(stderr, "xml_validator_fuzz: %s\n", catalog.status().message().c_str());
      std::abort();
    }
    const ozghub::config::Limits defaults;
    Limits limits;
    limits.max_document_bytes = defaults.max_xml_bytes;
    limits.max_depth = defaults.max_xml_depth;
    return new Validator(*catalog, limits);  // lives as long as the process
  }();
  return *v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view xml(reinterpret_cast<const char*>(data), size);
  std::optional<std::string_view> schema;
  if (!xml.empty()) {
    switch (xml.front()) {
      case '\x01':
        schema = kAntrag;
        break;
      case '\x02':
        schema = kXdomea;
        break;
      case '\x03':
        schema = "urn:unknown";
        break;
      default:
        break;
    }
    if (schema) xml.remove_prefix(1);
  }
  auto outcome = validator().validate(xml, schema);
  (void)outcome;
  return 0;
}
