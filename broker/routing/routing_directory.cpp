#include "routing/routing_directory.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <sstream>
#include <tuple>
#include <unordered_set>

#include "routing/responsibility_file.hpp"

namespace ozghub::routing {

namespace {

constexpr std::size_t kLeikaDigits = 14;
// Rule key layout: service number (20 bits) | area prefix value (40 bits) | prefix length (4).
constexpr int kServiceShift = 44;
constexpr std::uint64_t kMaxServices = (std::uint64_t{1} << (64 - kServiceShift)) - 1;
// Rule value layout: index or line (32 bits) | source (8) | office (24).
constexpr int kSourceShift = 24;
constexpr std::uint64_t kOfficeMask = (std::uint64_t{1} << kSourceShift) - 1;
constexpr std::uint64_t kNoOffice = kOfficeMask;  // more offices than this do not load
constexpr std::size_t kMaxRuleFiles = 255;
constexpr std::uint64_t kAreaMask = (std::uint64_t{1} << (kServiceShift - 4)) - 1;
constexpr std::array<std::size_t, 5> kPrefixLengths = {12, 9, 5, 3, 2};  // most specific first
constexpr std::array<std::uint64_t, 13> kPow10 = {
    1ULL,           10ULL,           100ULL,          1000ULL,      10000ULL,
    100000ULL,      1000000ULL,      10000000ULL,     100000000ULL, 1000000000ULL,
    10000000000ULL, 100000000000ULL, 1000000000000ULL};

bool all_digits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// The value of a string of digits the caller has checked (at most 19 of them).
std::uint64_t digits_value(std::string_view s) {
  std::uint64_t v = 0;
  for (char c : s) v = v * 10 + static_cast<std::uint64_t>(c - '0');
  return v;
}

bool is_leika(std::string_view s) { return s.size() == kLeikaDigits && all_digits(s); }

// LeiKa keys + 1, so that the all-zero key cannot collide with the empty slot.
std::uint64_t leika_code(std::string_view s) { return digits_value(s) + 1; }

std::uint64_t rule_key(std::uint64_t service_number, std::uint64_t prefix_value,
                       std::size_t prefix_length) {
  return (service_number << kServiceShift) | (prefix_value << 4) | prefix_length;
}

std::uint64_t rule_value(std::uint64_t index_or_line, std::uint64_t source, std::uint64_t office) {
  return (index_or_line << 32) | (source << kSourceShift) | office;
}

// `value` as exactly `digits` decimal digits (leading zeros kept).
std::string zero_padded(std::uint64_t value, std::size_t digits) {
  std::string s(digits, '0');
  for (std::size_t i = digits; i-- > 0; value /= 10) s[i] = static_cast<char>('0' + value % 10);
  return s;
}

bool is_valid_office_id(std::string_view id) {
  if (id.empty()) return false;
  for (char c : id) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Sender data quoted in a rejection: bounded, printable ASCII only.
std::string quote(std::string_view s) {
  constexpr std::size_t kMax = 40;
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size() && i < kMax; ++i) {
    char c = s[i];
    out += (c >= 0x20 && c < 0x7F && c != '"') ? c : '?';
  }
  if (s.size() > kMax) out += "...";
  out += '"';
  return out;
}

// ---- Errors -------------------------------------------------------------------------------

// Collects errors as `file:line: what` (load) or `kind #n: what` (build, which has no lines)
// and reports them sorted by line.
class Errors {
 public:
  explicit Errors(std::string file) : file_(std::move(file)) {}
  const std::string& file() const { return file_; }

  // An error in another file (a bulk responsibilities file), reported after the errors in the
  // directory file and those of files with a lower `order`.
  void add_in(const std::string& file, int order, int line, const std::string& what) {
    if (++count_ > kMaxKept) return;
    errors_.push_back({order, line, file + ":" + std::to_string(line) + ": " + what});
  }

  // `kind` and `index` name the item in build(); load() names it by its line.
  void add(int line, std::string_view kind, std::size_t index, const std::string& what) {
    // A wrong file of millions of rules must not produce a message of millions of lines.
    if (++count_ > kMaxKept) return;
    std::string msg;
    if (has_lines()) {
      msg = file_;
      if (line > 0) msg += ":" + std::to_string(line);
    } else {
      msg = std::string(kind) + " #" + std::to_string(index + 1);
    }
    msg += ": " + what;
    errors_.push_back({0, line, std::move(msg)});
  }
  void add(int line, const std::string& what) { add(line, "", 0, what); }

  bool empty() const { return count_ == 0; }
  bool has_lines() const { return !file_.empty(); }

