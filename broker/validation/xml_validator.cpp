#include "validation/xml_validator.hpp"

#include <libxml/entities.h>
#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/schemasInternals.h>
#include <libxml/xmlIO.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>
#include <libxml/xmlschemastypes.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <utility>

#include "validation/markup_scan.hpp"

namespace ozghub::validation {

struct SchemaCatalog::Grammar {
  std::string namespace_uri;
  xmlSchemaPtr schema = nullptr;

  Grammar() = default;
  Grammar(const Grammar&) = delete;
  Grammar& operator=(const Grammar&) = delete;
  ~Grammar() {
    if (schema != nullptr) xmlSchemaFree(schema);
  }
};

namespace {

constexpr std::size_t kMaxDescription = 500;
// RECOVER keeps SAX callbacks firing after an error, so the next callback can stop the parser at
// a point libxml2 documents as safe; without it libxml2 2.9 goes on parsing silently to the end.
constexpr int kParseOptions = XML_PARSE_NONET | XML_PARSE_BIG_LINES | XML_PARSE_RECOVER;
// libxml2 stops by itself beyond this depth unless XML_PARSE_HUGE, which is never set.
constexpr int kLibxmlMaxDepth = 256;
// A reused parser context keeps every name and namespace URI it has seen in its dictionary;
// senders choosing random names would grow it without bound.
constexpr int kMaxDictionaryEntries = 100000;
constexpr std::size_t kRetainedTextCapacity = 256 * 1024;

const char* chars(const xmlChar* s) { return reinterpret_cast<const char*>(s); }
std::string_view view(const xmlChar* s) {
  return s == nullptr ? std::string_view() : std::string_view(chars(s));
}

// ---- Process-wide hardening ------------------------------------------------------------------

// Set only on a thread inside LocalFileAccess (SchemaCatalog::load among them), so a concurrent
// (re)load can never open files on behalf of a validating thread.
thread_local bool t_local_files_allowed = false;
// Messages that reach libxml2's generic error channel while a catalog loads (errors in XSD
// files); dropped everywhere else, so nothing is ever printed.
thread_local std::string* t_generic_errors = nullptr;
// Raised when the entity loader refuses something while a document is being validated.
thread_local bool* t_external_refused = nullptr;

void collect_generic_error(void* /*ctx*/, const char* msg, ...) {
  if (t_generic_errors == nullptr || msg == nullptr) return;
  if (t_generic_errors->size() >= kMaxDescription) return;
  char buf[512];
  va_list args;
  va_start(args, msg);
  std::vsnprintf(buf, sizeof buf, msg, args);
  va_end(args);
  try {
    t_generic_errors->append(buf);
  } catch (...) {  // NOLINT(bugprone-empty-catch): losing a diagnostic beats aborting
  }
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

// Local means a plain path or a file: URL. Anything with another scheme (http, https, ftp,
// jar, ...) is remote or unknown.
bool names_local_file(std::string_view url) {
  if (url.empty()) return false;
  if (std::isalpha(static_cast<unsigned char>(url[0])) != 0) {
    std::size_t i = 1;
    while (i < url.size() && (std::isalnum(static_cast<unsigned char>(url[i])) != 0 ||
                              url[i] == '+' || url[i] == '-' || url[i] == '.'))
      ++i;
    if (i < url.size() && url[i] == ':') return equals_ignoring_case(url.substr(0, i), "file");
  }
  return true;
}

xmlParserInputPtr guarded_entity_loader(const char* url, const char* /*public_id*/,
                                        xmlParserCtxtPtr ctxt) {
  // Reads the file directly instead of chaining to the default loader, which would consult
  // the system XML catalogs and could be redirected anywhere.
  if (t_local_files_allowed && url != nullptr && names_local_file(url))
    return xmlNewInputFromFile(ctxt, url);
  if (t_external_refused != nullptr) *t_external_refused = true;
  return nullptr;
}

void initialise_once() {
  xmlInitParser();
  // Initialised lazily by libxml2 otherwise, and that initialisation is not thread-safe.
  xmlSchemaInitTypes();
  xmlSetExternalEntityLoader(&guarded_entity_loader);
  // Only the plain-file reader remains: no HTTP, FTP, or transparent gzip behind any URL.
  xmlCleanupInputCallbacks();
  xmlRegisterInputCallbacks(xmlFileMatch, xmlFileOpen, xmlFileRead, xmlFileClose);
  // Error texts quote documents; libxml2's default prints them to stderr.
  xmlThrDefSetGenericErrorFunc(nullptr, &collect_generic_error);
  xmlSetGenericErrorFunc(nullptr, &collect_generic_error);
}

// ---- Descriptions ------------------------------------------------------------------------------

std::string at(std::size_t line, std::size_t column) {
  if (line == 0) return {};
  std::string s = "line " + std::to_string(line);
  if (column > 0) s += ", column " + std::to_string(column);
  return s + ": ";
}

// Descriptions travel as AMQP strings: valid UTF-8 on one line, bounded in length.
std::string sanitise(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0)
    text.remove_suffix(1);
  std::string out;
  out.reserve(std::min(text.size(), kMaxDescription) + 4);
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = c < 0x80           ? 1
                      : (c >> 5) == 0x6  ? 2
                      : (c >> 4) == 0xE  ? 3
                      : (c >> 3) == 0x1E ? 4
                                         : 0;
    bool ok = len > 0 && i + len <= text.size();
    for (std::size_t k = 1; ok && k < len; ++k)
      ok = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
    if (!ok) len = 1;
    if (out.size() + (ok ? len : 1) > kMaxDescription) {
      out += "\xE2\x80\xA6";  // U+2026, marks the cut
      break;
    }
    if (!ok) {
      out += '?';
    } else if (c < 0x20 || c == 0x7F) {
      if (out.empty() || out.back() != ' ') out += ' ';
    } else {
      out.append(text.substr(i, len));
    }
    i += len;
  }
  return out;
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  for (std::size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos)) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
}

