#include "delivery/delivery_metrics.hpp"

namespace ozghub::delivery {

DeliveryMetrics::DeliveryMetrics(prometheus::Registry& registry)
    : deliveries_(prometheus::BuildCounter()
                      .Name("ozghub_deliveries_total")
                      .Help("Delivery attempts by adapter instance and outcome")
                      .Register(registry)),
      deadline_exceeded_(prometheus::BuildCounter()
                             .Name("ozghub_delivery_deadline_exceeded_total")
                             .Help("Delivery attempts that returned after their timeout_ms")
                             .Register(registry)),
      duration_(prometheus::BuildHistogram()
                    .Name("ozghub_delivery_duration_seconds")
                    .Help("Duration of one delivery attempt")
                    .Register(registry)),
      in_flight_(prometheus::BuildGauge()
                     .Name("ozghub_deliveries_in_flight")
                     .Help("Delivery attempts running now")
                     .Register(registry)),
      backlog_(prometheus::BuildGauge()
                   .Name("ozghub_delivery_backlog")
                   .Help("Deliveries waiting, due now or backing off")
                   .Register(registry)),
      backlog_in_memory_(prometheus::BuildGauge()
                             .Name("ozghub_delivery_backlog_in_memory")
                             .Help("Waiting deliveries held in memory; the rest wait in the store")
                             .Register(registry)),
      dead_letters_(&prometheus::BuildGauge()
                         .Name("ozghub_dead_letters")
                         .Help("Dead letters stored now")
                         .Register(registry)
                         .Add({})) {}

AdapterMetrics DeliveryMetrics::for_adapter(const std::string& adapter) {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  AdapterMetrics m;
  m.delivered = &deliveries_.Add({{"adapter", adapter}, {"outcome", "delivered"}});
  m.retried = &deliveries_.Add({{"adapter", adapter}, {"outcome", "retry"}});
  m.dead_lettered = &deliveries_.Add({{"adapter", adapter}, {"outcome", "dead_letter"}});
  m.deadline_exceeded = &deadline_exceeded_.Add({{"adapter", adapter}});
  m.duration = &duration_.Add({{"adapter", adapter}}, kBuckets);
  m.in_flight = &in_flight_.Add({{"adapter", adapter}});
  m.backlog = &backlog_.Add({{"adapter", adapter}});
  m.backlog_in_memory = &backlog_in_memory_.Add({{"adapter", adapter}});
  return m;
}

}  // namespace ozghub::delivery