  Status status() {
    std::stable_sort(errors_.begin(), errors_.end(), [](const Error& a, const Error& b) {
      return std::tie(a.order, a.line) < std::tie(b.order, b.line);
    });
    std::string msg = std::to_string(count_) + " routing directory error(s):";
    for (const Error& e : errors_) msg += "\n  " + e.text;
    if (count_ > errors_.size()) {
      msg += "\n  ... and " + std::to_string(count_ - errors_.size()) + " more";
    }
    return Status::invalid_argument(msg);
  }

 private:
  struct Error {
    int order = 0;  // 0: the directory file; n: the nth bulk file
    int line = 0;
    std::string text;
  };
  static constexpr std::size_t kMaxKept = 200;
  std::string file_;
  std::size_t count_ = 0;
  std::vector<Error> errors_;
};

// Which fields of an item the YAML reader already reported, so validation does not repeat it.
enum Reported : unsigned {
  kId = 1,
  kName = 2,
  kCertificate = 4,
  kChannels = 8,
  kService = 16,
  kArea = 32,
  kOffice = 64,
};

struct OfficeOrigin {
  int line = 0;
  int id_line = 0;
  int certificate_line = 0;
  std::vector<int> channel_lines;
  unsigned reported = 0;
};

struct RuleOrigin {
  int service_line = 0;
  int area_line = 0;
  int office_line = 0;
  unsigned reported = 0;
};

int line_or(int line, int fallback) { return line > 0 ? line : fallback; }

std::string office_label(const Office& o) { return "office '" + o.id + "'"; }

// The checks load() and build() have in common. Fields the YAML reader already reported
// (`reported`) are not reported again.
struct Validator {
  Errors& errors;

  // In build() there are no lines; name the item by its position instead.
  std::string where_first(int line, const std::string& kind, std::size_t index) const {
    if (errors.has_lines() && line > 0) return "line " + std::to_string(line);
    return kind + " #" + std::to_string(index + 1);
  }

  void offices(const std::vector<Office>& offices, const std::vector<OfficeOrigin>& origins,
               std::unordered_map<std::string_view, std::size_t>& ids) {
    for (std::size_t i = 0; i < offices.size(); ++i) {
      const Office& o = offices[i];
      const OfficeOrigin& at = origins[i];
      const int id_line = line_or(at.id_line, at.line);
      if (!(at.reported & kId)) {
        if (o.id.empty()) {
          errors.add(at.line, "office", i, "office has no 'id'");
        } else if (!is_valid_office_id(o.id)) {
          errors.add(id_line, "office", i,
                     "office id '" + o.id + "' may only hold letters, digits, '.', '_' and '-'");
        } else if (o.id == "." || o.id == "..") {
          // The transfer-directory adapter uses the id as a folder name.
          errors.add(id_line, "office", i,
                     "office id '" + o.id + "' cannot be used as a folder name");
        }
      }
      if (!o.id.empty()) {
        auto [it, fresh] = ids.emplace(o.id, i);
        if (!fresh) {
          const std::size_t j = it->second;
          errors.add(id_line, "office", i,
                     "office id '" + o.id + "' is already used (" +
                         where_first(origins[j].line, "office", j) + ")");
        }
      }
      if (!(at.reported & kName) && o.name.empty()) {
        errors.add(at.line, "office", i, office_label(o) + " has no 'name'");
      }
      if (!(at.reported & kChannels)) {
        if (o.channels.empty())
          errors.add(at.line, "office", i, office_label(o) + " has no channels");
        for (std::size_t c = 0; c < o.channels.size(); ++c) {
          if (!o.channels[c].adapter.empty()) continue;
          int line = c < at.channel_lines.size() ? at.channel_lines[c] : at.line;
          errors.add(line, "office", i,
                     office_label(o) + ": channel #" + std::to_string(c + 1) + " has no 'adapter'");
        }
      }
      if (!(at.reported & kCertificate) && !o.certificate_path.empty()) {
        std::error_code ec;
        auto st = std::filesystem::status(o.certificate_path, ec);
        if (!std::filesystem::exists(st)) {
          errors.add(line_or(at.certificate_line, at.line), "office", i,
                     office_label(o) + ": certificate " + o.certificate_path + " does not exist");
        } else if (!std::filesystem::is_regular_file(st)) {
          errors.add(line_or(at.certificate_line, at.line), "office", i,
                     office_label(o) + ": certificate " + o.certificate_path + " is not a file");
        }
      }
    }
  }

