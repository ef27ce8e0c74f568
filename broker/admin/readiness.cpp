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

}  // namespace ozghub::admin
