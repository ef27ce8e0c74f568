#include "admin/certificate_expiry.hpp"

#include <algorithm>

namespace ozghub::admin {

std::optional<std::int64_t> earliest_not_after(const pipeline::RoutingSnapshot& snapshot) {
  std::optional<std::int64_t> earliest;
  for (const auto& [office, recipient] : snapshot.recipients) {
    if (!recipient) continue;
    const std::int64_t t = recipient->not_after_unix();
    earliest = earliest ? std::min(*earliest, t) : t;
  }
  return earliest;
}

CertificateExpiry::CertificateExpiry(const pipeline::RoutingState& routing, Readiness& readiness,
                                     int min_days, prometheus::Registry& registry)
    : routing_(routing),
      readiness_(readiness),
      min_days_(min_days),
      family_(prometheus::BuildGauge()
                  .Name("ozghub_certificate_expiry_seconds")
                  .Help("Seconds until the earliest office certificate expires")
                  .Register(registry)) {}

void CertificateExpiry::refresh(std::int64_t now_s) {
  auto snapshot = routing_.get();
  if (snapshot && seen_.lock() != snapshot) {
    earliest_ = earliest_not_after(*snapshot);
    seen_ = snapshot;
  }
  if (earliest_ && gauge_ == nullptr) gauge_ = &family_.Add({});
  if (!earliest_ && gauge_ != nullptr) {
    family_.Remove(gauge_);
    gauge_ = nullptr;
  }
  if (gauge_ != nullptr) gauge_->Set(static_cast<double>(*earliest_ - now_s));
  probe_certificates(readiness_, earliest_, now_s, min_days_);
}

}  // namespace ozghub::admin
