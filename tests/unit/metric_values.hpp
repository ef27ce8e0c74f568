// Reads one sample of a prometheus-cpp registry, as a scrape would see it (tests).
#pragma once

#include <prometheus/registry.h>

#include <map>
#include <optional>
#include <string>

namespace ozghub::testing {

// The value of the sample `name` with exactly `labels`: a counter's or gauge's value, a
// histogram's sample count (or its sum with `histogram_sum`); nullopt when absent.
inline std::optional<double> metric_value(const prometheus::Registry& registry,
                                          const std::string& name,
                                          const std::map<std::string, std::string>& labels = {},
                                          bool histogram_sum = false) {
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& m : family.metric) {
      std::map<std::string, std::string> have;
      for (const auto& l : m.label) have[l.name] = l.value;
      if (have != labels) continue;
      switch (family.type) {
        case prometheus::MetricType::Counter:
          return m.counter.value;
        case prometheus::MetricType::Gauge:
          return m.gauge.value;
        case prometheus::MetricType::Histogram:
          return histogram_sum ? m.histogram.sample_sum
                               : static_cast<double>(m.histogram.sample_count);
        default:
          return std::nullopt;
      }
    }
  }
  return std::nullopt;
}

}  // namespace ozghub::testing
