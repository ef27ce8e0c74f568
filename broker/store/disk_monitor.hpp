// Watches the free space of the file system holding the store (statvfs on a timer) so the hub
// stops taking applications before a synced commit could fail for want of space.
//
// Low means free space below the larger of storage.min_free_bytes and storage.min_free_percent
// of the file system's size. Each transition is logged (disk.low / disk.space_recovered) and
// reported to the callback, which the daemon uses to close the ingress gate and raise the
// "disk_low" readiness condition; space coming back reopens both by itself.
//
// Metrics (declared here, owned by the monitor):
//   ozghub_disk_free_bytes       free space for the hub on the data_dir file system
//   ozghub_disk_min_free_bytes   the threshold below which intake pauses
//   ozghub_disk_low              1 while below the threshold (intake paused), else 0
//
// Thread-safety: check() from any thread; start() and stop() from one thread. The callback runs
// on the monitor's thread (or the caller of check()).
#pragma once

#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "common/periodic.hpp"
#include "common/status.hpp"
#include "config/config.hpp"

namespace ozghub::store {

// Below this many free bytes of a file system of `total_bytes` the disk counts as low.
std::uint64_t min_free_bytes(const config::Storage& policy, std::uint64_t total_bytes);

class DiskMonitor {
 public:
  using OnChange = std::function<void(bool low)>;

  DiskMonitor(std::string path, config::Storage policy, prometheus::Registry& registry,
              OnChange on_change);
  ~DiskMonitor();
  DiskMonitor(const DiskMonitor&) = delete;
  DiskMonitor& operator=(const DiskMonitor&) = delete;

  // Measures now, updates the metrics and reports a transition. Returns whether the disk is low;
  // an error (statvfs failed) leaves the state as it was.
  Result<bool> check();
  // Checks every storage.check_interval_ms on an own thread until stop().
  void start();
  void stop();

 private:
  std::string path_;
  config::Storage policy_;
  OnChange on_change_;
  prometheus::Gauge& free_bytes_;
  prometheus::Gauge& threshold_bytes_;
  prometheus::Gauge& low_gauge_;
  std::mutex mutex_;  // guards low_; held during a check
  bool low_ = false;
  Periodic periodic_;
};

}  // namespace ozghub::store
