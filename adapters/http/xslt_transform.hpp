// XSLT 1.0 transformation of an application before the HTTP adapter sends it, and validation of
// the result against an XSD (adapters/http/README.md: `stylesheet`, `validate_output`).
//
// Stylesheet: compiled once from a local file (bind time, trusted operator configuration; its
// xsl:import/xsl:include may read local files, never the network). Every transformation runs
// locked down: xsltSecurityPrefs forbid reading and writing files, creating directories and
// reading or writing the network, so `document('file:///etc/passwd')` or `exsl:document` fail
// the transformation (no output at all rather than partial output). The input is parsed from
// memory with XML_PARSE_NONET and without entity substitution or DTD loading.
//
// Error texts never quote the application: they name the stylesheet's line and element or the
// kind of failure. libxslt's own messages (which can quote data, e.g. xsl:message) are dropped.
//
// Ownership and thread-safety
// - A Stylesheet owns its xsltStylesheet and is immutable after compile(). libxslt allows one
//   compiled stylesheet to be used by several threads at once as long as each transformation
//   has its own transform context (the context holds the variables, keys, document cache and
//   output; the stylesheet's dictionary is only read, through a per-context sub-dictionary).
//   transform() creates that context per call, so it may run concurrently on one Stylesheet.
// - An OutputSchema owns its parsed XSD (a validation::SchemaCatalog, immutable) and a pool of
//   validation::Validator objects (each used by one thread at a time); validate() is
//   thread-safe.
// - Both are shared by the channel binding that created them (shared_ptr) and live as long as
//   the last delivery that uses them.
//
// Process-wide effects: ensure_xslt_library() (called by compile()) initialises libxml2 through
// validation::initialise_xml_library() and libxslt, and routes libxslt's generic error channel
// (a process global) to a per-thread collector that drops everything outside a compile() or
// transform() on the same thread, so nothing is ever printed to stderr.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.hpp"
#include "validation/xml_validator.hpp"

namespace ozghub::adapters::http {

// Initialises libxml2 and libxslt once per process (idempotent, thread-safe).
void ensure_xslt_library();

// A string parameter passed to the stylesheet as a top-level xsl:param. Values are passed as
// literal strings (quoted by libxslt), never evaluated as XPath.
struct XsltParam {
  std::string name;
  std::string value;
};

class Stylesheet {
 public:
  // Compiles the stylesheet at `path` (absolute). Errors name the file and the first problem
  // libxml2 or libxslt reported (these texts come from the stylesheet, not from applications).
  static Result<std::shared_ptr<const Stylesheet>> compile(const std::string& path);

  ~Stylesheet();
  Stylesheet(const Stylesheet&) = delete;
  Stylesheet& operator=(const Stylesheet&) = delete;

  // Transforms `xml` (UTF-8) and serialises the result as the stylesheet's xsl:output says.
  // Fails with kInvalidArgument when the input is not well-formed, the stylesheet raises an
  // error (xsl:message terminate="yes", a forbidden access, a runtime error) or produces no
  // result; kInternal when memory runs out. Thread-safe; never throws.
  Result<std::string> transform(std::string_view xml, const std::vector<XsltParam>& params) const;

  const std::string& path() const { return path_; }

 private:
  struct Handle;
  Stylesheet(std::string path, std::unique_ptr<Handle> handle);
  std::string path_;
  std::unique_ptr<Handle> handle_;
};

class OutputSchema {
 public:
  // Loads the XSD at `xsd_path` (absolute); its targetNamespace names the namespace the output's
  // root element must have.
  static Result<std::shared_ptr<OutputSchema>> load(const std::string& xsd_path);

  // Checks `xml` against the schema. The error names the line and column, the element and the
  // kind of problem (e.g. "schema_violation at line 12, column 5, element 'Urkundenart'") but
  // never text or attribute values from the document. Thread-safe; never throws.
  Status validate(std::string_view xml);

  const std::string& namespace_uri() const { return namespace_uri_; }

 private:
  OutputSchema(std::string xsd_path, std::string ns,
               std::shared_ptr<const validation::SchemaCatalog> catalog);
  std::unique_ptr<validation::Validator> take();
  void give_back(std::unique_ptr<validation::Validator> v);

  std::string xsd_path_;
  std::string namespace_uri_;
  std::shared_ptr<const validation::SchemaCatalog> catalog_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<validation::Validator>> idle_;  // guarded by mutex_
};

namespace detail {
// The data-free part of a validator's description: "line L, column C, element 'E'" (each part
// only when present; the element only when it is a plain XML name). Exposed for tests.
std::string describe_position(std::string_view description);
}  // namespace detail

}  // namespace ozghub::adapters::http
