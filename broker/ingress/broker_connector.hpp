// Connector mode (scale-out on an existing broker): the hub consumes applications from a queue
// on an external AMQP 1.0 broker (`connectors:` in the configuration; RabbitMQ in the tests)
// instead of, or as well as, listening itself. docs/operations/scale-out.md is the operator's
// view.
//
// Lifecycle. The listener (amqp_listener.hpp) owns one BrokerConnector per entry and runs it on
// its own Proton container: there is one event loop for incoming and outgoing connections.
//   1. prepare(): reads the password file and builds the TLS options (startup errors as Status).
//   2. start(): from then on a 100 ms tick on the event loop connects when due and tops up
//      credit. The connection attaches one receiving link to `source`.
//   3. Each message goes into the same intake as the listener's (decode, validate, route,
//      commit), with the connector's name as sender scope: the application's sender is
//      "<name>/<sender property>", half of the idempotency key.
//   4. The verdict comes back through the connection's work queue and settles the broker's
//      delivery only then: accepted after the synced commit, rejected with the `ozg:` condition
//      and description, or modified (delivery-failed, so the broker redelivers) for an internal
//      error that is not the message's fault; then no new credit for a second, so a hub that
//      cannot take anything does not spin on the broker's immediate redeliveries.
//   5. When the broker goes away, deliveries not yet settled are the broker's to redeliver (to
//      this hub or another); verdicts arriving for them later are dropped. The tick reconnects
//      after reconnect_initial_ms, doubling up to reconnect_max_ms, with +/- 20 % jitter.
//   6. stop(): no more reconnects or ticks; the listener's container.stop() closes the link.
//
// Flow control. The link holds at most `credit_window` credit (limits.credit_window unless the
// entry sets its own), and credit is granted only while the pipeline has room under
// limits.max_inflight, counted together with the listener's links (`in_pipeline`), and never
// while the ingress gate is closed (low disk).
//
// Thread-safety: start() and stop() from any thread; everything else runs on the event loop,
// except the verdicts, which pipeline threads hand over through the connection's work queue.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "common/status.hpp"
#include "config/config.hpp"
#include "ingress/connector_metrics.hpp"
#include "ingress/ingress_gate.hpp"
#include "pipeline/intake.hpp"

namespace proton {
class container;
}

namespace ozghub::ingress {

class BrokerConnector {
 public:
  // Everything passed must outlive the connector; `in_pipeline` is the listener's count of
  // applications received and not yet settled, over all links.
  BrokerConnector(const config::ConnectorEntry& entry, const config::Limits& limits,
                  pipeline::Intake& intake, const IngressGate& gate,
                  std::atomic<std::int64_t>& in_pipeline);
  ~BrokerConnector();
  BrokerConnector(const BrokerConnector&) = delete;
  BrokerConnector& operator=(const BrokerConnector&) = delete;

  // Before start(): where the connector's state is counted (connector_metrics.hpp).
  void set_metrics(const ConnectorMetrics& metrics);
  Status prepare();
  // Schedules the first connection attempt on `container`'s event loop.
  void start(proton::container& container);
  void stop();

 private:
  class Handler;
  std::unique_ptr<Handler> handler_;
};

}  // namespace ozghub::ingress
