// Exponential backoff with jitter for delivery retries.
#pragma once

#include <chrono>

#include "config/config.hpp"

namespace ozghub::pipeline {

// The wait before the next attempt after `attempts` failed attempts (1 for the first failure):
// initial * multiplier^(attempts-1), capped at max_backoff, then scaled by a factor in
// [1 - jitter, 1 + jitter] chosen by `random01` in [0, 1).
std::chrono::milliseconds backoff_delay(const config::RetryPolicy& policy, int attempts,
                                        double random01);

}  // namespace ozghub::pipeline
