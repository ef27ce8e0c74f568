// The configuration reload's metrics, declared in one place.
//
//   ozghub_config_reloads_total{result=success|failure}     reloads (SIGHUP, POST /v1/reload)
//   ozghub_config_last_reload_successful                    1 when the last reload applied, else 0
//   ozghub_config_last_reload_success_timestamp_seconds     Unix time of the last applied load
//
// The configuration loaded at startup counts as applied: the gauges start at 1 and the start
// time (as Prometheus' own prometheus_config_* do); the counters start at 0.
//
// Thread-safety: prometheus-cpp's metric objects, safe from any thread.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace ozghub::config {

class ReloadMetrics {
 public:
  explicit ReloadMetrics(prometheus::Registry& registry);

  void record(bool success);

 private:
  prometheus::Counter* success_ = nullptr;
  prometheus::Counter* failure_ = nullptr;
  prometheus::Gauge* last_successful_ = nullptr;
  prometheus::Gauge* last_success_time_ = nullptr;
};

}  // namespace ozghub::config
