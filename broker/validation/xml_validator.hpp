// Hardened XML schema validation.
//
// A SchemaCatalog maps target namespaces to XSD entry files. Grammars are parsed once, at
// startup, from local files only; documents are validated against the catalog's grammar for
// their namespace and nothing else: `xsi:schemaLocation` hints are ignored and never fetched.
//
// Hardening: a DOCTYPE of any kind, entity declarations and anything that would read a file or
// the network are rejected as kForbiddenConstruct before any entity is expanded; documents over
// the size limit are kTooLarge; nesting deeper than the depth limit is kForbiddenConstruct.
// The parser never touches the network (no HTTP/FTP loaders) nor, while validating documents, the
// file system.
//
// Thread-safety: a SchemaCatalog is immutable after load and shared by all threads. A Validator
// is used by one thread at a time (one per worker); it borrows the catalog.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/condition.hpp"
#include "common/status.hpp"

namespace ozghub::validation {

struct CatalogEntry {
  std::string namespace_uri;  // target namespace, e.g. "urn:xoev-de:xdomea:schema:3.0.0"
  std::string xsd_path;       // entry XSD; its imports/includes are resolved relative to it
};

struct Limits {
  std::size_t max_document_bytes = std::size_t{16} << 20;
  // libxml2 refuses more than 256 levels by itself; larger values act as 256.
  int max_depth = 128;
  // libxml2 2.9 checks attributes for duplicates pairwise and resolves prefixes by walking the
  // namespace stack, so both counts are bounded to keep hostile documents linear.
  int max_attributes_per_element = 256;
  int max_namespaces_in_scope = 128;
};

class SchemaCatalog {
 public:
  // Parses every entry's grammar. Fails (with the file and the parser's message) if one does
  // not load. Startup only.
  static Result<std::shared_ptr<const SchemaCatalog>> load(
      const std::vector<CatalogEntry>& entries);
  ~SchemaCatalog();
  SchemaCatalog(const SchemaCatalog&) = delete;
  SchemaCatalog& operator=(const SchemaCatalog&) = delete;

  bool has(std::string_view namespace_uri) const;
  std::vector<std::string> namespaces() const;

  struct Grammar;  // opaque, owns the parsed schema
  const Grammar* find(std::string_view namespace_uri) const;

 private:
  SchemaCatalog() = default;
  std::vector<std::pair<std::string, std::unique_ptr<Grammar>>> grammars_;
};

struct Validated {
  std::string namespace_uri;  // the namespace the document was validated against
};

class Validator {
 public:
  Validator(std::shared_ptr<const SchemaCatalog> catalog, Limits limits);
  ~Validator();
  Validator(const Validator&) = delete;
  Validator& operator=(const Validator&) = delete;

  // Validates `xml`. When `schema` is given it names the catalog entry to use and the root
  // element's namespace must match it; otherwise the root element's namespace picks the entry.
  // Rejections carry a description a person can act on: line, column, element and rule, e.g.
  // "line 12, column 7: element 'Familienname': This element is not expected. Expected is
  // ( Vorname )." The description may quote the document; it goes to the sender only. It is
  // valid UTF-8, one line, at most about 500 bytes.
  //
  // When a document has several problems the first of these wins: kTooLarge, kUnknownSchema for
  // a `schema` not in the catalog, kForbiddenConstruct, kNotWellFormed, then kUnknownSchema for
  // the root namespace or the first kSchemaViolation. Only UTF-8 is accepted. Never throws.
  OrRejection<Validated> validate(std::string_view xml,
                                  std::optional<std::string_view> schema = std::nullopt);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Once per process, before any thread uses libxml2: initialises the parser and installs an
// external-entity loader that refuses everything but the schema files the catalog loads.
// Process-wide effects other modules see: libxml2 can no longer read URLs (its HTTP and FTP
// readers are unregistered) nor, outside a LocalFileAccess scope, any file through a URL or path
// (xmlReadFile, xsltParseStylesheetFile, XInclude, external entities); and its generic error
// channel is silent. Parsing from memory is unaffected. Idempotent.
void initialise_xml_library();

// While alive, lets libxml2 read local files (never the network) on the calling thread: for
// trusted startup loads such as the catalog's XSDs or an adapter's XSLT stylesheets. Never hold
// one while parsing data from outside.
class LocalFileAccess {
 public:
  LocalFileAccess();
  ~LocalFileAccess();
  LocalFileAccess(const LocalFileAccess&) = delete;
  LocalFileAccess& operator=(const LocalFileAccess&) = delete;

 private:
  bool previous_;
};

}  // namespace ozghub::validation
