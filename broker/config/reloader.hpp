// The one configuration reload, behind SIGHUP and POST /v1/reload.
//
// A reload reads the whole file and validates it as `ozg-hub --check-config` does (the file,
// the adapter instances against the known types, the schemas, the routing directory bound to the
// running adapter instances, the KEKs). With any error nothing is applied: everything stays as
// it was, and the report lists the errors. A valid file applies every reloadable part
// (schema.hpp): the routing directory, the KEKs, the retry policy and the log level, each
// swapped in whole (Current<T>), so work in flight finishes with what it took and nothing is
// lost. Changed keys that only a restart applies are reported as "restart required".
//
// Logs config.reloaded, config.restart_required or config.reload_failed (the condition and the
// number of errors only: an error text may quote the file, e.g. an office's mailbox), and the
// metrics of reload_metrics.hpp.
//
// Thread-safety: reload() from any thread; reloads run one at a time.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "common/log.hpp"
#include "config/config.hpp"
#include "config/reload_metrics.hpp"
#include "crypto/keyring.hpp"
#include "delivery/adapter_registry.hpp"
#include "pipeline/routing_state.hpp"

namespace ozghub::config {

// What a reload replaces in the running daemon. Everything must outlive the Reloader.
struct ReloadTargets {
  const delivery::AdapterRegistry* adapter_types = nullptr;  // with the plugins loaded at start
  delivery::AdapterMap* adapters = nullptr;  // running instances; the routing binds to them
  pipeline::RoutingState* routing = nullptr;
  crypto::KeyringState* keys = nullptr;
  std::function<void(const RetryPolicy&)> set_retry;  // DeliveryHost::set_retry_policy
  std::function<void()> keys_reloaded;                // e.g. wakes the retention sweeper
};

struct ReloadReport {
  bool applied = false;
  // Not applied: why, as a short id (unreadable, invalid, schemas, routing_directory,
  // encryption), and every error ("file:line: text" where there is a line).
  std::string condition;
  std::vector<std::string> errors;
  // Applied: the reloadable keys whose value changed, and the changed keys not applied.
  std::vector<std::string> changed;
  std::vector<std::string> restart_required;
  std::size_t offices = 0;
  std::size_t responsibilities = 0;
  std::string active_kek;
  std::string log_level;
};

class Reloader {
 public:
  // `path`: the configuration file the daemon runs with ("": the embedded defaults). The file
  // is read now, as the state in force that later reloads compare against.
  Reloader(std::string path, ReloadTargets targets, ReloadMetrics& metrics);

  ReloadReport reload();

 private:
  ReloadReport load_and_apply();

  std::mutex mutex_;
  const std::string path_;
  const ReloadTargets targets_;
  ReloadMetrics& metrics_;
  std::string started_text_;  // restart-only keys are in force as the daemon read them
  std::string applied_text_;  // reloadable keys as the last applied load had them
};

// The configuration file's text, or the embedded defaults for "" (io_error when unreadable).
Result<std::string> read_config_text(const std::string& path);

// The level named by `log_level` (debug, info, warn, error).
log::Level log_level_of(const std::string& name);

}  // namespace ozghub::config
