#include "status/status_metrics.hpp"

namespace ozghub::status {

StatusMetrics::StatusMetrics(prometheus::Registry& registry, const EventLog& log)
    : log_(log),
      pending_(prometheus::BuildGauge()
                   .Name("ozghub_status_events_pending")
                   .Help("Status events written and not yet accepted by their sender")
                   .Register(registry)
                   .Add({})),
      sent_(prometheus::BuildCounter()
                .Name("ozghub_status_events_sent_total")
                .Help("Status events sent on status links, redeliveries included")
                .Register(registry)
                .Add({})),
      expired_(prometheus::BuildCounter()
                   .Name("ozghub_status_events_expired_total")
                   .Help("Status events removed by retention before their sender accepted them")
                   .Register(registry)
                   .Add({})),
      links_(prometheus::BuildGauge()
                 .Name("ozghub_status_links")
                 .Help("Status links attached")
                 .Register(registry)
                 .Add({})) {
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
