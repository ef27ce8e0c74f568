#include "admin/readiness.hpp"

namespace ozghub::admin {

Readiness::Readiness() : holding_{"starting"} {}

void Readiness::set(std::string_view condition, bool holds) {
  std::lock_guard lock(mutex_);
  if (holds) {
    holding_.emplace(condition);
  } else if (auto it = holding_.find(condition); it != holding_.end()) {
    holding_.erase(it);
  }
}

std::set<std::string, std::less<>> Readiness::conditions() const {
  std::lock_guard lock(mutex_);
  return holding_;
}

void probe_adapters(Readiness& readiness, bool started) {
  readiness.set(kAdaptersNotStarted, !started);
}

void probe_certificates(Readiness& readiness, std::optional<std::int64_t> earliest_not_after_s,
                        std::int64_t now_s, int min_days) {
  constexpr std::int64_t kDay = 24 * 60 * 60;
  const bool expiring = earliest_not_after_s && *earliest_not_after_s - now_s < min_days * kDay;
  readiness.set(kCertificateExpiring, expiring);
}

}  // namespace ozghub::admin
