// Validation throughput: one document per iteration on a reused Validator, as a worker does.
//
//   ./build/benchmarks/ozghub_micro_benchmarks --benchmark_filter=Validat
#include <benchmark/benchmark.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "validation/xml_validator.hpp"

namespace {

using ozghub::validation::CatalogEntry;
using ozghub::validation::Limits;
using ozghub::validation::SchemaCatalog;
using ozghub::validation::Validated;
using ozghub::validation::Validator;

const std::string kCorpus = OZGHUB_CORPUS_DIR;
const std::string kSource = OZGHUB_SOURCE_DIR;
const std::string kAntragXsd = kSource + "/schemas/ozg-antrag/ozg-antrag-1.0.xsd";
const std::string kXdomeaXsd =
    kCorpus + "/schemas/xdomea/xdomea_3.0.0/xdomea-Nachrichten-AussonderungDurchfuehren.xsd";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::shared_ptr<const SchemaCatalog> catalog() {
  static const std::shared_ptr<const SchemaCatalog> c = [] {
    ozghub::validation::initialise_xml_library();
    auto loaded = SchemaCatalog::load({{"urn:ozg-hub:schema:antrag:1.0", kAntragXsd},
                                       {"urn:xoev-de:xdomea:schema:3.0.0", kXdomeaXsd}});
    if (!loaded) std::abort();
    return *loaded;
  }();
  return c;
}

// The shipped example with a longer request text: about 8 KiB, as a typical form submission.
const std::string& antrag_8k() {
  static const std::string doc = [] {
    std::string xml = slurp(kSource + "/schemas/ozg-antrag/example-antrag.xml");
    const std::string end = "</Anliegen>";
    std::string more;
    while (xml.size() + more.size() < 8192) {
      more += "\nWir bitten um einen Termin am Vormittag; die Unterlagen bringen wir mit.";
    }
    xml.insert(xml.find(end), more);
    return xml;
  }();
  return doc;
}

const std::string& xdomea_0503() {
  static const std::string doc =
      slurp(kCorpus + "/messages/xdomea/xdomea_3.0.0/xx_Aussonderung.Aussonderung.0503.xml");
  return doc;
}

void run(benchmark::State& state, const std::string& doc, bool expect_valid) {
  Validator validator(catalog(), Limits{});
  for (auto _ : state) {
    auto result = validator.validate(doc);
    if (std::holds_alternative<Validated>(result) != expect_valid) {
      state.SkipWithError("unexpected outcome");
      break;
    }
    benchmark::DoNotOptimize(result);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(doc.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["doc_bytes"] = static_cast<double>(doc.size());
}

void BM_ValidateAntrag8KiB(benchmark::State& state) { run(state, antrag_8k(), true); }
BENCHMARK(BM_ValidateAntrag8KiB);
BENCHMARK(BM_ValidateAntrag8KiB)->Threads(4)->UseRealTime();

void BM_ValidateXdomea0503(benchmark::State& state) { run(state, xdomea_0503(), true); }
BENCHMARK(BM_ValidateXdomea0503);
BENCHMARK(BM_ValidateXdomea0503)->Threads(4)->UseRealTime();

void BM_ValidateRejectsSchemaViolation(benchmark::State& state) {
  static const std::string doc = [] {
    std::string xml = antrag_8k();
    const std::string from = "<RichtigkeitVersichert>true";
    xml.replace(xml.find(from), from.size(), "<RichtigkeitVersichert>false");
    return xml;
  }();
  run(state, doc, false);
}
BENCHMARK(BM_ValidateRejectsSchemaViolation);

void BM_ValidateRejectsBillionLaughs(benchmark::State& state) {
  static const std::string doc =
      slurp(kSource + "/tests/unit/validation/corpus/forbidden_construct__billion_laughs.xml");
  run(state, doc, false);
}
BENCHMARK(BM_ValidateRejectsBillionLaughs);

// For comparison only: what the straightforward libxml2 way costs (build a tree per document,
// then xmlSchemaValidateDoc), with the same parser and validation context reuse. The Validator
// streams instead and builds no tree.
void BM_ValidateBaselineTreeMode(benchmark::State& state) {
  const std::string& doc = antrag_8k();
  catalog();  // initialises libxml2 the way the hub does
  xmlSchemaPtr schema = nullptr;
  {
    ozghub::validation::LocalFileAccess files;
    xmlSchemaParserCtxtPtr pctxt = xmlSchemaNewParserCtxt(kAntragXsd.c_str());
    schema = xmlSchemaParse(pctxt);
    xmlSchemaFreeParserCtxt(pctxt);
  }
  xmlSchemaValidCtxtPtr vctxt = xmlSchemaNewValidCtxt(schema);
  xmlParserCtxtPtr parser = xmlNewParserCtxt();
  for (auto _ : state) {
    xmlDocPtr tree = xmlCtxtReadMemory(parser, doc.data(), static_cast<int>(doc.size()), nullptr,
                                       nullptr, XML_PARSE_NONET);
    const int rc = tree != nullptr ? xmlSchemaValidateDoc(vctxt, tree) : -1;
    if (rc != 0) {
      state.SkipWithError("baseline did not validate");
      break;
    }
    xmlFreeDoc(tree);
  }
  xmlFreeParserCtxt(parser);
  xmlSchemaFreeValidCtxt(vctxt);
  xmlSchemaFree(schema);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(doc.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ValidateBaselineTreeMode);

}  // namespace
