#include "status/status_metrics.hpp"

#include "common/metric_builders.hpp"

namespace ozghub::status {

StatusMetrics::StatusMetrics(prometheus::Registry& registry, const EventLog& log)
    : log_(log),
      pending_(single_gauge(registry, "ozghub_status_events_pending",
                            "Status events written and not yet accepted by their sender")),
      sent_(single_counter(registry, "ozghub_status_events_sent_total",
                           "Status events sent on status links, redeliveries included")),
      expired_(
          single_counter(registry, "ozghub_status_events_expired_total",
                         "Status events removed by retention before their sender accepted them")),
      links_(single_gauge(registry, "ozghub_status_links", "Status links attached")) {
  auto& family = prometheus::BuildCounter()
                     .Name("ozghub_status_events_total")
                     .Help("Status events written, by type")
                     .Register(registry);
  for (std::size_t t = 0; t < kEventTypes; ++t) {
    written_[t] = &family.Add({{"type", type_name(static_cast<EventType>(t))}});
  }
  refresh();
}

void StatusMetrics::refresh() {
  std::lock_guard lock(mutex_);
  for (std::size_t t = 0; t < kEventTypes; ++t) {
    const std::uint64_t now = log_.written(static_cast<EventType>(t));
    written_[t]->Increment(static_cast<double>(now - seen_[t]));
    seen_[t] = now;
  }
  const std::uint64_t expired = log_.expired_unread();
  expired_.Increment(static_cast<double>(expired - seen_expired_));
  seen_expired_ = expired;
  pending_.Set(static_cast<double>(log_.pending()));
}

}  // namespace ozghub::status
