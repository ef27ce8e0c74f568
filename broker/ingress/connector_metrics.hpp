// The broker connectors' metrics, declared here and nowhere else. The label `connector` is the
// configured connector name (a handful, fixed at startup: bounded).
//
//   ozghub_connector_connected{connector}          1 while the link to the broker's queue is open
//   ozghub_connector_disconnects_total{connector}  connections lost or refused (each is retried)
//
// Thread-safe (prometheus-cpp's metrics are).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <string>

namespace ozghub::ingress {

struct ConnectorMetrics {
  prometheus::Gauge* connected = nullptr;
  prometheus::Counter* disconnects = nullptr;

  // The handles of the connector `name` in `registry`.
  static ConnectorMetrics for_connector(prometheus::Registry& registry, const std::string& name);
};

}  // namespace ozghub::ingress