  // Returns which rules have a well-formed service and area (and can be indexed). With
  // `areas_known` false (the area directory did not load) every area would be "unknown", which
  // says nothing new, so membership is not checked.
  std::vector<bool> rules(const std::vector<Responsibility>& rules,
                          const std::vector<RuleOrigin>& origins, const AreaDirectory& areas,
                          bool areas_known,
                          const std::unordered_map<std::string_view, std::size_t>& ids) {
    std::vector<bool> usable(rules.size(), false);
    for (std::size_t i = 0; i < rules.size(); ++i) {
      const Responsibility& r = rules[i];
      const RuleOrigin& at = origins[i];
      bool ok = true;
      if (r.service != "*" && !is_leika(r.service)) {
        ok = false;
        if (!(at.reported & kService)) {
          errors.add(line_or(at.service_line, r.line), "responsibility", i,
                     r.service.empty()
                         ? std::string("responsibility has no 'service'")
                         : "service '" + r.service + "' is neither a 14-digit LeiKa key nor \"*\"");
        }
      }
      if (!is_valid_ars_shape(r.area)) {
        ok = false;
        if (!(at.reported & kArea)) {
          errors.add(line_or(at.area_line, r.line), "responsibility", i,
                     r.area.empty()
                         ? std::string("responsibility has no 'area'")
                         : "area '" + r.area + "' is not an ARS: expected 2, 3, 5, 9 or 12 digits");
        }
      } else if (areas_known && !areas.contains(r.area)) {
        errors.add(line_or(at.area_line, r.line), "responsibility", i,
                   "area '" + r.area + "' is not in the area directory");
      }
      if (!(at.reported & kOffice)) {
        if (r.office_id.empty()) {
          errors.add(r.line, "responsibility", i, "responsibility has no 'office'");
        } else if (ids.find(r.office_id) == ids.end()) {
          errors.add(line_or(at.office_line, r.line), "responsibility", i,
                     "office '" + r.office_id + "' is not declared under 'offices'");
        }
      }
      usable[i] = ok;
    }
    return usable;
  }

  void duplicate(const std::vector<Responsibility>& rules, std::size_t i, std::size_t first) {
    const Responsibility& r = rules[i];
    errors.add(r.line, "responsibility", i,
               "service '" + r.service + "' in area '" + r.area + "' is already assigned (" +
                   where_first(rules[first].line, "responsibility", first) + ")");
  }
};

// ---- YAML ---------------------------------------------------------------------------------

int line_of(const YAML::Node& n) {
  return n.IsDefined() && n.Mark().line >= 0 ? n.Mark().line + 1 : 0;
}

struct Entry {
  YAML::Node key;
  YAML::Node value;
  int line() const {
    // A null value's mark can point past its key; the key's line is where the reader looks.
    return value.IsNull() ? line_of(key) : line_or(line_of(value), line_of(key));
  }
};

class YamlReader {
 public:
  YamlReader(Errors& errors, std::filesystem::path base)
      : errors_(errors), base_(std::move(base)) {}

  std::string origin(int line) const { return errors_.file() + ":" + std::to_string(line); }
  std::string base_dir() const { return base_.string(); }

  void error(int line, const std::string& what) { errors_.add(line, what); }

  // The entries of a mapping by key, in `known` order (absent ones are null). Reports unknown
  // and repeated keys, which yaml-cpp accepts silently.
  std::vector<const Entry*> fields(const YAML::Node& map, const std::string& what,
                                   std::initializer_list<std::string_view> known,
                                   std::vector<Entry>& storage) {
    storage.clear();
    std::vector<const Entry*> out(known.size(), nullptr);
    if (!map.IsMap()) return out;
    storage.reserve(map.size());
    for (const auto& kv : map) storage.push_back(Entry{kv.first, kv.second});
    for (const Entry& e : storage) {
      std::string key = e.key.IsScalar() ? e.key.Scalar() : std::string("?");
      std::size_t k = 0;
      for (auto name : known) {
        if (name == key) break;
        ++k;
      }
      if (k == known.size()) {
        std::string list;
        for (auto name : known) list += (list.empty() ? "" : ", ") + std::string(name);
        error(line_of(e.key), "unknown key '" + key + "' in " + what + " (known: " + list + ")");
      } else if (out[k] != nullptr) {
        error(line_of(e.key), "key '" + key + "' appears twice in " + what + " (first on line " +
                                  std::to_string(line_of(out[k]->key)) + ")");
      } else {
        out[k] = &e;
      }
    }
    return out;
  }

  // Reads a string value. Returns false when the value is there but not a string (reported).
  bool string(const Entry* e, const std::string& what, std::string& out) {
    if (e == nullptr || e->value.IsNull()) return true;
    if (!e->value.IsScalar()) {
      error(e->line(), what + " must be a string");
      return false;
    }
    out = e->value.Scalar();
    return true;
  }

  bool mapping(const YAML::Node& n, const std::string& what, int line = 0) {
    if (n.IsMap()) return true;
    error(line_or(line, line_of(n)), what + " must be a mapping");
    return false;
  }

  // A null value counts as an empty list.
  bool sequence(const Entry* e, const std::string& what) {
    if (e == nullptr || e->value.IsNull() || e->value.IsSequence()) return true;
    error(e->line(), what + " must be a list");
    return false;
  }