std::string join_namespaces(const std::vector<std::string>& namespaces) {
  if (namespaces.empty()) return "(none)";
  std::string s;
  for (const auto& ns : namespaces) {
    if (!s.empty()) s += ", ";
    s += "'" + ns + "'";
  }
  return s;
}

// ---- Loading grammars --------------------------------------------------------------------------

struct LoadErrors {
  std::string first_error;
  std::string first_warning;
  std::string generic;

  std::string summary() const {
    if (!first_error.empty()) return first_error;
    if (!generic.empty()) return sanitise(generic);
    if (!first_warning.empty()) return first_warning;
    return "the schema parser gave no reason";
  }
};

void on_load_error(void* user, xmlErrorPtr err) {
  auto* errors = static_cast<LoadErrors*>(user);
  if (errors == nullptr || err == nullptr) return;
  try {
    std::string& slot = err->level == XML_ERR_WARNING ? errors->first_warning : errors->first_error;
    if (!slot.empty()) return;
    std::string where = err->file != nullptr ? std::string(err->file) : std::string();
    if (err->line > 0) where += ":" + std::to_string(err->line);
    slot = sanitise((where.empty() ? "" : where + ": ") +
                    std::string(err->message != nullptr ? err->message : "unknown error"));
  } catch (...) {  // NOLINT(bugprone-empty-catch): the load fails anyway, with less detail
  }
}

class GenericErrorScope {
 public:
  explicit GenericErrorScope(std::string* sink) : previous_(t_generic_errors) {
    t_generic_errors = sink;
  }
  ~GenericErrorScope() { t_generic_errors = previous_; }
  GenericErrorScope(const GenericErrorScope&) = delete;
  GenericErrorScope& operator=(const GenericErrorScope&) = delete;

 private:
  std::string* previous_;
};

Result<std::unique_ptr<SchemaCatalog::Grammar>> load_grammar(const CatalogEntry& entry) {
  const std::string label =
      "schema '" + entry.xsd_path + "' (namespace '" + entry.namespace_uri + "')";
  std::error_code ec;
  const std::filesystem::path path = std::filesystem::absolute(entry.xsd_path, ec);
  if (ec || !std::filesystem::is_regular_file(path, ec))
    return Status::not_found(label + ": not a readable file");

  LoadErrors errors;
  xmlSchemaPtr schema = nullptr;
  {
    LocalFileAccess files;
    GenericErrorScope scope(&errors.generic);
    xmlSchemaParserCtxtPtr pctxt = xmlSchemaNewParserCtxt(path.c_str());
    if (pctxt == nullptr) return Status::internal(label + ": cannot create a schema parser");
    xmlSchemaSetParserStructuredErrors(pctxt, &on_load_error, &errors);
    schema = xmlSchemaParse(pctxt);
    xmlSchemaFreeParserCtxt(pctxt);
  }
  if (schema == nullptr) return Status::invalid_argument(label + ": " + errors.summary());

  auto grammar = std::make_unique<SchemaCatalog::Grammar>();
  grammar->schema = schema;
  grammar->namespace_uri = entry.namespace_uri;
  if (view(schema->targetNamespace) != entry.namespace_uri) {
    return Status::invalid_argument(label + ": the XSD's targetNamespace is '" +
                                    std::string(view(schema->targetNamespace)) + "'");
  }
  return grammar;
}

}  // namespace

