// The routing directory: offices, their delivery channels and certificates, and which office is
// responsible for which (service, area). DESIGN.md section 2 is the contract.
//
// Lookup for (ARS, LeiKa): the service-specific entries first, then the `*` entries; within
// each, the most specific area first (12, then 9, 5, 3, 2 digits). The first match wins.
//
// A RoutingDirectory is immutable after load and shared as `shared_ptr<const RoutingDirectory>`;
// a reload builds a new one and swaps the pointer, so lookups never see a half-loaded directory.
//
// Responsibilities come from the YAML file's `responsibilities:` list and from bulk files named
// by `responsibilities_file:` (responsibility_file.hpp), which hold millions of rules: those are
// kept only in the compact index (a 64-bit key and a 64-bit value each), not as Responsibility
// objects; responsibility() rebuilds one for the rule a lookup matched.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/condition.hpp"
#include "common/status.hpp"
#include "routing/area_directory.hpp"

namespace ozghub::routing {

struct Channel {
  std::string adapter;                        // name of an adapter instance in the main config
  std::map<std::string, std::string> params;  // adapter-specific parameters, unvalidated here
  std::string origin;    // "file:line" where the channel is declared (empty when built)
  std::string base_dir;  // relative paths in params are resolved against it
};

struct Office {
  std::string id;  // [A-Za-z0-9._-]+, used as a folder name by the transfer-directory adapter
  std::string name;
  std::string certificate_path;   // PEM X.509, absolute after load; empty = deliver unencrypted
  std::vector<Channel> channels;  // at least one
};

struct Responsibility {
  std::string service;  // 14-digit LeiKa key or "*"
  std::string area;     // ARS prefix of 2, 3, 5, 9 or 12 digits
  std::string office_id;
  int line = 0;  // where it was declared, for "which rule matched"
  bool operator==(const Responsibility&) const = default;
};

// The rule a lookup matched, in its compact form: RoutingDirectory::responsibility() spells it
// out. Only meaningful with the directory that produced it.
class RuleRef {
 public:
  bool operator==(const RuleRef&) const = default;

 private:
  friend class RoutingDirectory;
  std::uint64_t key_ = 0;    // the index key: service number | area value | area length
  std::uint64_t value_ = 0;  // the index value: line or index | source | office
};

struct RouteMatch {
  const Office* office = nullptr;
  RuleRef rule;
};

class RoutingDirectory {
 public:
  // Loads a routing directory YAML file (format: config/routing.demo.yaml) and the bulk
  // responsibilities files it names. Relative paths in it (the GV100AD file, certificates, bulk
  // files) are relative to the file's folder. All errors are
  // collected and reported at once, each with file and line. Throws nothing.
  static Result<std::shared_ptr<const RoutingDirectory>> load(const std::string& path);
  // The same for text already read: `path` names it in errors, relative paths resolve against
  // `base_dir`. (load() reads the file and calls this; the fuzz target calls it directly.)
  static Result<std::shared_ptr<const RoutingDirectory>> parse(const std::string& yaml,
                                                               const std::string& path,
                                                               const std::string& base_dir);

  // Finds the responsible office. Rejections: kInvalidProperty (ARS or LeiKa key malformed),
  // kUnknownArea (ARS not in the area directory), kNoResponsibleOffice.
  // The description is for the sender and may quote the ARS and the LeiKa key.
  OrRejection<RouteMatch> lookup(std::string_view ars, std::string_view leika) const;

  const Office* office(std::string_view id) const;
  const std::vector<Office>& offices() const { return offices_; }
  const AreaDirectory& areas() const { return areas_; }
  // Every rule, from the YAML file and the bulk files.
  std::size_t responsibility_count() const { return responsibilities_.size() + bulk_count_; }
  // The rule `ref` (from lookup() on this directory) spelled out, and the bulk file that
  // declares it (empty for a rule in the directory file itself; its line is in the rule).
  Responsibility responsibility(const RuleRef& ref) const;
  const std::string& rule_file(const RuleRef& ref) const;

  // Builds a directory from parts (tests, benchmarks). Validates like load().
  static Result<std::shared_ptr<const RoutingDirectory>> build(AreaDirectory areas,
                                                               std::vector<Office> offices,
                                                               std::vector<Responsibility> rules);

 private:
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  friend class BulkRuleLoader;

  // Builds the lookup index. Rules with usable[i] false (malformed service or area) stay out of
  // it; a rule repeating the (service, area) of an earlier rule j is reported as (i, j) in
  // `duplicates`. Returns null when there are more distinct services than the key has room for.
  static std::shared_ptr<RoutingDirectory> assemble(
      AreaDirectory areas, std::vector<Office> offices, std::vector<Responsibility> rules,
      const std::vector<bool>& usable,
      std::vector<std::pair<std::size_t, std::size_t>>& duplicates);
  // The dense number of a LeiKa key (`code` = key + 1), assigned on first use; 0 when the key
  // has no room left.
  std::uint64_t service_number(std::uint64_t code);
  // The rule with index key `key` and value `value`, spelled out.
  Responsibility responsibility(std::uint64_t key, std::uint64_t value) const;

  AreaDirectory areas_;
  std::vector<Office> offices_;
  std::vector<Responsibility> responsibilities_;
  // LeiKa key + 1 -> dense service number (1, 2, ...); 0 stands for "*". Dense numbers keep the
  // rule key to 64 bits: service number << 44 | area prefix value << 4 | prefix length.
  detail::FlatIndex services_;
  // Per dense service number, bit n set when some rule has an area prefix of n digits: a lookup
  // probes only lengths that exist.
  std::vector<std::uint16_t> service_lengths_;
  // Rule key -> (index into responsibilities_, or a bulk rule's line) << 32 | source << 24 |
  // index into offices_, where source 0 is responsibilities_ and n > 0 the nth bulk file: a
  // match costs one cache miss, not three.
  detail::FlatIndex rules_;
  std::unordered_map<std::string, std::size_t, StringHash, std::equal_to<>> office_index_;
  // Per dense service number, its LeiKa key + 1 (0 for "*"): spells out a bulk rule's service.
  std::vector<std::uint64_t> service_codes_;
  // The bulk files, in the order named; a rule's source n > 0 is rule_files_[n - 1].
  std::vector<std::string> rule_files_;
  std::string yaml_file_;       // the directory file, for errors about bulk rules
  std::size_t bulk_count_ = 0;  // rules from the bulk files (only in rules_)
};

}  // namespace ozghub::routing