  std::string path(const std::string& p) const {
    std::filesystem::path fp(p);
    if (fp.is_absolute()) return fp.lexically_normal().string();
    return (base_ / fp).lexically_normal().string();
  }

 private:
  Errors& errors_;
  std::filesystem::path base_;
};

struct Parsed {
  AreaDirectory areas;
  bool areas_known = false;
  std::vector<Office> offices;
  std::vector<OfficeOrigin> office_origins;
  std::vector<Responsibility> rules;
  std::vector<RuleOrigin> rule_origins;
  struct RuleFile {
    std::string path;  // resolved
    int line = 0;      // where the YAML names it
  };
  std::vector<RuleFile> rule_files;
};

std::string indent(const std::string& s) {
  std::string out;
  for (char c : s) {
    out += c;
    if (c == '\n') out += "  ";
  }
  return out;
}

void parse_areas(YamlReader& y, const Entry* e, Parsed& p) {
  if (e == nullptr) return;
  if (!y.mapping(e->value, "'areas'", e->line())) return;
  std::vector<Entry> storage;
  auto f = y.fields(e->value, "'areas'", {"gv100ad", "extra"}, storage);
  const Entry* gv = f[0];
  const Entry* extra = f[1];
  bool ok = true;
  if (gv == nullptr && extra == nullptr) {
    y.error(e->line(), "'areas' needs 'gv100ad' (a GV100AD file) or 'extra' (a list of areas)");
    ok = false;
  }
  if (gv != nullptr) {
    std::string file;
    if (!y.string(gv, "areas.gv100ad", file)) {
      ok = false;
    } else if (file.empty()) {
      y.error(gv->line(), "areas.gv100ad is empty");
      ok = false;
    } else {
      auto loaded = AreaDirectory::load_gv100ad(y.path(file));
      if (loaded) {
        p.areas = std::move(loaded).value();
      } else {
        y.error(gv->line(), "areas.gv100ad: " + indent(loaded.status().message()));
        ok = false;
      }
    }
  }
  if (extra != nullptr && !y.sequence(extra, "areas.extra")) ok = false;
  if (extra != nullptr && extra->value.IsSequence()) {
    for (const auto& item : extra->value) {
      if (!y.mapping(item, "an entry of areas.extra")) {
        ok = false;
        continue;
      }
      std::vector<Entry> s;
      auto af = y.fields(item, "an entry of areas.extra", {"ars", "name"}, s);
      std::string ars;
      std::string name;
      const bool ars_ok = y.string(af[0], "areas.extra: 'ars'", ars);
      const bool name_ok = y.string(af[1], "areas.extra: 'name'", name);
      if (!ars_ok || !name_ok) continue;
      if (ars.empty()) {
        y.error(line_of(item), "an entry of areas.extra has no 'ars'");
      } else if (!is_valid_ars_shape(ars)) {
        y.error(af[0]->line(),
                "areas.extra: '" + ars + "' is not an ARS: expected 2, 3, 5, 9 or 12 digits");
      } else if (name.empty()) {
        y.error(line_of(item), "areas.extra: " + ars + " has no 'name'");
      } else {
        p.areas.add(std::move(ars), std::move(name));
      }
    }
  }
  p.areas_known = ok;
}

void parse_channels(YamlReader& y, const Entry* e, Office& o, OfficeOrigin& at) {
  if (e == nullptr || e->value.IsNull()) return;
  if (!y.sequence(e, "channels")) {
    at.reported |= kChannels;
    return;
  }
  for (const auto& item : e->value) {
    if (!y.mapping(item, "a channel")) {
      at.reported |= kChannels;
      continue;
    }
    std::vector<Entry> s;
    auto cf = y.fields(item, "a channel", {"adapter", "params"}, s);
    Channel ch;
    if (!y.string(cf[0], "a channel's 'adapter'", ch.adapter)) at.reported |= kChannels;
    if (const Entry* params = cf[1]; params != nullptr && !params->value.IsNull()) {
      if (!params->value.IsMap()) {
        y.error(params->line(), "params must be a mapping of names to strings");
      } else {
        for (const auto& kv : params->value) {
          if (!kv.first.IsScalar() || !kv.second.IsScalar()) {
            y.error(line_of(kv.first), "params: each value must be a string");
            continue;
          }
          if (!ch.params.emplace(kv.first.Scalar(), kv.second.Scalar()).second) {
            y.error(line_of(kv.first), "params: key '" + kv.first.Scalar() + "' appears twice");
          }
        }
      }
    }
    ch.origin = y.origin(line_of(item));
    ch.base_dir = y.base_dir();
    o.channels.push_back(std::move(ch));
    at.channel_lines.push_back(line_of(item));
  }
}

void parse_offices(YamlReader& y, const Entry* e, Parsed& p) {
  if (e == nullptr || !y.sequence(e, "'offices'") || e->value.IsNull()) return;
  for (const auto& item : e->value) {
    if (!y.mapping(item, "an office")) continue;
    std::vector<Entry> s;
    auto f = y.fields(item, "an office", {"id", "name", "certificate", "channels"}, s);
    Office o;
    OfficeOrigin at;
    at.line = line_of(item);
    if (f[0] != nullptr) at.id_line = f[0]->line();
    if (f[2] != nullptr) at.certificate_line = f[2]->line();
    if (!y.string(f[0], "an office's 'id'", o.id)) at.reported |= kId;
    if (!y.string(f[1], "an office's 'name'", o.name)) at.reported |= kName;
    if (!y.string(f[2], "an office's 'certificate'", o.certificate_path)) {
      at.reported |= kCertificate;
    }
    if (!o.certificate_path.empty()) o.certificate_path = y.path(o.certificate_path);
    parse_channels(y, f[3], o, at);
    p.offices.push_back(std::move(o));
    p.office_origins.push_back(std::move(at));
  }
}

void parse_rules(YamlReader& y, const Entry* e, Parsed& p) {
  if (e == nullptr || !y.sequence(e, "'responsibilities'") || e->value.IsNull()) return;
  for (const auto& item : e->value) {
    if (!y.mapping(item, "a responsibility")) continue;
    std::vector<Entry> s;
    auto f = y.fields(item, "a responsibility", {"service", "area", "office"}, s);
    Responsibility r;
    RuleOrigin at;
    r.line = line_of(item);
    if (f[0] != nullptr) at.service_line = f[0]->line();
    if (f[1] != nullptr) at.area_line = f[1]->line();
    if (f[2] != nullptr) at.office_line = f[2]->line();
    if (!y.string(f[0], "a responsibility's 'service'", r.service)) at.reported |= kService;
    if (!y.string(f[1], "a responsibility's 'area'", r.area)) at.reported |= kArea;
    if (!y.string(f[2], "a responsibility's 'office'", r.office_id)) at.reported |= kOffice;
    p.rules.push_back(std::move(r));
    p.rule_origins.push_back(at);
  }
}

// `responsibilities_file`: one path, or a list of them.
void parse_rule_files(YamlReader& y, const Entry* e, Parsed& p) {
  if (e == nullptr) return;
  auto add = [&](const YAML::Node& n, int line) {
    if (!n.IsScalar()) {
      y.error(line, "'responsibilities_file' must be a path or a list of paths");
    } else if (n.Scalar().empty()) {
      y.error(line, "'responsibilities_file' names an empty path");
    } else if (p.rule_files.size() == kMaxRuleFiles) {
      y.error(line, "more than " + std::to_string(kMaxRuleFiles) + " responsibilities files");
    } else {
      p.rule_files.push_back({y.path(n.Scalar()), line});
    }
  };
  if (e->value.IsSequence()) {
    for (const auto& item : e->value) add(item, line_or(line_of(item), e->line()));
  } else {
    add(e->value, e->line());
  }
}

}  // namespace

// ---- Bulk responsibilities files ----------------------------------------------------------

// Reads the bulk files into a directory whose YAML rules are indexed already. Checks each line
// as Validator checks a YAML rule, but builds no string per line: ten million of them load in
// seconds.
class BulkRuleLoader {
 public:
  BulkRuleLoader(RoutingDirectory& d, Errors& errors, bool areas_known)
      : d_(d), errors_(errors), areas_known_(areas_known) {}

