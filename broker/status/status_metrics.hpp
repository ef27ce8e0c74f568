// The status events' metrics, declared here (the feed owns them):
//   ozghub_status_events_total{type}       events written (accepted, delivered, failed,
//                                           dead_lettered, deleted)
//   ozghub_status_events_pending           events written and not yet accepted by their sender
//   ozghub_status_events_sent_total        events sent on status links (redeliveries included)
//   ozghub_status_events_expired_total     events removed by retention before their sender
//                                           accepted them
//   ozghub_status_links                    status links attached now
// The totals kept by the event log are read by refresh() (the feed's thread, every second).
//
// Thread-safety: every method from any thread.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <array>
#include <cstdint>
#include <mutex>

#include "status/event_log.hpp"

namespace ozghub::status {

class StatusMetrics {
 public:
  StatusMetrics(prometheus::Registry& registry, const EventLog& log);

  void refresh();
  void sent(std::size_t n) { sent_.Increment(static_cast<double>(n)); }
  void link_attached() { links_.Increment(); }
  void link_detached() { links_.Decrement(); }

 private:
  const EventLog& log_;
  std::array<prometheus::Counter*, kEventTypes> written_{};
  prometheus::Gauge& pending_;
  prometheus::Counter& sent_;
  prometheus::Counter& expired_;
  prometheus::Gauge& links_;
  std::mutex mutex_;  // refresh()
  std::array<std::uint64_t, kEventTypes> seen_{};
  std::uint64_t seen_expired_ = 0;
};

}  // namespace ozghub::status
