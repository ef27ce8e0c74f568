#include "ingress/connector_metrics.hpp"

namespace ozghub::ingress {

ConnectorMetrics ConnectorMetrics::for_connector(prometheus::Registry& registry,
                                                 const std::string& name) {
  // Registering a family twice returns the same family, so each connector adds its labels.
  auto& connected = prometheus::BuildGauge()
                        .Name("ozghub_connector_connected")
                        .Help("1 while the connector's link to its broker queue is open")
                        .Register(registry);
  auto& disconnects = prometheus::BuildCounter()
                          .Name("ozghub_connector_disconnects_total")
                          .Help("connections of the connector to its broker lost or refused")
                          .Register(registry);
  ConnectorMetrics m;
  m.connected = &connected.Add({{"connector", name}});
  m.disconnects = &disconnects.Add({{"connector", name}});
  return m;
}

}  // namespace ozghub::ingress
