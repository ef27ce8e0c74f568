#include "config/reload_metrics.hpp"

namespace ozghub::config {

ReloadMetrics::ReloadMetrics(prometheus::Registry& registry) {
  auto& reloads = prometheus::BuildCounter()
                      .Name("ozghub_config_reloads_total")
                      .Help("Configuration reloads (SIGHUP, POST /v1/reload) by result")
                      .Register(registry);
  success_ = &reloads.Add({{"result", "success"}});
  failure_ = &reloads.Add({{"result", "failure"}});
  last_successful_ =
      &prometheus::BuildGauge()
           .Name("ozghub_config_last_reload_successful")
           .Help("1 when the last configuration reload was applied, 0 when it failed")
           .Register(registry)
           .Add({});
  last_success_time_ = &prometheus::BuildGauge()
                            .Name("ozghub_config_last_reload_success_timestamp_seconds")
                            .Help("Unix time of the last configuration load that was applied")
                            .Register(registry)
                            .Add({});
  last_successful_->Set(1);
  last_success_time_->SetToCurrentTime();
}

void ReloadMetrics::record(bool success) {
  (success ? success_ : failure_)->Increment();
  last_successful_->Set(success ? 1 : 0);
  if (success) last_success_time_->SetToCurrentTime();
}

}  // namespace ozghub::config
