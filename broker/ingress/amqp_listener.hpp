// AMQP 1.0 ingress: the one place applications are received.
//
// Qpid Proton's container runs the event loop on one thread. A sending link to the target
// `applications` gets link credit as the pipeline has room (limits.credit_window per link,
// limits.max_inflight over all links), so a fast sender cannot make the hub buffer without
// bound. Each message goes to the intake worker pool untouched; its verdict comes back through
// the connection's work queue and is settled there: accepted (after the synced commit) or
// rejected with an `ozg:` condition and a description for the sender.
//
// While the ingress gate is closed (low disk) no new credit is granted at all.
//
// Connectors (`connectors:`, broker_connector.hpp) run on the same container and event loop:
// outgoing connections to queues on external brokers, whose links share the credit budget.
// With connectors only (no amqp.tls, no dev_mode) nothing listens.
//
// Receipts: a client may attach a receiving link (e.g. a dynamic one) and name its address in
// `reply_to`; after commit the hub sends there a message with correlation_id = the message id
// and application properties case_number, office_id and status = "accepted".
//
// Status events: a receiving link with the source `status/<sender>` is handed to the status
// feed (status/status_feed.hpp), which checks the login and sends the sender's signed events.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.hpp"
#include "config/config.hpp"
#include "ingress/ingress_gate.hpp"
#include "pipeline/intake.hpp"

namespace ozghub::status {
class StatusFeed;
}
namespace prometheus {
class Registry;
}

namespace ozghub::ingress {

class AmqpListener {
 public:
  // `gate` must outlive the listener.
  AmqpListener(const config::Config& config, pipeline::Intake& intake, const IngressGate& gate);
  ~AmqpListener();
  AmqpListener(const AmqpListener&) = delete;
  AmqpListener& operator=(const AmqpListener&) = delete;

  // Hands `status/<sender>` links to `feed` (which must outlive the listener). Before run().
  void set_status_feed(status::StatusFeed* feed);

  // Listens and runs the event loop on the calling thread until stop(). Startup errors (the
  // address is taken) come back as a Status.
  Status run();
  // Thread-safe; run() returns soon after.
  void stop();
  // Before run(): the broker connectors' metrics (connector_metrics.hpp) go into `registry`.
  void attach_metrics(prometheus::Registry& registry);

 private:
  class Handler;
  std::unique_ptr<Handler> handler_;
};

}  // namespace ozghub::ingress
