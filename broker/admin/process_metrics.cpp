#include "admin/process_metrics.hpp"

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

#include "common/metric_builders.hpp"

namespace ozghub::admin {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

std::string_view build_version() { return OZGHUB_VERSION; }

std::optional<std::uint64_t> resident_memory_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t size_pages = 0;
  std::uint64_t resident_pages = 0;
  if (!(statm >> size_pages >> resident_pages)) return std::nullopt;
  const long page = ::sysconf(_SC_PAGESIZE);
  return resident_pages * static_cast<std::uint64_t>(page > 0 ? page : 4096);
}

std::optional<double> process_start_time_seconds() {
  // /proc/self/stat: "pid (comm) state ..." where field 22 is starttime; comm may hold spaces
  // and parentheses, so count from the last ')'.
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(close + 1));
  std::string field;
  unsigned long long start_ticks = 0;
  for (int i = 3; i <= 22; ++i) {  // field 3 (state) is the first after ')'
    if (!(fields >> field)) return std::nullopt;
    if (i == 22) start_ticks = std::stoull(field);
  }
  std::ifstream proc_stat("/proc/stat");
  std::string line;
  long long boot_time = -1;
  while (std::getline(proc_stat, line)) {
    if (line.rfind("btime ", 0) == 0) boot_time = std::stoll(line.substr(6));
  }
  const long ticks = ::sysconf(_SC_CLK_TCK);
  if (boot_time < 0 || ticks <= 0) return std::nullopt;
  return static_cast<double>(boot_time) +
         static_cast<double>(start_ticks) / static_cast<double>(ticks);
}

ProcessMetrics::ProcessMetrics(prometheus::Registry& registry)
    : resident_memory_(single_gauge(registry, "ozghub_process_resident_memory_bytes",
                                    "Resident set size of the hub process")) {
  single_gauge(registry, "ozghub_process_start_time_seconds",
               "When the hub process started, seconds since the epoch")
      .Set(process_start_time_seconds().value_or(now_seconds()));
  prometheus::BuildGauge()
      .Name("ozghub_build_info")
      .Help("Always 1; the version of this build in the label")
      .Register(registry)
      .Add({{"version", std::string(build_version())}})
      .Set(1);
  refresh();
}

void ProcessMetrics::refresh() {
  if (auto rss = resident_memory_bytes()) resident_memory_.Set(static_cast<double>(*rss));
}

}  // namespace ozghub::admin