void initialise_xml_library() {
  static std::once_flag once;
  std::call_once(once, initialise_once);
}

LocalFileAccess::LocalFileAccess() : previous_(t_local_files_allowed) {
  t_local_files_allowed = true;
}

LocalFileAccess::~LocalFileAccess() { t_local_files_allowed = previous_; }

// ---- SchemaCatalog -----------------------------------------------------------------------------

Result<std::shared_ptr<const SchemaCatalog>> SchemaCatalog::load(
    const std::vector<CatalogEntry>& entries) {
  try {
    initialise_xml_library();
    std::shared_ptr<SchemaCatalog> catalog(new SchemaCatalog());
    for (const auto& entry : entries) {
      if (catalog->has(entry.namespace_uri))
        return Status::invalid_argument("schema catalog lists namespace '" + entry.namespace_uri +
                                        "' twice");
      auto grammar = load_grammar(entry);
      if (!grammar) return grammar.status();
      catalog->grammars_.emplace_back(entry.namespace_uri, std::move(*grammar));
    }
    return std::shared_ptr<const SchemaCatalog>(std::move(catalog));
  } catch (const std::exception& e) {
    return Status::internal(std::string("loading the schema catalog failed: ") + e.what());
  } catch (...) {
    return Status::internal("loading the schema catalog failed");
  }
}

SchemaCatalog::~SchemaCatalog() = default;

bool SchemaCatalog::has(std::string_view namespace_uri) const {
  return find(namespace_uri) != nullptr;
}

std::vector<std::string> SchemaCatalog::namespaces() const {
  std::vector<std::string> out;
  out.reserve(grammars_.size());
  for (const auto& [ns, grammar] : grammars_) out.push_back(ns);
  return out;
}

const SchemaCatalog::Grammar* SchemaCatalog::find(std::string_view namespace_uri) const {
  for (const auto& [ns, grammar] : grammars_) {
    if (ns == namespace_uri) return grammar.get();
  }
  return nullptr;
}

// ---- Validator ---------------------------------------------------------------------------------

// One parse drives libxml2's streaming schema validator: our SAX handler builds no tree, enforces
// the limits, and forwards the element and text events to the validation context chosen by the
// root element (xmlSchemaSAXPlug). Validation errors therefore arrive while the parser stands on
// the offending tag, which gives them a line and a column.
struct Validator::Impl {
  enum class Event { kNone, kStartTag, kEndTag, kText };

  struct ValidationContext {
    const SchemaCatalog::Grammar* grammar;
    xmlSchemaValidCtxtPtr ctxt;
  };

  std::shared_ptr<const SchemaCatalog> catalog;
  Limits limits;
  int max_depth;
  xmlParserCtxtPtr parser = nullptr;
  std::vector<ValidationContext> contexts;
  // Indexed by depth (1 = root).
  std::vector<int> namespaces_per_level;
  std::vector<std::size_t> start_tag_offset;  // where the parser stood in the start tag
  std::vector<unsigned char> has_children;
  // libxml2's streaming validator appends every text callback to the element's value with
  // xmlStrncat, which measures the whole value each time: quadratic in the number of callbacks
  // (one per 300 bytes of text, one per entity or character reference). Runs of text are
  // therefore collected here and forwarded once, at the next tag.
  std::string text;
  std::size_t text_offset = 0;

  // The current document.
  std::string_view doc;
  std::optional<std::string_view> requested_schema;
  std::optional<Rejection> forbidden;  // reported first: the rest of the parse is untrusted
  std::optional<Rejection> malformed;
  std::optional<Rejection> invalid;
  bool internal_failure = false;
  bool parse_failed = false;
  bool external_refused = false;
  int depth = 0;
  int namespaces_in_scope = 0;
  const SchemaCatalog::Grammar* grammar = nullptr;
  xmlSchemaValidCtxtPtr vctxt = nullptr;
  xmlSchemaSAXPlugPtr plug = nullptr;
  // xmlSchemaSAXUnplug writes back through the address it was given, so these must outlive the
  // plug: members, not locals.
  xmlSAXHandlerPtr plug_sax = nullptr;
  void* plug_user = nullptr;
  bool forwarding = false;
  Event event = Event::kNone;
  std::size_t event_offset = 0;
  const xmlChar* current_element = nullptr;
  const xmlChar* current_uri = nullptr;

  Impl(std::shared_ptr<const SchemaCatalog> c, Limits l)
      : catalog(std::move(c)),
        limits(l),
        max_depth(std::clamp(l.max_depth, 1, kLibxmlMaxDepth)),
        namespaces_per_level(static_cast<std::size_t>(max_depth) + 2, 0),
        start_tag_offset(static_cast<std::size_t>(max_depth) + 2, 0),
        has_children(static_cast<std::size_t>(max_depth) + 2, 0) {}

