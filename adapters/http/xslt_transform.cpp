#include "http/xslt_transform.hpp"

#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxslt/security.h>
#include <libxslt/transform.h>
#include <libxslt/variables.h>
#include <libxslt/xslt.h>
#include <libxslt/xsltInternals.h>
#include <libxslt/xsltutils.h>

#include <cctype>
#include <climits>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <new>

#include "common/condition.hpp"

namespace ozghub::adapters::http {
namespace {

constexpr std::size_t kMaxCollected = 4096;

const char* chars(const xmlChar* s) { return reinterpret_cast<const char*>(s); }
const xmlChar* xml_chars(const char* s) { return reinterpret_cast<const xmlChar*>(s); }

// ---- Error collection ------------------------------------------------------------------------

// What libxml2 and libxslt report while one compile() or transform() runs on this thread. The
// texts may quote the document: they are only scanned for the stylesheet's position and the
// kind of failure, never passed on whole (except for compile(), whose input is the stylesheet).
struct Collected {
  std::string messages;   // libxslt's, concatenated, bounded
  std::string first_xml;  // libxml2's first structured error, with its line
  int first_xml_line = 0;
};

thread_local Collected* t_collected = nullptr;

void append_message(const char* msg, va_list args) {
  if (t_collected == nullptr || msg == nullptr) return;
  if (t_collected->messages.size() >= kMaxCollected) return;
  char buf[512];
  std::vsnprintf(buf, sizeof buf, msg, args);
  try {
    t_collected->messages.append(buf);
  } catch (...) {  // NOLINT(bugprone-empty-catch): losing a diagnostic beats aborting
  }
}

void collect_xslt_error(void* /*ctx*/, const char* msg, ...) {
  va_list args;
  va_start(args, msg);
  append_message(msg, args);
  va_end(args);
}

void collect_xml_error(void* /*ctx*/, xmlErrorPtr err) {
  if (t_collected == nullptr || err == nullptr || !t_collected->first_xml.empty()) return;
  if (err->level == XML_ERR_WARNING) return;
  try {
    t_collected->first_xml = err->message != nullptr ? err->message : "unknown error";
    while (!t_collected->first_xml.empty() &&
           std::isspace(static_cast<unsigned char>(t_collected->first_xml.back())) != 0)
      t_collected->first_xml.pop_back();
    t_collected->first_xml_line = err->line;
  } catch (...) {  // NOLINT(bugprone-empty-catch): losing a diagnostic beats aborting
  }
}

// Routes this thread's libxml2 structured errors and libxslt's generic errors into `c` while
// alive; restores what was there before.
class CollectScope {
 public:
  explicit CollectScope(Collected* c)
      : previous_(t_collected),
        previous_handler_(xmlStructuredError),
        previous_context_(xmlStructuredErrorContext) {
    t_collected = c;
    xmlSetStructuredErrorFunc(nullptr, &collect_xml_error);
  }
  ~CollectScope() {
    xmlSetStructuredErrorFunc(previous_context_, previous_handler_);
    t_collected = previous_;
  }
  CollectScope(const CollectScope&) = delete;
  CollectScope& operator=(const CollectScope&) = delete;

