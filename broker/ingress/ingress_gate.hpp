// Whether the AMQP listener may grant new link credit. Closed while the hub must not take more
// applications (low disk): senders' messages wait on their side, nothing is rejected, and credit
// already granted is honoured. The listener looks at the gate on every credit pass (at least
// every 100 ms), so opening it resumes intake by itself.
//
// Thread-safe.
#pragma once

#include <atomic>

namespace ozghub::ingress {

class IngressGate {
 public:
  void set_paused(bool paused) { paused_.store(paused, std::memory_order_relaxed); }
  bool paused() const { return paused_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> paused_{false};
};

}  // namespace ozghub::ingress