  ~Impl() {
    abandon_plug();
    for (auto& c : contexts) xmlSchemaFreeValidCtxt(c.ctxt);
    if (parser != nullptr) xmlFreeParserCtxt(parser);
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  static Impl* of(void* ctx) {
    return static_cast<Impl*>(static_cast<xmlParserCtxtPtr>(ctx)->_private);
  }

  // ---- recording ----

  void record(std::optional<Rejection>& slot, Condition condition, std::string message) noexcept {
    if (slot.has_value()) return;
    try {
      slot = Rejection{condition, sanitise(message)};
    } catch (...) {
      internal_failure = true;
    }
  }

  // The byte offset in `doc` of a pointer into the parser's input; our input is UTF-8 without a
  // decoder, so the parser's bytes are the document's bytes.
  std::size_t offset_of(const xmlChar* p) const {
    const xmlParserInputPtr in = parser->input;
    if (in == nullptr || in->base == nullptr || p == nullptr || p < in->base || p > in->end)
      return doc.size();
    return static_cast<std::size_t>(in->consumed) + static_cast<std::size_t>(p - in->base);
  }
  std::size_t parser_offset() const {
    return parser->input != nullptr ? offset_of(parser->input->cur) : doc.size();
  }

  // A tag holds no '<' but its first, and during a tag event the parser stands inside or just
  // after it; so the last '<' before that point is where the tag starts.
  std::size_t tag_start(std::size_t offset) const {
    offset = std::min(offset, doc.size());
    const std::size_t lt = offset == 0 ? std::string_view::npos : doc.rfind('<', offset - 1);
    return lt == std::string_view::npos ? offset : lt;
  }

  // Where the current event happened, as "line L, column C: ". Errors about an element without
  // children (a value that breaks a facet, say) arrive at its end tag but point at its start.
  std::string where() const {
    std::size_t offset = event_offset;
    switch (event) {
      case Event::kStartTag:
        offset = tag_start(event_offset);
        break;
      case Event::kEndTag:
        offset = has_children[static_cast<std::size_t>(depth)] == 0
                     ? tag_start(start_tag_offset[static_cast<std::size_t>(depth)])
                     : tag_start(event_offset);
        break;
      case Event::kText:
      case Event::kNone:
        break;
    }
    const auto pos = detail::position_of(doc, offset);
    return at(pos.line, pos.column);
  }

  void forbid(xmlParserCtxtPtr ctxt, std::string_view what, int limit = -1,
              std::string_view after = {}) noexcept {
    try {
      std::string message = where() + std::string(what);
      if (limit >= 0) message += std::to_string(limit) + std::string(after);
      record(forbidden, Condition::kForbiddenConstruct, std::move(message));
    } catch (...) {
      internal_failure = true;
    }
    forwarding = false;
    xmlStopParser(ctxt);
  }

  std::string schema_message(const char* raw) const {
    std::string msg(raw != nullptr ? raw : "the document does not match the schema");
    if (grammar != nullptr && !grammar->namespace_uri.empty())
      replace_all(msg, "{" + grammar->namespace_uri + "}", "");
    if (msg.rfind("Element '", 0) == 0) {
      msg[0] = 'e';
      // With the target namespace stripped, an unqualified element would read exactly like the
      // qualified one the schema expects.
      const std::string unqualified = "element '" + std::string(view(current_element)) + "'";
      if (current_uri == nullptr && grammar != nullptr && !grammar->namespace_uri.empty() &&
          msg.rfind(unqualified, 0) == 0) {
        msg.insert(unqualified.size(), " (in no namespace)");
      }
    } else if (current_element != nullptr) {
      msg = "element '" + std::string(view(current_element)) + "': " + msg;
    }
    return msg;
  }

  // ---- per document ----

  void reset_document(std::string_view xml, std::optional<std::string_view> schema) {
    doc = xml;
    requested_schema = schema;
    forbidden.reset();
    malformed.reset();
    invalid.reset();
    internal_failure = false;
    parse_failed = false;
    external_refused = false;
    depth = 0;
    namespaces_in_scope = 0;
    grammar = nullptr;
    vctxt = nullptr;
    plug = nullptr;
    plug_sax = nullptr;
    plug_user = nullptr;
    forwarding = false;
    event = Event::kNone;
    event_offset = 0;
    current_element = nullptr;
    current_uri = nullptr;
    // One huge document should not pin its text buffer for the worker's lifetime.
    if (text.capacity() > kRetainedTextCapacity) std::string().swap(text);
    text.clear();
  }

  void flush_text() noexcept {
    if (text.empty()) return;
    if (forwarding) {
      event = Event::kText;
      event_offset = text_offset;
      plug_sax->characters(plug_user, reinterpret_cast<const xmlChar*>(text.data()),
                           static_cast<int>(text.size()));
    }
    text.clear();
  }

  void collect_text(const xmlChar* chars_in, int len) noexcept {
    if (!forwarding || depth == 0 || len <= 0) return;
    if (text.empty()) {
      // Character and entity references arrive from a scratch buffer, not the input.
      const std::size_t at_input = offset_of(chars_in);
      text_offset = at_input < doc.size() ? at_input : parser_offset();
    }
    try {
      text.append(reinterpret_cast<const char*>(chars_in), static_cast<std::size_t>(len));
    } catch (...) {
      internal_failure = true;
      forwarding = false;
    }
  }

  void abandon_plug() noexcept {
    if (plug != nullptr) xmlSchemaSAXUnplug(plug);
    plug = nullptr;
    forwarding = false;
  }

  bool ensure_parser() {
    if (parser != nullptr && parser->dict != nullptr &&
        xmlDictSize(parser->dict) > kMaxDictionaryEntries) {
      xmlFreeParserCtxt(parser);
      parser = nullptr;
    }
    if (parser != nullptr) return true;
    parser = xmlNewParserCtxt();
    if (parser == nullptr) return false;
    // The context owns its handler; ours replaces the tree-building default. xmlCtxtReset keeps
    // both the handler and _private, so this is done once per context.
    *parser->sax = handler();
    parser->_private = this;
    return true;
  }

  xmlSchemaValidCtxtPtr context_for(const SchemaCatalog::Grammar* g) {
    for (const auto& c : contexts) {
      if (c.grammar == g) return c.ctxt;
    }
    xmlSchemaValidCtxtPtr v = xmlSchemaNewValidCtxt(g->schema);
    if (v == nullptr) return nullptr;
    xmlSchemaSetValidStructuredErrors(v, &Impl::on_schema_error, this);
    contexts.push_back({g, v});
    return v;
  }

  void begin_validation(const xmlChar* localname, const xmlChar* uri) {
    const std::string_view ns = view(uri);
    const std::string name(view(localname));
    const std::string in_ns =
        ns.empty() ? "has no namespace" : "is in namespace '" + std::string(ns) + "'";
    if (requested_schema.has_value() && ns != *requested_schema) {
      record(invalid, Condition::kSchemaViolation,
             where() + "element '" + name + "': the root element " + in_ns +
                 ", but the message names the schema '" + std::string(*requested_schema) + "'");
      return;
    }
    grammar = catalog->find(ns);
    if (grammar == nullptr) {
      record(invalid, Condition::kUnknownSchema,
             "the root element '" + name + "' " +
                 (ns.empty() ? "has no namespace, and the schema catalog has no schema without a "
                               "target namespace"
                             : in_ns + ", which is not in the schema catalog") +
                 "; the catalog has " + join_namespaces(catalog->namespaces()));
      return;
    }
    vctxt = context_for(grammar);
    if (vctxt != nullptr) {
      plug_sax = nullptr;
      plug_user = nullptr;
      plug = xmlSchemaSAXPlug(vctxt, &plug_sax, &plug_user);
    }
    if (plug == nullptr || plug_sax == nullptr) {
      internal_failure = true;
      return;
    }
    forwarding = true;
  }

  OrRejection<Validated> run(std::string_view xml, std::optional<std::string_view> schema) {
    if (catalog == nullptr) return Rejection{Condition::kInternalError, "no schema catalog"};
    if (xml.size() > limits.max_document_bytes || xml.size() > static_cast<std::size_t>(INT_MAX)) {
      return Rejection{Condition::kTooLarge, "the document has " + std::to_string(xml.size()) +
                                                 " bytes; the limit is " +
                                                 std::to_string(limits.max_document_bytes)};
    }
    if (xml.empty()) return Rejection{Condition::kNotWellFormed, "the document is empty"};
    if (schema.has_value() && !catalog->has(*schema)) {
      return Rejection{Condition::kUnknownSchema,
                       sanitise("the schema '" + std::string(*schema) +
                                "' named by the message is not in the schema catalog; the "
                                "catalog has " +
                                join_namespaces(catalog->namespaces()))};
    }
    const auto max_attributes =
        static_cast<std::size_t>(std::max(limits.max_attributes_per_element, 0));
    if (const auto tag = detail::find_overfull_tag(xml, max_attributes);
        tag != std::string_view::npos) {
      const auto pos = detail::position_of(xml, tag);
      return Rejection{Condition::kForbiddenConstruct,
                       at(pos.line, pos.column) + "an element has more than " +
                           std::to_string(max_attributes) + " attributes"};
    }
    if (!ensure_parser())
      return Rejection{Condition::kInternalError, "cannot create an XML parser"};

    reset_document(xml, schema);
    t_external_refused = &external_refused;
    xmlDocPtr stray = xmlCtxtReadMemory(parser, xml.data(), static_cast<int>(xml.size()), nullptr,
                                        nullptr, kParseOptions);
    t_external_refused = nullptr;
    if (stray != nullptr) xmlFreeDoc(stray);  // our handler builds no tree; never expected

    if (plug != nullptr) {
      if (forwarding && !invalid.has_value() && xmlSchemaIsValid(vctxt) != 1) {
        record(invalid, Condition::kSchemaViolation,
               "the document does not match the schema '" + grammar->namespace_uri + "'");
      }
      abandon_plug();
    }
    if (external_refused)
      record(forbidden, Condition::kForbiddenConstruct,
             "the document refers to an external resource");
    if (forbidden.has_value()) return std::move(*forbidden);
    if (!malformed.has_value() && (parser->wellFormed == 0 || parser->nsWellFormed == 0))
      record(malformed, Condition::kNotWellFormed, "the document is not well-formed");
    if (malformed.has_value()) return std::move(*malformed);
    if (invalid.has_value()) return std::move(*invalid);
    if (internal_failure || grammar == nullptr)
      return Rejection{Condition::kInternalError, "schema validation failed internally"};
    return Validated{grammar->namespace_uri};
  }

  // ---- SAX callbacks (C entry points: nothing may throw through them) ----

  static xmlSAXHandler handler() {
    xmlSAXHandler h;
    std::memset(&h, 0, sizeof h);
    h.initialized = XML_SAX2_MAGIC;
    h.internalSubset = &on_internal_subset;
    h.externalSubset = &on_external_subset;
    h.isStandalone = &on_no;
    h.hasInternalSubset = &on_no;
    h.hasExternalSubset = &on_no;
    h.resolveEntity = &on_resolve_entity;
    h.getEntity = &on_get_entity;
    h.getParameterEntity = &on_get_parameter_entity;
    h.entityDecl = &on_entity_decl;
    h.notationDecl = &on_notation_decl;
    h.attributeDecl = &on_attribute_decl;
    h.elementDecl = &on_element_decl;
    h.unparsedEntityDecl = &on_unparsed_entity_decl;
    h.startDocument = &on_start_document;
    h.startElementNs = &on_start_element;
    h.endElementNs = &on_end_element;
    // The same function for both makes libxml2 skip its whitespace heuristics.
    h.characters = &on_characters;
    h.ignorableWhitespace = &on_characters;
    h.cdataBlock = &on_cdata;
    h.reference = &on_reference;
    h.comment = &on_comment;
    h.processingInstruction = &on_processing_instruction;
    h.warning = &on_legacy_message;
    h.error = &on_legacy_message;
    h.fatalError = &on_legacy_message;
    h.serror = &on_parse_error;
    return h;
  }

  // After a parse error (RECOVER mode) the first callback stops the parser: this is where
  // xmlStopParser is safe, and it bounds the work libxml2 does on a broken document.
  static bool stop_if_failed(void* ctx) {
    Impl* self = of(ctx);
    if (!self->parse_failed) return false;
    self->forwarding = false;
    xmlStopParser(static_cast<xmlParserCtxtPtr>(ctx));
    return true;
  }

  static void on_internal_subset(void* ctx, const xmlChar* /*name*/, const xmlChar* /*public_id*/,
                                 const xmlChar* /*system_id*/) noexcept {
    // Called once the DOCTYPE's name and external id are read, before its internal subset or
    // any entity: nothing has been declared, expanded or fetched yet.
    Impl* self = of(ctx);
    self->event = Event::kStartTag;
    self->event_offset = self->parser_offset();
    self->forbid(static_cast<xmlParserCtxtPtr>(ctx),
                 "a DOCTYPE declaration is not allowed (no DTDs, entity declarations or external "
                 "references)");
  }
  static void on_external_subset(void* ctx, const xmlChar* /*name*/, const xmlChar* /*public_id*/,
                                 const xmlChar* /*system_id*/) noexcept {
    of(ctx)->forbid(static_cast<xmlParserCtxtPtr>(ctx), "an external DTD subset is not allowed");
  }
  static int on_no(void* /*ctx*/) noexcept { return 0; }
  static xmlParserInputPtr on_resolve_entity(void* ctx, const xmlChar* /*public_id*/,
                                             const xmlChar* /*system_id*/) noexcept {
    of(ctx)->forbid(static_cast<xmlParserCtxtPtr>(ctx), "external entities are not allowed");
    return nullptr;
  }
  static xmlEntityPtr on_get_entity(void* /*ctx*/, const xmlChar* name) noexcept {
    // Only the five predefined entities exist; any other reference is reported by libxml2 as
    // "Entity 'x' not defined", which is a well-formedness error.
    return xmlGetPredefinedEntity(name);
  }
  static xmlEntityPtr on_get_parameter_entity(void* ctx, const xmlChar* /*name*/) noexcept {
    of(ctx)->forbid(static_cast<xmlParserCtxtPtr>(ctx), "parameter entities are not allowed");
    return nullptr;
  }
  static void on_entity_decl(void* ctx, const xmlChar* /*name*/, int /*type*/,
                             const xmlChar* /*public_id*/, const xmlChar* /*system_id*/,
                             xmlChar* /*content*/) noexcept {
    of(ctx)->forbid(static_cast<xmlParserCtxtPtr>(ctx), "entity declarations are not allowed");
  }
  static void on_notation_decl(void* ctx, const xmlChar* /*name*/, const xmlChar* /*public_id*/,
                               const xmlChar* /*system_id*/) noexcept {
    of(ctx)->forbid(static_cast<xmlParserCtxtPtr>(ctx), "notation declarations are not allowed");
  }
  static void on_attribute_decl(void* ctx, const xmlChar* /*elem*/, const xmlChar* /*fullname*/,
                                int /*type*/, int /*def*/, const xmlChar* /*default_value*/,
                                xmlEnumerationPtr tree) noexcept {
    // The parser hands the enumeration over to this callback.
    if (tree != nullptr) xmlFreeEnumeration(tree);
    of(ctx)->forbid(static_cast<xmlParserCtxtPtr>(ctx), "attribute declarations are not allowed");
  }
  static void on_element_decl(void* ctx, const xmlChar* /*name*/, int /*type*/,
                              xmlElementContentPtr /*content*/) noexcept {
    of(ctx)->forbid(static_cast<xmlParserCtxtPtr>(ctx), "element declarations are not allowed");
  }
  static void on_unparsed_entity_decl(void* ctx, const xmlChar* /*name*/,
                                      const xmlChar* /*public_id*/, const xmlChar* /*system_id*/,
                                      const xmlChar* /*notation*/) noexcept {
    of(ctx)->forbid(static_cast<xmlParserCtxtPtr>(ctx), "entity declarations are not allowed");
  }

  static void on_start_document(void* ctx) noexcept {
    // Runs after the XML declaration. A decoder exists when libxml2 detected UTF-16/UCS-4 or
    // the declaration named another encoding; UTF-8 (with or without a BOM) needs none.
    auto* ctxt = static_cast<xmlParserCtxtPtr>(ctx);
    Impl* self = of(ctx);
    const xmlParserInputPtr in = ctxt->input;
    if (in == nullptr || in->buf == nullptr || in->buf->encoder == nullptr) return;
    const char* name = in->buf->encoder->name != nullptr ? in->buf->encoder->name : "unknown";
    try {
      self->record(self->malformed, Condition::kNotWellFormed,
                   std::string("line 1, column 1: only UTF-8 is accepted, but the document is "
                               "encoded as ") +
                       name);
    } catch (...) {
      self->internal_failure = true;
    }
    self->parse_failed = true;
    xmlStopParser(ctxt);
  }

  static void on_start_element(void* ctx, const xmlChar* localname, const xmlChar* prefix,
                               const xmlChar* uri, int nb_namespaces, const xmlChar** namespaces,
                               int nb_attributes, int nb_defaulted,
                               const xmlChar** attributes) noexcept {
    if (stop_if_failed(ctx)) return;
    auto* ctxt = static_cast<xmlParserCtxtPtr>(ctx);
    Impl* self = of(ctx);
    self->flush_text();
    self->event = Event::kStartTag;
    self->event_offset = self->parser_offset();
    self->current_element = localname;
    self->current_uri = uri;
    if (self->depth + 1 > self->max_depth) {
      self->forbid(ctxt, "elements are nested deeper than ", self->max_depth, " levels");
      return;
    }
    self->has_children[static_cast<std::size_t>(self->depth)] = 1;
    ++self->depth;
    const auto level = static_cast<std::size_t>(self->depth);
    self->has_children[level] = 0;
    self->start_tag_offset[level] = self->event_offset;
    self->namespaces_per_level[level] = nb_namespaces;
    self->namespaces_in_scope += nb_namespaces;
    if (self->namespaces_in_scope > self->limits.max_namespaces_in_scope) {
      self->forbid(ctxt, "too many namespace declarations are in scope; the limit is ",
                   self->limits.max_namespaces_in_scope);
      return;
    }
    if (self->depth == 1) {
      try {
        self->begin_validation(localname, uri);
      } catch (...) {
        self->internal_failure = true;
      }
    }
    if (self->forwarding) {
      self->plug_sax->startElementNs(self->plug_user, localname, prefix, uri, nb_namespaces,
                                     namespaces, nb_attributes, nb_defaulted, attributes);
    }
  }

  static void on_end_element(void* ctx, const xmlChar* localname, const xmlChar* prefix,
                             const xmlChar* uri) noexcept {
    if (stop_if_failed(ctx)) return;
    Impl* self = of(ctx);
    self->flush_text();
    self->event = Event::kEndTag;
    self->event_offset = self->parser_offset();
    self->current_element = localname;
    self->current_uri = uri;
    if (self->forwarding) self->plug_sax->endElementNs(self->plug_user, localname, prefix, uri);
    if (self->depth > 0) {
      self->namespaces_in_scope -=
          self->namespaces_per_level[static_cast<std::size_t>(self->depth)];
      --self->depth;
    }
  }

  static void on_characters(void* ctx, const xmlChar* chars_in, int len) noexcept {
    if (stop_if_failed(ctx)) return;
    of(ctx)->collect_text(chars_in, len);
  }

  // The validator treats CDATA content as text; joining it with the surrounding text keeps one
  // value per element.
  static void on_cdata(void* ctx, const xmlChar* chars_in, int len) noexcept {
    if (stop_if_failed(ctx)) return;
    of(ctx)->collect_text(chars_in, len);
  }

  static void on_reference(void* ctx, const xmlChar* name) noexcept {
    if (stop_if_failed(ctx)) return;
    Impl* self = of(ctx);
    if (self->forwarding && self->depth > 0 && self->plug_sax->reference != nullptr) {
      self->flush_text();
      self->event = Event::kText;
      self->event_offset = self->parser_offset();
      self->plug_sax->reference(self->plug_user, name);
    }
  }

  static void on_comment(void* ctx, const xmlChar* /*text*/) noexcept {
    static_cast<void>(stop_if_failed(ctx));
  }
  static void on_processing_instruction(void* ctx, const xmlChar* /*target*/,
                                        const xmlChar* /*data*/) noexcept {
    static_cast<void>(stop_if_failed(ctx));
  }

  // libxml2 reports through serror; these only make sure no legacy path ever prints.
  static void on_legacy_message(void* /*ctx*/, const char* /*msg*/, ...) {}

  static void on_parse_error(void* user, xmlErrorPtr err) noexcept {
    // `user` is the parser context's userData, which SAX2 keeps pointing at the context.
    if (user == nullptr || err == nullptr || err->level == XML_ERR_WARNING) return;
    Impl* self = of(user);
    self->parse_failed = true;
    self->forwarding = false;
    if (self->malformed.has_value()) return;
    try {
      std::string msg(err->message != nullptr ? err->message : "not well-formed");
      replace_all(msg, "Input is not proper UTF-8, indicate encoding !",
                  "invalid UTF-8 (only UTF-8 is accepted).");
      self->record(self->malformed, Condition::kNotWellFormed,
                   at(static_cast<std::size_t>(std::max(err->line, 0)),
                      static_cast<std::size_t>(std::max(err->int2, 0))) +
                       msg);
    } catch (...) {
      self->internal_failure = true;
    }
  }

  static void on_schema_error(void* user, xmlErrorPtr err) noexcept {
    if (user == nullptr || err == nullptr || err->level == XML_ERR_WARNING) return;
    auto* self = static_cast<Impl*>(user);
    // Only the first violation is reported; the parse continues unvalidated, so a document that
    // is also not well-formed further down is reported as such.
    self->forwarding = false;
    if (err->code == XML_SCHEMAV_INTERNAL) {
      self->internal_failure = true;
      return;
    }
    if (self->invalid.has_value()) return;
    try {
      self->record(self->invalid, Condition::kSchemaViolation,
                   self->where() + self->schema_message(err->message));
    } catch (...) {
      self->internal_failure = true;
    }
  }
};

Validator::Validator(std::shared_ptr<const SchemaCatalog> catalog, Limits limits)
    : impl_(std::make_unique<Impl>(std::move(catalog), limits)) {
  initialise_xml_library();
}

Validator::~Validator() = default;

OrRejection<Validated> Validator::validate(std::string_view xml,
                                           std::optional<std::string_view> schema) {
  try {
    return impl_->run(xml, schema);
  } catch (...) {
    t_external_refused = nullptr;
    impl_->abandon_plug();
    return Rejection{Condition::kInternalError, "schema validation failed internally"};
  }
}

}  // namespace ozghub::validation
