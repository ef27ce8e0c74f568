#include "store/disk_monitor.hpp"

#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include "common/log.hpp"

namespace ozghub::store {
namespace {

prometheus::Gauge& gauge(prometheus::Registry& registry, const char* name, const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add({});
}

}  // namespace

std::uint64_t min_free_bytes(const config::Storage& policy, std::uint64_t total_bytes) {
  const std::uint64_t by_percent =
      total_bytes / 100 * static_cast<std::uint64_t>(policy.min_free_percent) +
      total_bytes % 100 * static_cast<std::uint64_t>(policy.min_free_percent) / 100;
  return std::max(policy.min_free_bytes, by_percent);
}

DiskMonitor::DiskMonitor(std::string path, config::Storage policy, prometheus::Registry& registry,
                         OnChange on_change)
    : path_(std::move(path)),
      policy_(policy),
      on_change_(std::move(on_change)),
      free_bytes_(gauge(registry, "ozghub_disk_free_bytes",
                        "Free bytes for the hub on the file system of data_dir")),
      threshold_bytes_(gauge(registry, "ozghub_disk_min_free_bytes",
                             "Free bytes below which the hub stops taking applications")),
      low_gauge_(gauge(registry, "ozghub_disk_low",
                       "1 while free space is below the threshold and intake is paused")) {}

DiskMonitor::~DiskMonitor() { stop(); }

Result<bool> DiskMonitor::check() {
  // One check at a time, so transitions are reported in order.
  std::lock_guard lock(mutex_);
  struct statvfs st {};
  if (::statvfs(path_.c_str(), &st) != 0) {
    const std::string error = std::system_category().message(errno);
    log::error("disk.check_failed", {{"path", path_}, {"error", error}});
    return Status::io_error("statvfs " + path_ + ": " + error);
  }
  const std::uint64_t free = static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
  const std::uint64_t total = static_cast<std::uint64_t>(st.f_blocks) * st.f_frsize;
  const std::uint64_t threshold = min_free_bytes(policy_, total);
  const bool low = free < threshold;
  free_bytes_.Set(static_cast<double>(free));
  threshold_bytes_.Set(static_cast<double>(threshold));
  low_gauge_.Set(low ? 1 : 0);
  const bool changed = low != low_;
  low_ = low;
  if (changed) {
    const std::string free_text = std::to_string(free);
    const std::string threshold_text = std::to_string(threshold);
    if (low) {
      log::error("disk.low", {{"path", path_},
                              {"free_bytes", free_text},
                              {"min_free_bytes", threshold_text},
                              {"action", "link credit withheld until space returns"}});
    } else {
      log::info("disk.space_recovered",
                {{"path", path_}, {"free_bytes", free_text}, {"min_free_bytes", threshold_text}});
    }
    if (on_change_) on_change_(low);
  }
  return low;
}

void DiskMonitor::start() {
  periodic_.start("disk-monitor", policy_.check_interval, [this] {
    (void)check();
    return false;
  });
}

void DiskMonitor::stop() { periodic_.stop(); }

}  // namespace ozghub::store
