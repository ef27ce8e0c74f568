// The process's metrics, declared in one place.
//
//   ozghub_process_resident_memory_bytes  resident set size (/proc/self/statm), set by refresh()
//   ozghub_process_start_time_seconds     when the process started, UTC seconds since the epoch
//   ozghub_build_info{version}            1; the version of this build (CMake's project version)
//
// Thread-safety: refresh() from one thread at a time; the gauges are read from any thread.
#pragma once

#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <optional>
#include <string_view>

namespace ozghub::admin {

// The version of this build, e.g. "0.1.0".
std::string_view build_version();
// The resident set size of this process in bytes; nullopt when /proc cannot be read.
std::optional<std::uint64_t> resident_memory_bytes();
// When this process started (from /proc: its start in clock ticks after boot, and the boot
// time), UTC seconds since the epoch; nullopt when /proc cannot be read.
std::optional<double> process_start_time_seconds();

class ProcessMetrics {
 public:
  explicit ProcessMetrics(prometheus::Registry& registry);
  void refresh();

 private:
  prometheus::Gauge& resident_memory_;
};

}  // namespace ozghub::admin