  // Returns false when the service key has no room for another LeiKa key.
  bool load(const std::string& path, int yaml_line) {
    d_.rule_files_.push_back(path);
    source_ = d_.rule_files_.size();
    path_ = &d_.rule_files_.back();
    last_office_.clear();
    last_office_index_ = kNoOffice;
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(path, ec);
    // About 45 bytes a line: reserving up front saves growing (and copying) the index.
    if (!ec) d_.rules_.reserve(d_.responsibility_count() + bytes / 40);
    Status st = read_responsibility_file(
        path, [this](const RuleLine& r) { rule(r); },
        [this](int line, const std::string& what) { error(line, what); });
    while (pending_begin_ != pending_end_) insert_pending();
    if (!st) errors_.add(yaml_line, "responsibilities_file: " + st.message());
    return !full_;
  }

 private:
  void error(int line, const std::string& what) {
    errors_.add_in(*path_, static_cast<int>(source_), line, what);
  }

  void rule(const RuleLine& r) {
    bool ok = true;
    std::uint64_t number = 0;
    if (r.service != "*") {
      if (!is_leika(r.service)) {
        error(r.line,
              "service '" + std::string(r.service) + "' is neither a 14-digit LeiKa key nor \"*\"");
        ok = false;
      } else if (number = d_.service_number(leika_code(r.service)); number == 0) {
        full_ = true;
        ok = false;
      }
    }
    if (!is_valid_ars_shape(r.area)) {
      error(r.line,
            "area '" + std::string(r.area) + "' is not an ARS: expected 2, 3, 5, 9 or 12 digits");
      ok = false;
    } else if (areas_known_ && !d_.areas_.contains(r.area)) {
      error(r.line, "area '" + std::string(r.area) + "' is not in the area directory");
      ok = false;
    }
    // Files are usually grouped by office: most lines repeat the previous line's.
    if (r.office != last_office_) {
      auto it = d_.office_index_.find(r.office);
      last_office_index_ = it == d_.office_index_.end() ? kNoOffice : it->second;
      last_office_.assign(r.office);
    }
    if (last_office_index_ == kNoOffice) {
      error(r.line, "office '" + std::string(r.office) + "' is not declared under 'offices'");
      ok = false;
    }
    if (!ok) return;
    d_.service_lengths_[number] |= static_cast<std::uint16_t>(1u << r.area.size());
    const std::uint64_t key = rule_key(number, digits_value(r.area), r.area.size());
    const auto line = static_cast<std::uint64_t>(r.line);
    // Each insert is a cache miss in a large index: announce it, and insert it some rules
    // later, so that the misses overlap (in order: the first of two duplicates still wins).
    if (pending_end_ - pending_begin_ == kPending) insert_pending();
    d_.rules_.prefetch(key);
    pending_[pending_end_++ % kPending] = {key, rule_value(line, source_, last_office_index_)};
  }