 private:
  Collected* previous_;
  xmlStructuredErrorFunc previous_handler_;
  void* previous_context_;
};

// ---- RAII ------------------------------------------------------------------------------------

struct DocDeleter {
  void operator()(xmlDocPtr d) const { xmlFreeDoc(d); }
};
using DocPtr = std::unique_ptr<xmlDoc, DocDeleter>;

struct ContextDeleter {
  void operator()(xsltTransformContextPtr c) const { xsltFreeTransformContext(c); }
};
using ContextPtr = std::unique_ptr<xsltTransformContext, ContextDeleter>;

struct XmlCharDeleter {
  void operator()(xmlChar* p) const { xmlFree(p); }
};
using XmlCharPtr = std::unique_ptr<xmlChar, XmlCharDeleter>;

// Created once, never changed, never freed: shared read-only by every transform context.
xsltSecurityPrefsPtr locked_down_prefs() {
  static xsltSecurityPrefsPtr prefs = [] {
    xsltSecurityPrefsPtr p = xsltNewSecurityPrefs();
    if (p == nullptr) return p;
    for (auto option :
         {XSLT_SECPREF_READ_FILE, XSLT_SECPREF_WRITE_FILE, XSLT_SECPREF_CREATE_DIRECTORY,
          XSLT_SECPREF_READ_NETWORK, XSLT_SECPREF_WRITE_NETWORK}) {
      xsltSetSecurityPrefs(p, option, xsltSecurityForbid);
    }
    return p;
  }();
  return prefs;
}

// "runtime error: file /x/s.xsl line 12 element value-of" -> " at stylesheet line 12
// (xsl:value-of)"
std::string stylesheet_position(const std::string& messages) {
  constexpr std::string_view kLine = " line ";
  constexpr std::string_view kElement = " element ";
  const std::size_t start = messages.find("runtime error: file ");
  if (start == std::string::npos) return {};
  const std::size_t line = messages.find(kLine, start);
  const std::size_t eol = messages.find('\n', start);
  if (line == std::string::npos || (eol != std::string::npos && line > eol)) return {};
  std::size_t i = line + kLine.size();
  std::string digits;
  while (i < messages.size() && std::isdigit(static_cast<unsigned char>(messages[i])) != 0)
    digits += messages[i++];
  if (digits.empty()) return {};
  std::string out = " at stylesheet line " + digits;
  if (messages.compare(i, kElement.size(), kElement) == 0) {
    i += kElement.size();
    std::string element;
    while (i < messages.size() && (std::isalnum(static_cast<unsigned char>(messages[i])) != 0 ||
                                   messages[i] == '-' || messages[i] == '_'))
      element += messages[i++];
    if (!element.empty()) out += " (xsl:" + element + ")";
  }
  return out;
}

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.' ||
         c == ':';
}

}  // namespace

void ensure_xslt_library() {
  static std::once_flag once;
  std::call_once(once, [] {
    validation::initialise_xml_library();
    xsltInit();
    // libxslt's generic channel is a process global that prints to stderr by default; its
    // messages can quote documents (xsl:message). Collected per thread instead, else dropped.
    xsltSetGenericErrorFunc(nullptr, &collect_xslt_error);
    (void)locked_down_prefs();
  });
}

// ---- Stylesheet --------------------------------------------------------------------------------

struct Stylesheet::Handle {
  xsltStylesheetPtr style = nullptr;
  ~Handle() {
    if (style != nullptr) xsltFreeStylesheet(style);
  }
};

Stylesheet::Stylesheet(std::string path, std::unique_ptr<Handle> handle)
    : path_(std::move(path)), handle_(std::move(handle)) {}

Stylesheet::~Stylesheet() = default;

Result<std::shared_ptr<const Stylesheet>> Stylesheet::compile(const std::string& path) {
  ensure_xslt_library();
  const std::string label = "stylesheet '" + path + "'";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Status::not_found(label + ": not a readable file");
  }
  Collected collected;
  DocPtr doc;
  auto handle = std::make_unique<Handle>();
  {
    CollectScope scope(&collected);
    validation::LocalFileAccess files;  // the stylesheet and its imports: trusted local files
    doc.reset(xmlReadFile(path.c_str(), nullptr, XML_PARSE_NONET | XML_PARSE_NOCDATA));
    if (doc == nullptr) {
      std::string why = collected.first_xml.empty() ? "not well-formed" : collected.first_xml;
      if (collected.first_xml_line > 0)
        why = "line " + std::to_string(collected.first_xml_line) + ": " + why;
      return Status::invalid_argument(label + ": " + why);
    }
    // On success the stylesheet owns the document.
    handle->style = xsltParseStylesheetDoc(doc.get());
    if (handle->style != nullptr) (void)doc.release();
  }
  if (handle->style == nullptr || handle->style->errors != 0) {
    std::string why = collected.messages;
    if (why.empty()) why = collected.first_xml;
    for (char& c : why) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    while (!why.empty() && why.back() == ' ') why.pop_back();
    if (why.size() > 400) why.resize(400);
    return Status::invalid_argument(
        label + " does not compile: " + (why.empty() ? std::string("no reason given") : why));
  }
  return std::shared_ptr<const Stylesheet>(new Stylesheet(path, std::move(handle)));
}

