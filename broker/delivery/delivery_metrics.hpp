// The delivery host's metrics, declared in one place. Labels are bounded: `adapter` is the name
// of a configured adapter instance, `outcome` one of delivered, retry, dead_letter.
//
//   ozghub_deliveries_total{adapter,outcome}        attempts by outcome
//   ozghub_delivery_duration_seconds{adapter}       time of one attempt (histogram)
//   ozghub_deliveries_in_flight{adapter}            attempts running now
//   ozghub_delivery_backlog{adapter}                deliveries waiting (due or backing off)
//   ozghub_delivery_backlog_in_memory{adapter}      of those, held in memory (<= delivery_window)
//   ozghub_delivery_deadline_exceeded_total{adapter} attempts that overran timeout_ms
//   ozghub_dead_letters                             dead letters stored now
//
// Thread-safety: the metric objects are prometheus-cpp's, safe from any thread.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <string>

namespace ozghub::delivery {

struct AdapterMetrics {
  prometheus::Counter* delivered = nullptr;
  prometheus::Counter* retried = nullptr;
  prometheus::Counter* dead_lettered = nullptr;
  prometheus::Counter* deadline_exceeded = nullptr;
  prometheus::Histogram* duration = nullptr;
  prometheus::Gauge* in_flight = nullptr;
  prometheus::Gauge* backlog = nullptr;
  prometheus::Gauge* backlog_in_memory = nullptr;
};

class DeliveryMetrics {
 public:
  explicit DeliveryMetrics(prometheus::Registry& registry);
  // The metrics of one adapter instance (created on first use; references stay valid).
  AdapterMetrics for_adapter(const std::string& adapter);
  prometheus::Gauge& dead_letters() { return *dead_letters_; }

 private:
  prometheus::Family<prometheus::Counter>& deliveries_;
  prometheus::Family<prometheus::Counter>& deadline_exceeded_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Family<prometheus::Gauge>& in_flight_;
  prometheus::Family<prometheus::Gauge>& backlog_;
  prometheus::Family<prometheus::Gauge>& backlog_in_memory_;
  prometheus::Gauge* dead_letters_;
};

}  // namespace ozghub::delivery
