// Seconds until the earliest office certificate expires: one gauge (the per-office list belongs
// to the admin CLI, not to labels), and the "certificate_expiring" readiness probe.
//
//   ozghub_certificate_expiry_seconds  notAfter of the earliest-expiring certificate that the
//                                      routing directory in force references, minus now
//                                      (negative once expired); absent while no office has one
//
// refresh() finds the earliest notAfter again only when the routing directory was reloaded (a
// new snapshot); otherwise it only subtracts the time.
//
// Thread-safety: refresh() from one thread at a time; the gauge is read from any thread.
#pragma once

#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <memory>
#include <optional>

#include "admin/readiness.hpp"
#include "pipeline/routing_state.hpp"

namespace ozghub::admin {

// The earliest notAfter (UTC seconds) among the snapshot's office certificates; nullopt when no
// office has a certificate.
std::optional<std::int64_t> earliest_not_after(const pipeline::RoutingSnapshot& snapshot);

class CertificateExpiry {
 public:
  // `routing` and `readiness` must outlive this. `min_days`: admin.ready_certificate_days.
  CertificateExpiry(const pipeline::RoutingState& routing, Readiness& readiness, int min_days,
                    prometheus::Registry& registry);
  CertificateExpiry(const CertificateExpiry&) = delete;
  CertificateExpiry& operator=(const CertificateExpiry&) = delete;

  // Sets the gauge and the readiness condition for `now_s` (UTC seconds since the epoch).
  void refresh(std::int64_t now_s);

 private:
  const pipeline::RoutingState& routing_;
  Readiness& readiness_;
  int min_days_;
  prometheus::Family<prometheus::Gauge>& family_;
  prometheus::Gauge* gauge_ = nullptr;                   // null while no office has a certificate
  std::weak_ptr<const pipeline::RoutingSnapshot> seen_;  // the snapshot `earliest_` is from
  std::optional<std::int64_t> earliest_;
};

}  // namespace ozghub::admin