Result<std::string> Stylesheet::transform(std::string_view xml,
                                          const std::vector<XsltParam>& params) const {
  try {
    if (xml.size() > static_cast<std::size_t>(INT_MAX)) {
      return Status::invalid_argument("application too large to transform");
    }
    Collected collected;
    CollectScope scope(&collected);
    // No NOENT (entities stay unexpanded), no DTDLOAD, no network; the hub's ingress has
    // rejected any DOCTYPE already, this is the second line.
    DocPtr doc(xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "application.xml", nullptr,
                             XML_PARSE_NONET));
    if (doc == nullptr) {
      return Status::invalid_argument(
          "application is not well-formed XML" +
          (collected.first_xml_line > 0 ? " (line " + std::to_string(collected.first_xml_line) + ")"
                                        : std::string()));
    }
    if (doc->intSubset != nullptr) {
      return Status::invalid_argument("application has a DOCTYPE; not transformed");
    }
    ContextPtr ctxt(xsltNewTransformContext(handle_->style, doc.get()));
    if (ctxt == nullptr) return Status::internal("cannot create an XSLT transform context");
    if (xsltSetCtxtSecurityPrefs(locked_down_prefs(), ctxt.get()) != 0) {
      return Status::internal("cannot apply the XSLT security policy");
    }
    xsltSetTransformErrorFunc(ctxt.get(), nullptr, &collect_xslt_error);

    std::vector<const char*> pairs;
    pairs.reserve(params.size() * 2 + 1);
    for (const auto& p : params) {
      pairs.push_back(p.name.c_str());
      pairs.push_back(p.value.c_str());
    }
    pairs.push_back(nullptr);
    if (xsltQuoteUserParams(ctxt.get(), pairs.data()) != 0) {
      return Status::internal("cannot pass the stylesheet parameters");
    }

    DocPtr result(
        xsltApplyStylesheetUser(handle_->style, doc.get(), nullptr, nullptr, nullptr, ctxt.get()));
    const bool stopped = ctxt->state == XSLT_STATE_STOPPED;
    if (result == nullptr || ctxt->state != XSLT_STATE_OK) {
      std::string why = "XSLT transformation failed";
      if (collected.messages.find("denied") != std::string::npos) {
        why += ": access forbidden by the security policy (file or network)";
      } else if (stopped) {
        why += ": terminated by the stylesheet (xsl:message terminate)";
      }
      why += stylesheet_position(collected.messages);
      return Status::invalid_argument(why);
    }
    xmlChar* raw = nullptr;
    int len = 0;
    if (xsltSaveResultToString(&raw, &len, result.get(), handle_->style) != 0) {
      return Status::internal("cannot serialise the XSLT result");
    }
    XmlCharPtr out(raw);
    if (out == nullptr || len <= 0) {
      return Status::invalid_argument("XSLT transformation produced no output");
    }
    return std::string(chars(out.get()), static_cast<std::size_t>(len));
  } catch (const std::bad_alloc&) {
    return Status::internal("out of memory in the XSLT transformation");
  } catch (...) {
    return Status::internal("unexpected failure in the XSLT transformation");
  }
}

// ---- OutputSchema ------------------------------------------------------------------------------

