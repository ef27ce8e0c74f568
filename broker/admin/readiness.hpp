// What /readyz answers: ready while no named condition holds (e.g. "starting", "stopping",
// "disk_low"). Components raise and clear their own condition; /readyz names those that hold.
// The probes below raise "adapters_not_started" and "certificate_expiring".
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace ozghub::admin {

class Readiness {
 public:
  // Starts not ready: "starting" holds until cleared.
  Readiness();

  // Raises (`holds` true) or clears a condition that makes the hub not ready.
  void set(std::string_view condition, bool holds);
  // The conditions that hold now, in name order; empty: ready.
  std::set<std::string, std::less<>> conditions() const;

 private:
  mutable std::mutex mutex_;
  std::set<std::string, std::less<>> holding_;
};

inline constexpr std::string_view kAdaptersNotStarted = "adapters_not_started";
inline constexpr std::string_view kCertificateExpiring = "certificate_expiring";

// Raises "adapters_not_started" until the delivery host has started every adapter instance's
// lane (`started`), clears it after.
void probe_adapters(Readiness& readiness, bool started);

// Raises "certificate_expiring" while the earliest office certificate (notAfter, UTC seconds;
// nullopt: no office has one) expires within `min_days` days of `now_s`, or has expired
// (admin.ready_certificate_days); clears it otherwise.
void probe_certificates(Readiness& readiness, std::optional<std::int64_t> earliest_not_after_s,
                        std::int64_t now_s, int min_days);

}  // namespace ozghub::admin
