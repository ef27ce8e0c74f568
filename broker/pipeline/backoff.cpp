#include "pipeline/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace ozghub::pipeline {

std::chrono::milliseconds backoff_delay(const config::RetryPolicy& policy, int attempts,
                                        double random01) {
  double base = static_cast<double>(policy.initial_backoff.count()) *
                std::pow(policy.multiplier, std::max(0, attempts - 1));
  base = std::min(base, static_cast<double>(policy.max_backoff.count()));
  double factor = 1.0 + policy.jitter * (2.0 * std::clamp(random01, 0.0, 1.0) - 1.0);
  return std::chrono::milliseconds(static_cast<long long>(std::llround(base * factor)));
}

}  // namespace ozghub::pipeline
