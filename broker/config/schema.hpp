// The declared schema of the configuration file: every key with its type, default, whether a
// reload applies it, and a description. One source of truth:
//   - the parser's unknown-key check (config.cpp) accepts exactly the keys listed here, so a key
//     missing from the table is an unknown key;
//   - the reloader (reloader.hpp) reports changed keys that are not reloadable as "restart
//     required";
//   - `ozg-hub --config-reference` prints the reference documentation (docs/configuration.md)
//     from it.
//
// Paths are dotted; `[]` stands for every entry of a list ("senders[].name") and `*` for every
// name of a mapping whose keys the operator chooses ("encryption.keks.*.type"). Adding a key is
// one entry in schema.cpp's table (and its parsing in config.cpp).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace YAML {
class Node;
}

namespace ozghub::config::schema {

enum class Type {
  kSection,  // a mapping of the keys listed under it
  kMapping,  // names the operator chooses -> entries (adapters, encryption.keks)
  kList,     // a YAML list (of scalars, or of entries listed under "path[]")
  kString,
  kPath,      // a file or folder; relative to the configuration file's folder
  kHostPort,  // "HOST:PORT"
  kBoolean,
  kInteger,
  kNumber,
  kDuration,  // an integer and a unit: 500ms, 30s, 15m, 12h, 7d
};

enum class Apply {
  kRestart,  // read at startup only; a reload that changes it reports "restart required"
  kReload,   // applied by a reload (SIGHUP, POST /v1/reload)
};

struct Key {
  std::string_view path;
  Type type;
  std::string_view default_value;  // as YAML text; empty: no default (required, or unset)
  Apply apply;
  std::string_view description;
};

// Every key, parents before their children, in the order of the reference documentation.
std::span<const Key> keys();

// The entry of `path` ("retry.max_attempts", "senders[].name"), or nullptr.
const Key* find(std::string_view path);

// The names of the keys declared directly under `section` ("" for the top level, "amqp.tls",
// "senders[]", "encryption.keks.*").
std::vector<std::string_view> children(std::string_view section);

const char* type_name(Type type);

// Keys whose value differs between two parsed files (a key left out counts as its default).
// Lists and operator-named mappings are compared whole, under their own key.
std::vector<const Key*> changed_keys(const YAML::Node& before, const YAML::Node& after);

// The Markdown reference of every key (docs/configuration.md).
std::string reference_markdown();

}  // namespace ozghub::config::schema