  void insert_pending() {
    const auto [key, value] = pending_[pending_begin_++ % kPending];
    if (d_.rules_.insert(key, value)) {
      ++d_.bulk_count_;
      return;
    }
    const std::uint64_t first = *d_.rules_.find(key);
    const std::uint64_t first_source = (first >> kSourceShift) & 0xFF;
    const Responsibility r = d_.responsibility(key, value);
    std::string where = first_source == source_ ? "line "
                        : first_source == 0     ? d_.yaml_file_ + ":"
                                                : d_.rule_files_[first_source - 1] + ":";
    where += std::to_string(d_.responsibility(key, first).line);
    error(r.line, "service '" + r.service + "' in area '" + r.area + "' is already assigned (" +
                      where + ")");
  }

  RoutingDirectory& d_;
  Errors& errors_;
  bool areas_known_;
  std::uint64_t source_ = 0;
  const std::string* path_ = nullptr;
  std::string last_office_;
  std::uint64_t last_office_index_ = kNoOffice;
  bool full_ = false;
  // Rules checked and announced, not yet inserted: (key, value), a ring.
  static constexpr std::size_t kPending = 16;
  std::array<std::pair<std::uint64_t, std::uint64_t>, kPending> pending_{};
  std::size_t pending_begin_ = 0;
  std::size_t pending_end_ = 0;
};

// ---- RoutingDirectory -----------------------------------------------------------------------

std::uint64_t RoutingDirectory::service_number(std::uint64_t code) {
  if (const std::uint64_t* n = services_.find(code)) return *n;
  const std::uint64_t number = service_lengths_.size();
  if (number > kMaxServices) return 0;
  (void)services_.insert(code, number);
  service_lengths_.push_back(0);
  service_codes_.push_back(code);
  return number;
}

Responsibility RoutingDirectory::responsibility(const RuleRef& ref) const {
  return responsibility(ref.key_, ref.value_);
}

Responsibility RoutingDirectory::responsibility(std::uint64_t key, std::uint64_t value) const {
  const std::uint64_t source = (value >> kSourceShift) & 0xFF;
  if (source == 0) return responsibilities_.at(value >> 32);
  Responsibility r;
  const std::uint64_t number = key >> kServiceShift;
  r.service = number == 0 ? "*" : zero_padded(service_codes_.at(number) - 1, kLeikaDigits);
  r.area = zero_padded((key >> 4) & kAreaMask, key & 0xF);
  r.office_id = offices_.at(value & kOfficeMask).id;
  r.line = static_cast<int>(value >> 32);
  return r;
}

const std::string& RoutingDirectory::rule_file(const RuleRef& ref) const {
  static const std::string kNone;
  const std::uint64_t source = (ref.value_ >> kSourceShift) & 0xFF;
  return source == 0 ? kNone : rule_files_.at(source - 1);
}

std::shared_ptr<RoutingDirectory> RoutingDirectory::assemble(
    AreaDirectory areas, std::vector<Office> offices, std::vector<Responsibility> rules,
    const std::vector<bool>& usable, std::vector<std::pair<std::size_t, std::size_t>>& duplicates) {
  auto d = std::make_shared<RoutingDirectory>();
  d->areas_ = std::move(areas);
  d->offices_ = std::move(offices);
  d->responsibilities_ = std::move(rules);
  d->office_index_.reserve(d->offices_.size());
  for (std::size_t i = 0; i < d->offices_.size(); ++i) {
    d->office_index_.emplace(d->offices_[i].id, i);
  }

  d->service_lengths_.assign(1, 0);  // number 0: "*"
  d->service_codes_.assign(1, 0);
  std::size_t indexed = 0;
  for (bool u : usable) indexed += u ? 1 : 0;
  d->rules_.reserve(indexed);

  for (std::size_t i = 0; i < d->responsibilities_.size(); ++i) {
    const Responsibility& r = d->responsibilities_[i];
    if (!usable[i]) continue;
    // An unknown office is an error reported by the caller; the directory is then discarded.
    std::uint64_t office = kNoOffice;
    if (auto it = d->office_index_.find(r.office_id); it != d->office_index_.end()) {
      office = it->second;
    }
    std::uint64_t number = 0;
    if (r.service != "*") {
      number = d->service_number(leika_code(r.service));
      if (number == 0) return nullptr;
    }
    d->service_lengths_[number] |= static_cast<std::uint16_t>(1u << r.area.size());
    const std::uint64_t key = rule_key(number, digits_value(r.area), r.area.size());
    if (!d->rules_.insert(key, rule_value(i, 0, office))) {
      duplicates.emplace_back(i, *d->rules_.find(key) >> 32);
    }
  }
  return d;
}

Result<std::shared_ptr<const RoutingDirectory>> RoutingDirectory::build(
    AreaDirectory areas, std::vector<Office> offices, std::vector<Responsibility> rules) {
  if (rules.size() >= std::numeric_limits<std::uint32_t>::max()) {
    return Status::invalid_argument("too many responsibilities");
  }
  if (offices.size() >= kNoOffice) return Status::invalid_argument("too many offices");
  Errors errors("");
  Validator v{errors};
  std::unordered_map<std::string_view, std::size_t> ids;
  v.offices(offices, std::vector<OfficeOrigin>(offices.size()), ids);
  auto usable =
      v.rules(rules, std::vector<RuleOrigin>(rules.size()), areas, /*areas_known=*/true, ids);
  // `ids` views the offices' strings; the check is done before they move.
  ids.clear();
  std::vector<std::pair<std::size_t, std::size_t>> duplicates;
  auto d = assemble(std::move(areas), std::move(offices), std::move(rules), usable, duplicates);
  if (!d)
    return Status::invalid_argument("more than " + std::to_string(kMaxServices) +
                                    " distinct services");
  for (auto [i, j] : duplicates) v.duplicate(d->responsibilities_, i, j);
  if (!errors.empty()) return errors.status();
  return std::shared_ptr<const RoutingDirectory>(std::move(d));
}

Result<std::shared_ptr<const RoutingDirectory>> RoutingDirectory::load(const std::string& path) {
  try {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::io_error(path + ": cannot read the routing directory");
    std::ostringstream text;
    text << in.rdbuf();
    return parse(text.str(), path, std::filesystem::absolute(path).parent_path().string());
  } catch (const std::exception& e) {
    return Status::invalid_argument(path + ": " + e.what());
  }
}

Result<std::shared_ptr<const RoutingDirectory>> RoutingDirectory::parse(
    const std::string& yaml, const std::string& path, const std::string& base_dir) {
  try {
    Errors errors(path);
    YamlReader y(errors, base_dir);
    YAML::Node root;
    try {
      root = YAML::Load(yaml);
    } catch (const YAML::Exception& e) {
      std::string what = "YAML syntax error: " + e.msg;
      if (e.msg.find("alias") != std::string::npos) {
        what += " (a wildcard service must be quoted: service: \"*\")";
      }
      errors.add(e.mark.line >= 0 ? e.mark.line + 1 : 0, what);
      return errors.status();
    }
    if (!root.IsMap()) {
      errors.add(line_or(line_of(root), 1),
                 "expected a mapping with 'areas', 'offices' and 'responsibilities'");
      return errors.status();
    }

    Parsed p;
    std::vector<Entry> storage;
    auto top = y.fields(root, "the top level",
                        {"areas", "offices", "responsibilities", "responsibilities_file"}, storage);
    const char* required[] = {"areas", "offices", "responsibilities"};
    for (std::size_t k = 0; k < 3; ++k) {
      // Either list of rules will do: the YAML one, the bulk file(s), or both.
      if (k == 2 && top[3] != nullptr) continue;
      if (top[k] == nullptr) y.error(1, std::string("missing '") + required[k] + "'");
    }
    parse_areas(y, top[0], p);
    parse_offices(y, top[1], p);
    parse_rules(y, top[2], p);
    parse_rule_files(y, top[3], p);
    if (p.rules.size() >= std::numeric_limits<std::uint32_t>::max()) {
      return Status::invalid_argument(path + ": too many rules");
    }
    if (p.offices.size() >= kNoOffice) return Status::invalid_argument(path + ": too many offices");

    Validator v{errors};
    std::unordered_map<std::string_view, std::size_t> ids;
    v.offices(p.offices, p.office_origins, ids);
    auto usable = v.rules(p.rules, p.rule_origins, p.areas, p.areas_known, ids);
    ids.clear();
    std::vector<std::pair<std::size_t, std::size_t>> duplicates;
    auto d =
        assemble(std::move(p.areas), std::move(p.offices), std::move(p.rules), usable, duplicates);
    if (!d) {
      return Status::invalid_argument(path + ": more than " + std::to_string(kMaxServices) +
                                      " distinct services");
    }
    for (auto [i, j] : duplicates) v.duplicate(d->responsibilities_, i, j);
    d->yaml_file_ = path;
    BulkRuleLoader bulk(*d, errors, p.areas_known);
    for (const auto& f : p.rule_files) {
      if (!bulk.load(f.path, f.line)) {
        return Status::invalid_argument(path + ": more than " + std::to_string(kMaxServices) +
                                        " distinct services");
      }
    }
    if (!errors.empty()) return errors.status();
    return std::shared_ptr<const RoutingDirectory>(std::move(d));
  } catch (const std::exception& e) {
    // yaml-cpp throws from accessors too (e.g. on a bad conversion), and std::filesystem on odd
    // paths; a reload must fail with a message, never take the daemon down.
    return Status::invalid_argument(path + ": " + e.what());
  }
}

OrRejection<RouteMatch> RoutingDirectory::lookup(std::string_view ars,
                                                 std::string_view leika) const {
  if (!is_valid_ars_shape(ars)) {
    return Rejection{Condition::kInvalidProperty,
                     "area_id " + quote(ars) + " is not an ARS: expected 2, 3, 5, 9 or 12 digits"};
  }
  if (!is_leika(leika)) {
    return Rejection{Condition::kInvalidProperty,
                     "service_id " + quote(leika) + " is not a LeiKa key: expected 14 digits"};
  }

  const std::uint64_t value = digits_value(ars);
  const std::size_t length = ars.size();
  // The candidate rules in precedence order: the service's own, then "*"; each from the most
  // specific area down, and only area lengths some rule of that service has. In a national
  // directory each probe is a cache miss: all are announced first, so they overlap.
  std::array<std::uint64_t, 2 * kPrefixLengths.size()> keys;
  std::array<std::uint8_t, 2 * kPrefixLengths.size()> key_lengths;
  std::size_t candidates = 0;
  auto add_candidates = [&](std::uint64_t number) {
    if (number >= service_lengths_.size()) return;  // a default-constructed directory
    const unsigned lengths = service_lengths_[number];
    for (std::size_t l : kPrefixLengths) {
      if (l > length || (lengths & (1u << l)) == 0) continue;
      keys[candidates] = rule_key(number, value / kPow10[length - l], l);
      key_lengths[candidates] = static_cast<std::uint8_t>(l);
      rules_.prefetch(keys[candidates]);
      ++candidates;
    }
  };
  if (const std::uint64_t* number = services_.find(leika_code(leika))) add_candidates(*number);
  add_candidates(0);

  const std::uint64_t* rule = nullptr;
  std::size_t matched_length = 0;
  std::uint64_t matched_key = 0;
  for (std::size_t c = 0; c < candidates && rule == nullptr; ++c) {
    rule = rules_.find(keys[c]);
    matched_length = key_lengths[c];
    matched_key = keys[c];
  }
  if (rule == nullptr) matched_length = 0;
  // Rules name only known areas, so a rule for the ARS itself proves it known and saves the
  // area probe (a cache miss under load) in the common case.
  if (matched_length != length && !areas_.contains(ars)) {
    return Rejection{Condition::kUnknownArea,
                     "area_id " + quote(ars) + " is not in the area directory"};
  }
  if (rule == nullptr) {
    std::string desc =
        "no office is responsible for service_id " + quote(leika) + " in area_id " + quote(ars);
    if (auto name = areas_.name(ars); !name.empty()) desc += " (" + std::string(name) + ")";
    return Rejection{Condition::kNoResponsibleOffice, std::move(desc)};
  }
  RouteMatch m;
  m.office = &offices_[*rule & kOfficeMask];
  m.rule.key_ = matched_key;
  m.rule.value_ = *rule;
  return m;
}

const Office* RoutingDirectory::office(std::string_view id) const {
  auto it = office_index_.find(id);
  return it == office_index_.end() ? nullptr : &offices_[it->second];
}

}  // namespace ozghub::routing
