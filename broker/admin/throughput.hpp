// Rates over the last minute for `ozg-hubctl status`: a small ring of samples of cumulative
// counters (applications received and accepted, each adapter's deliveries and failed attempts),
// taken once a second. A rate is (newest - oldest sample in the window) / their time apart, so
// the data path only bumps its counters and never touches the ring.
//
// Thread-safety: sample() and the readers from any thread (one mutex; sampled once a second).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "common/periodic.hpp"

namespace ozghub::admin {

// Counter name -> cumulative value since the process started.
using Totals = std::map<std::string, std::uint64_t, std::less<>>;

struct Window {
  double seconds = 0;  // time between the oldest and the newest sample used (0: no data yet)
  Totals increase;     // per counter: how much it grew in that time
  double per_second(const std::string& counter) const;
  std::uint64_t count(const std::string& counter) const;
};

class Throughput {
 public:
  // `read` returns the counters' current totals; `window` is how far back rates look.
  explicit Throughput(std::function<Totals()> read,
                      std::chrono::seconds window = std::chrono::seconds(60));
  ~Throughput() { stop(); }
  Throughput(const Throughput&) = delete;
  Throughput& operator=(const Throughput&) = delete;

  // Samples once a second on a thread of its own until stop().
  void start();
  void stop();

  // Takes one sample at `now_ms` and drops those older than the window needs.
  void sample(std::int64_t now_ms);
  // The counters' growth from the oldest sample still in the window to a fresh reading at
  // `now_ms` (taken now, not stored).
  Window last(std::int64_t now_ms) const;

 private:
  struct Sample {
    std::int64_t at_ms = 0;
    Totals totals;
  };
  std::function<Totals()> read_;
  std::int64_t window_ms_;
  mutable std::mutex mutex_;
  std::deque<Sample> samples_;  // oldest first
  Periodic sampler_;
};

}  // namespace ozghub::admin
