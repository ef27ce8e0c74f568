#include "config/reloader.hpp"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/log.hpp"
#include "config/schema.hpp"
#include "validation/xml_validator.hpp"

namespace ozghub::config {
namespace {

// A Status's message as one error per line, without the "N configuration error(s):" heading.
std::vector<std::string> error_lines(const Status& s) {
  std::vector<std::string> out;
  std::istringstream in(s.message());
  for (std::string line; std::getline(in, line);) {
    auto start = line.find_first_not_of(' ');
    if (start == std::string::npos) continue;
    line.erase(0, start);
    if (line.find(" configuration error(s):") != std::string::npos) continue;
    out.push_back(std::move(line));
  }
  return out;
}

ReloadReport failed(std::string condition, const Status& s) {
  ReloadReport r;
  r.condition = std::move(condition);
  r.errors = error_lines(s);
  return r;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out.append(out.empty() ? "" : ",").append(i);
  return out;
}

YAML::Node parsed(const std::string& text) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception&) {
    return YAML::Node();  // only for text that config::parse accepted
  }
}

}  // namespace

Result<std::string> read_config_text(const std::string& path) {
  if (path.empty()) return std::string(kEmbeddedDefaults);
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::io_error(path + ": cannot read the configuration file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

log::Level log_level_of(const std::string& name) {
  if (name == "debug") return log::Level::kDebug;
  if (name == "warn") return log::Level::kWarn;
  if (name == "error") return log::Level::kError;
  return log::Level::kInfo;
}

Reloader::Reloader(std::string path, ReloadTargets targets, ReloadMetrics& metrics)
    : path_(std::move(path)), targets_(std::move(targets)), metrics_(metrics) {
  auto text = read_config_text(path_);
  started_text_ = text ? *text : std::string();
  applied_text_ = started_text_;
}

ReloadReport Reloader::reload() {
  std::lock_guard lock(mutex_);
  ReloadReport r = load_and_apply();
  metrics_.record(r.applied);
  if (!r.applied) {
    log::error("config.reload_failed",
               {{"condition", r.condition}, {"errors", std::to_string(r.errors.size())}});
    return r;
  }
  const std::string offices = std::to_string(r.offices);
  const std::string changed = joined(r.changed);
  log::info("config.reloaded", {{"changed", changed},
                                {"offices", offices},
                                {"active_kek", r.active_kek},
                                {"log_level", r.log_level}});
  if (!r.restart_required.empty()) {
    const std::string keys = joined(r.restart_required);
    log::warn("config.restart_required", {{"keys", keys}});
  }
  return r;
}

ReloadReport Reloader::load_and_apply() {
  // Validate everything first; nothing below changes the running daemon until it all loaded.
  auto text = read_config_text(path_);
  if (!text) return failed("unreadable", text.status());
  const std::string source = path_.empty() ? "<embedded defaults>" : path_;
  const std::string base = path_.empty() ? std::filesystem::current_path().string()
                                         : std::filesystem::absolute(path_).parent_path().string();
  // Plugins are not loaded again: instances are checked against the types known since startup.
  const AdapterCheck check = [&](const Plugins&, const std::vector<AdapterInstance>& instances) {
    return delivery::check_instances(*targets_.adapter_types, instances);
  };
  auto cfg = parse(*text, source, base, check);
  if (!cfg) return failed("invalid", cfg.status());
  std::vector<validation::CatalogEntry> entries;
  for (const auto& s : cfg->schemas) entries.push_back({s.namespace_uri, s.xsd});
  if (auto catalog = validation::SchemaCatalog::load(entries); !catalog) {
    return failed("schemas", catalog.status());
  }
  auto routing = pipeline::RoutingSnapshot::load(cfg->routing_directory, *targets_.adapters);
  if (!routing) return failed("routing_directory", routing.status());
  auto keyring = crypto::Keyring::open(cfg->encryption);
  if (!keyring) return failed("encryption", keyring.status());

  ReloadReport r;
  const YAML::Node started = parsed(started_text_), applied = parsed(applied_text_),
                   now = parsed(*text);
  for (const auto* k : schema::changed_keys(started, now)) {
    if (k->apply == schema::Apply::kRestart) r.restart_required.emplace_back(k->path);
  }
  for (const auto* k : schema::changed_keys(applied, now)) {
    if (k->apply == schema::Apply::kReload) r.changed.emplace_back(k->path);
  }

  // Apply: each part is swapped in whole; readers keep what they already took.
  r.offices = (*routing)->directory->offices().size();
  r.responsibilities = (*routing)->directory->responsibility_count();
  targets_.routing->set(std::move(*routing));
  r.active_kek = (*keyring)->active_id();
  targets_.keys->set(std::move(*keyring));
  if (targets_.keys_reloaded) targets_.keys_reloaded();
  if (targets_.set_retry) targets_.set_retry(cfg->retry);
  log::set_min_level(log_level_of(cfg->log_level));
  r.log_level = cfg->log_level;
  applied_text_ = std::move(*text);
  r.applied = true;
  return r;
}

}  // namespace ozghub::config
