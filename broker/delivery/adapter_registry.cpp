#include "delivery/adapter_registry.hpp"

#include <charconv>
#include <filesystem>

namespace ozghub::delivery {
namespace {

constexpr std::string_view kHostKeys[] = {"concurrency", "timeout_ms"};

bool is_host_key(std::string_view key) {
  for (auto k : kHostKeys) {
    if (k == key) return true;
  }
  return false;
}

const ParamSpec* find_spec(const AdapterType& type, std::string_view name) {
  for (const auto& p : type.params) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

bool parse_int(std::string_view s, std::int64_t& out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size() && !s.empty();
}

std::string known_keys(const AdapterType& type, bool channel) {
  std::string list;
  for (const auto& p : type.params) {
    bool allowed =
        channel ? p.scope != ParamSpec::Scope::kInstance : p.scope != ParamSpec::Scope::kChannel;
    if (!allowed) continue;
    if (!list.empty()) list += ", ";
    list += p.name;
  }
  if (!channel) {
    for (auto k : kHostKeys) list += (list.empty() ? "" : ", ") + std::string(k);
  }
  return list.empty() ? "none" : list;
}

// Checks one value against its spec; returns the normalised value or an error text.
Result<std::string> check_value(const ParamSpec& spec, const std::string& value,
                                const std::string& base_dir) {
  switch (spec.kind) {
    case ParamSpec::Kind::kString:
      return value;
    case ParamSpec::Kind::kPath: {
      if (value.empty()) return Status::invalid_argument("'" + spec.name + "' is empty");
      std::filesystem::path p(value);
      if (p.is_relative() && !base_dir.empty()) p = std::filesystem::path(base_dir) / p;
      return p.lexically_normal().string();
    }
    case ParamSpec::Kind::kInt: {
      std::int64_t v = 0;
      if (!parse_int(value, v) || v < spec.min || v > spec.max) {
        return Status::invalid_argument("'" + spec.name + "' must be an integer from " +
                                        std::to_string(spec.min) + " to " +
                                        std::to_string(spec.max) + ", not '" + value + "'");
      }
      return std::to_string(v);
    }
    case ParamSpec::Kind::kBool:
      if (value == "true" || value == "false") return value;
      return Status::invalid_argument("'" + spec.name + "' must be true or false, not '" + value +
                                      "'");
    case ParamSpec::Kind::kChoice: {
      std::string list;
      for (const auto& c : spec.choices) {
        if (c == value) return value;
        list += (list.empty() ? "" : ", ") + c;
      }
      return Status::invalid_argument("'" + spec.name + "' must be one of " + list + ", not '" +
                                      value + "'");
    }
  }
  return value;
}

std::string kind_name(const ParamSpec& p) {
  switch (p.kind) {
    case ParamSpec::Kind::kString:
      return "string";
    case ParamSpec::Kind::kPath:
      return "path";
    case ParamSpec::Kind::kInt:
      return "integer " + std::to_string(p.min) + ".." + std::to_string(p.max);
    case ParamSpec::Kind::kBool:
      return "true|false";
    case ParamSpec::Kind::kChoice: {
      std::string s;
      for (const auto& c : p.choices) s += (s.empty() ? "" : "|") + c;
      return s;
    }
  }
  return "";
}

}  // namespace

const std::string& Params::get(std::string_view name) const {
  static const std::string kEmpty;
  auto it = values_.find(name);
  return it == values_.end() ? kEmpty : it->second;
}

std::int64_t Params::get_int(std::string_view name, std::int64_t fallback) const {
  std::int64_t v = 0;
  return parse_int(get(name), v) ? v : fallback;
}

bool Params::get_bool(std::string_view name, bool fallback) const {
  const auto& v = get(name);
  if (v == "true") return true;
  if (v == "false") return false;
  return fallback;
}

std::int64_t DeliveryRequest::remaining_ms() const {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  deadline - std::chrono::steady_clock::now())
                  .count();
  return left < 1 ? 1 : left;
}

Status AdapterRegistry::add(AdapterType type) {
  if (type.name.empty()) return Status::invalid_argument("an adapter type needs a name");
  if (!type.create) return Status::invalid_argument("adapter type " + type.name + ": no factory");
  if (types_.count(type.name)) {
    return Status::invalid_argument("adapter type '" + type.name + "' is registered already");
  }
  for (const auto& p : type.params) {
    if (is_host_key(p.name)) {
      return Status::invalid_argument("adapter type " + type.name + " declares '" + p.name +
                                      "', which the host reserves");
    }
  }
  auto name = type.name;
  types_.emplace(std::move(name), std::move(type));
  return Status::ok();
}

const AdapterType* AdapterRegistry::find(std::string_view name) const {
  auto it = types_.find(name);
  return it == types_.end() ? nullptr : &it->second;
}

std::vector<std::string> AdapterRegistry::names() const {
  std::vector<std::string> v;
  for (const auto& [name, t] : types_) v.push_back(name);
  return v;
}

namespace {

// Validates one instance entry into a slot without creating the adapter; appends errors.
std::unique_ptr<AdapterSlot> resolve(const AdapterRegistry& registry,
                                     const config::AdapterInstance& inst, int default_concurrency,
                                     std::vector<std::string>& errors) {
  auto error = [&](const std::string& origin, const std::string& what) {
    errors.push_back(origin + ": " + what);
  };
  const AdapterType* type = registry.find(inst.type);
  if (type == nullptr) {
    std::string known;
    for (const auto& n : registry.names()) known += (known.empty() ? "" : ", ") + n;
    error(inst.origin, "adapters." + inst.name + ": unknown adapter type '" + inst.type +
                           "' (known: " + known + ")");
    return nullptr;
  }
  auto slot = std::make_unique<AdapterSlot>();
  slot->name = inst.name;
  slot->type = type;
  slot->concurrency = default_concurrency;
  std::map<std::string, std::string> values;
  bool ok = true;
  for (const auto& [key, value] : inst.params) {
    auto where = inst.param_origins.count(key) ? inst.param_origins.at(key) : inst.origin;
    std::int64_t n = 0;
    if (is_host_key(key)) {
      const bool conc = key == "concurrency";
      if (!parse_int(value, n) || n < 1 || n > (conc ? 1024 : 86400000)) {
        error(where, "adapters." + inst.name + "." + key + " must be a positive integer" +
                         (conc ? " up to 1024" : " up to 86400000"));
        ok = false;
      } else if (conc) {
        slot->concurrency = static_cast<int>(n);
      } else {
        slot->timeout = std::chrono::milliseconds(n);
      }
      continue;
    }
    const ParamSpec* spec = find_spec(*type, key);
    if (spec == nullptr || spec->scope == ParamSpec::Scope::kChannel) {
      error(where, "adapters." + inst.name + ": unknown key '" + key + "' for adapter type " +
                       type->name + " (known: " + known_keys(*type, false) + ")" +
                       (spec ? "; it belongs in a channel's params" : ""));
      ok = false;
      continue;
    }
    auto v = check_value(*spec, value, inst.base_dir);
    if (!v) {
      error(where, "adapters." + inst.name + ": " + v.status().message());
      ok = false;
      continue;
    }
    values[key] = std::move(*v);
  }
  for (const auto& spec : type->params) {
    if (spec.scope == ParamSpec::Scope::kChannel || values.count(spec.name)) continue;
    if (!spec.default_value.empty()) {
      auto v = check_value(spec, spec.default_value, inst.base_dir);
      if (v) values[spec.name] = std::move(*v);
    } else if (spec.required && spec.scope == ParamSpec::Scope::kInstance) {
      error(inst.origin, "adapters." + inst.name + ": " + type->name + " needs '" + spec.name +
                             "' (" + spec.description + ")");
      ok = false;
    }
  }
  if (!ok) return nullptr;
  slot->params = Params(values);
  return slot;
}

}  // namespace

std::vector<std::string> check_instances(const AdapterRegistry& registry,
                                         const std::vector<config::AdapterInstance>& instances) {
  std::vector<std::string> errors;
  for (const auto& inst : instances) resolve(registry, inst, 1, errors);
  return errors;
}

Result<AdapterMap> create_adapters(const AdapterRegistry& registry,
                                   const std::vector<config::AdapterInstance>& instances,
                                   int default_concurrency) {
  AdapterMap map;
  std::vector<std::string> errors;
  for (const auto& inst : instances) {
    auto slot = resolve(registry, inst, default_concurrency, errors);
    if (!slot) continue;
    auto adapter = slot->type->create(slot->params);
    if (!adapter) {
      errors.push_back(inst.origin + ": adapters." + inst.name + ": " + adapter.status().message());
      continue;
    }
    slot->adapter = std::move(*adapter);
    map.emplace(inst.name, std::move(slot));
  }
  if (!errors.empty()) {
    std::string msg = "adapter configuration errors:";
    for (const auto& e : errors) msg += "\n  " + e;
    return Status::invalid_argument(msg);
  }
  return map;
}

Result<Params> channel_params(const AdapterSlot& slot, const routing::Channel& channel) {
  const AdapterType& type = *slot.type;
  std::map<std::string, std::string> values(slot.params.all().begin(), slot.params.all().end());
  std::string errors;
  for (const auto& [key, value] : channel.params) {
    const ParamSpec* spec = find_spec(type, key);
    if (spec == nullptr || spec->scope == ParamSpec::Scope::kInstance) {
      errors += "; unknown channel parameter '" + key + "' for adapter type " + type.name +
                " (allowed in channels: " + known_keys(type, true) + ")";
      continue;
    }
    auto v = check_value(*spec, value, channel.base_dir);
    if (!v) {
      errors += "; " + v.status().message();
      continue;
    }
    values[key] = std::move(*v);
  }
  for (const auto& spec : type.params) {
    if (values.count(spec.name)) continue;
    if (!spec.default_value.empty()) {
      auto v = check_value(spec, spec.default_value, channel.base_dir);
      if (v) values[spec.name] = std::move(*v);
    } else if (spec.required) {
      errors += "; adapter " + slot.name + " (" + type.name + ") needs '" + spec.name + "' (" +
                spec.description + ")";
    }
  }
  if (!errors.empty()) {
    return Status::invalid_argument((channel.origin.empty() ? "channel" : channel.origin) + ": " +
                                    errors.substr(2));
  }
  return Params(values);
}

std::string describe(const AdapterType& type) {
  std::string s = type.name + ": " + type.description + "\n";
  for (const auto& p : type.params) {
    s += "  " + p.name + " (" + kind_name(p) + "; ";
    s += p.scope == ParamSpec::Scope::kInstance  ? "instance"
         : p.scope == ParamSpec::Scope::kChannel ? "channel"
                                                 : "instance or channel";
    if (p.required) s += "; required";
    if (!p.default_value.empty()) s += "; default " + p.default_value;
    s += ")\n      " + p.description + "\n";
  }
  s += "  concurrency (integer 1..1024; instance; default delivery_threads)\n"
       "      deliveries this instance runs at once\n"
       "  timeout_ms (integer 1..86400000; instance; default 60000)\n"
       "      deadline of one delivery attempt\n";
  return s;
}

}  // namespace ozghub::delivery