OutputSchema::OutputSchema(std::string xsd_path, std::string ns,
                           std::shared_ptr<const validation::SchemaCatalog> catalog)
    : xsd_path_(std::move(xsd_path)), namespace_uri_(std::move(ns)), catalog_(std::move(catalog)) {}

Result<std::shared_ptr<OutputSchema>> OutputSchema::load(const std::string& xsd_path) {
  ensure_xslt_library();
  const std::string label = "output schema '" + xsd_path + "'";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(xsd_path, ec)) {
    return Status::not_found(label + ": not a readable file");
  }
  std::string ns;
  {
    Collected collected;
    CollectScope scope(&collected);
    validation::LocalFileAccess files;
    DocPtr doc(xmlReadFile(xsd_path.c_str(), nullptr, XML_PARSE_NONET));
    if (doc == nullptr) return Status::invalid_argument(label + ": not well-formed XML");
    xmlNodePtr root = xmlDocGetRootElement(doc.get());
    XmlCharPtr target(root == nullptr ? nullptr : xmlGetProp(root, xml_chars("targetNamespace")));
    if (target == nullptr || *target == 0) {
      return Status::invalid_argument(label + ": has no targetNamespace");
    }
    ns = chars(target.get());
  }
  auto catalog = validation::SchemaCatalog::load({{ns, xsd_path}});
  if (!catalog.is_ok()) return catalog.status();
  return std::shared_ptr<OutputSchema>(new OutputSchema(xsd_path, ns, std::move(*catalog)));
}

std::unique_ptr<validation::Validator> OutputSchema::take() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto v = std::move(idle_.back());
      idle_.pop_back();
      return v;
    }
  }
  return std::make_unique<validation::Validator>(catalog_, validation::Limits{});
}

void OutputSchema::give_back(std::unique_ptr<validation::Validator> v) {
  std::lock_guard lock(mutex_);
  idle_.push_back(std::move(v));
}

Status OutputSchema::validate(std::string_view xml) {
  try {
    auto validator = take();
    auto outcome = validator->validate(xml, namespace_uri_);
    give_back(std::move(validator));
    if (const auto* rejection = std::get_if<Rejection>(&outcome)) {
      std::string where = detail::describe_position(rejection->description);
      return Status::invalid_argument("output does not satisfy '" +
                                      std::filesystem::path(xsd_path_).filename().string() +
                                      "': " + std::string(condition_label(rejection->condition)) +
                                      (where.empty() ? std::string() : " at " + where));
    }
    return Status::ok();
  } catch (const std::bad_alloc&) {
    return Status::internal("out of memory validating the output");
  } catch (...) {
    return Status::internal("unexpected failure validating the output");
  }
}

namespace detail {

std::string describe_position(std::string_view d) {
  std::string out;
  std::size_t i = 0;
  const auto number_after = [&](std::string_view prefix) -> std::string {
    if (d.substr(i, prefix.size()) != prefix) return {};
    std::size_t j = i + prefix.size();
    std::string digits;
    while (j < d.size() && std::isdigit(static_cast<unsigned char>(d[j])) != 0) digits += d[j++];
    if (!digits.empty()) i = j;
    return digits;
  };
  if (auto line = number_after("line "); !line.empty()) {
    out = "line " + line;
    if (auto column = number_after(", column "); !column.empty()) out += ", column " + column;
  }
  if (d.substr(i, 2) == ": ") i += 2;
  constexpr std::string_view kElement = "element '";
  if (d.substr(i, kElement.size()) == kElement) {
    std::size_t j = i + kElement.size();
    std::string name;
    while (j < d.size() && is_name_char(d[j])) name += d[j++];
    if (!name.empty() && j < d.size() && d[j] == '\'') {
      out += (out.empty() ? "" : ", ") + std::string("element '") + name + "'";
    }
  }
  return out;
}

}  // namespace detail

}  // namespace ozghub::adapters::http
