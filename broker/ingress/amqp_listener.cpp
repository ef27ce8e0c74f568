#include "ingress/amqp_listener.hpp"

#include <deque>
#include <map>
#include <mutex>
#include <proton/connection.hpp>
#include <proton/connection_options.hpp>
#include <proton/container.hpp>
#include <proton/delivery.hpp>
#include <proton/error_condition.hpp>
#include <proton/listen_handler.hpp>
#include <proton/listener.hpp>
#include <proton/message.hpp>
#include <proton/message_id.hpp>
#include <proton/messaging_handler.hpp>
#include <proton/receiver.hpp>
#include <proton/receiver_options.hpp>
#include <proton/sasl.hpp>
#include <proton/sender.hpp>
#include <proton/sender_options.hpp>
#include <proton/source.hpp>
#include <proton/source_options.hpp>
#include <proton/target.hpp>
#include <proton/tracker.hpp>
#include <proton/transport.hpp>
#include <proton/work_queue.hpp>

#include "common/fault_point.hpp"
#include "common/log.hpp"
#include "ingress/broker_connector.hpp"
#include "ingress/sasl_server.hpp"
#include "ingress/sender_policy.hpp"
#include "ingress/settlement.hpp"
#include "ingress/tls_server_options.hpp"
#include "pipeline/outbox.hpp"
#include "status/status_feed.hpp"

namespace ozghub::ingress {
namespace {

constexpr char kApplicationsAddress[] = "applications";
constexpr std::size_t kMaxQueuedReceipts = 10000;

struct PendingDelivery {
  proton::delivery delivery;
  proton::receiver link;
  std::string reply_to;
  proton::message_id message_id;
};

}  // namespace

class AmqpListener::Handler : public proton::messaging_handler {
 public:
  Handler(const config::Config& cfg, pipeline::Intake& intake, const IngressGate& gate)
      : config_(cfg),
        intake_(intake),
        gate_(gate),
        policy_(cfg.senders, cfg.amqp.dev_mode),
        container_(*this, "ozg-hub") {
    for (const auto& entry : cfg.connectors) {
      connectors_.push_back(
          std::make_unique<BrokerConnector>(entry, cfg.limits, intake, gate, in_pipeline_));
    }
  }

  // Listens on the plaintext port (dev_mode only) and on the amqps port (when amqp.tls is set).
  Status run() {
    if (Status s = install_sasl_server(config_.amqp); !s.is_ok()) return s;
    for (auto& c : connectors_) {
      if (Status s = c->prepare(); !s.is_ok()) return s;
      c->start(container_);
    }
    try {
      if (config_.amqp.dev_mode) {
        log::warn("amqp.dev_mode", {{"anonymous", "allowed"}, {"plaintext", "allowed"}});
        listeners_.push_back(std::make_unique<Listener>(
            *this, config_.listen_host, config_.listen_port, proton::connection_options(), false));
      }
      if (config_.amqp.tls.enabled) {
        auto tls = make_tls_server_options(config_.amqp.tls);
        if (!tls) return tls.status();
        listeners_.push_back(std::make_unique<Listener>(
            *this, config_.amqp.tls.host, config_.amqp.tls.port,
            proton::connection_options().ssl_server_options(*tls), true));
      }
      for (auto& l : listeners_) container_.listen(l->address(), *l);
      container_.run();
    } catch (const std::exception& e) {
      return Status::io_error(std::string("AMQP listener: ") + e.what());
    }
    return listen_error_.empty() ? Status::ok() : Status::io_error(listen_error_);
  }

  void attach_metrics(prometheus::Registry& registry) {
    for (std::size_t i = 0; i < connectors_.size(); ++i) {
      connectors_[i]->set_metrics(
          ConnectorMetrics::for_connector(registry, config_.connectors[i].name));
    }
  }

  void stop() {
    stopping_ = true;
    for (auto& c : connectors_) c->stop();
    container_.stop();
  }

  // --- listeners ------------------------------------------------------------------------------
  // One per port; the amqps one applies its TLS options to each connection it accepts.
  class Listener : public proton::listen_handler {
   public:
    Listener(Handler& h, std::string host, std::uint16_t port,
             const proton::connection_options& opts, bool tls)
        : handler_(h), host_(std::move(host)), port_(port), options_(opts), tls_(tls) {}
    std::string address() const { return host_ + ":" + std::to_string(port_); }
    proton::connection_options on_accept(proton::listener&) override { return options_; }
    void on_open(proton::listener& l) override {
      log::info("amqp.listening", {{"address", host_ + ":" + std::to_string(l.port())},
                                   {"tls", tls_ ? "true" : "false"}});
      if (!handler_.ticking_) {
        handler_.ticking_ = true;
        handler_.schedule_tick();
      }
    }
    void on_error(proton::listener&, const std::string& what) override {
      handler_.listen_error_ = "cannot listen on " + address() + ": " + what;
      log::error("amqp.listen_failed", {{"error", what}});
      handler_.container_.stop();
    }

   private:
    Handler& handler_;
    std::string host_;
    std::uint16_t port_;
    proton::connection_options options_;
    bool tls_;
  };

  // --- connections ----------------------------------------------------------------------------
  class Connection;

  // The login is done (SASL ran before the AMQP open): map it to a sender entry or refuse.
  void on_connection_open(proton::connection& c) override {
    const std::string mechanism = c.transport().sasl().mech();
    auto login = policy_.login(mechanism, c.user());
    if (!login.allowed) {
      log::warn("amqp.login_refused", {{"mechanism", mechanism}, {"reason", login.reason}});
      c.open();
      c.close(proton::error_condition("amqp:unauthorized-access",
                                      "this login is not a sender of this hub"));
      return;
    }
    if (login.grant) {
      log::info("amqp.login", {{"sender", login.grant->name()}, {"mechanism", mechanism}});
    }
    auto conn = std::make_shared<Connection>(*this, c);
    conn->grant = std::move(login.grant);
    connections_[c] = conn;
    c.open();
  }
  void on_connection_close(proton::connection& c) override { forget(c); }
  void on_transport_close(proton::transport& t) override { forget(t.connection()); }

  void on_receiver_open(proton::receiver& r) override {
    auto* conn = find(r.connection());
    const std::string address = r.target().address();
    if (conn == nullptr || (conn->grant && !conn->grant->may_attach(address))) {
      r.open();
      r.close(proton::error_condition("amqp:unauthorized-access",
                                      "this sender may not send to '" + address + "'"));
      return;
    }
    if (r.target().dynamic() || address != kApplicationsAddress) {
      r.open();
      r.close(proton::error_condition(
          "amqp:not-found", "unknown target address '" + r.target().address() +
                                "': applications are sent to '" + kApplicationsAddress + "'"));
      return;
    }
    r.open(proton::receiver_options().credit_window(0).auto_accept(false));
    links_[r] = 0;
    replenish(&r.connection().work_queue());
  }
  void on_receiver_close(proton::receiver& r) override { links_.erase(r); }

  void on_sender_open(proton::sender& s) override {
    auto* conn = find(s.connection());
    if (conn == nullptr) return;
    if (status_ != nullptr && !s.source().dynamic() &&
        status::StatusFeed::is_status_address(s.source().address())) {
      status_->attach(s, s.source().address(), conn->grant ? &conn->grant->name() : nullptr);
      return;
    }
    std::string address;
    if (s.source().dynamic()) {
      address = "receipts/" + std::to_string(next_receipt_address_++);
      s.open(proton::sender_options().source(proton::source_options().address(address)));
    } else {
      address = s.source().address();
      s.open();
    }
    conn->receipt_links[address] = {s, {}};
  }
  void on_sender_close(proton::sender& s) override {
    if (status_ != nullptr && status_->owns(s)) {
      status_->detach(s);
      return;
    }
    if (auto* conn = find(s.connection())) {
      for (auto it = conn->receipt_links.begin(); it != conn->receipt_links.end(); ++it) {
        if (it->second.first == s) {
          conn->receipt_links.erase(it);
          break;
        }
      }
    }
  }
  void on_sendable(proton::sender& s) override {
    if (status_ != nullptr && status_->owns(s)) {
      status_->on_sendable(s);
      return;
    }
    if (auto* conn = find(s.connection())) conn->flush_receipts(s);
  }

  // The portals' dispositions of status events.
  void on_tracker_accept(proton::tracker& t) override {
    if (status_ != nullptr) status_->on_outcome(t, status::StatusFeed::Outcome::kAccepted);
  }
  void on_tracker_reject(proton::tracker& t) override {
    if (status_ != nullptr) status_->on_outcome(t, status::StatusFeed::Outcome::kRejected);
  }
  void on_tracker_release(proton::tracker& t) override {
    if (status_ != nullptr) status_->on_outcome(t, status::StatusFeed::Outcome::kReleased);
  }

  // --- messages ---------------------------------------------------------------------------------
  void on_message(proton::delivery& d, proton::message& m) override {
    fault::hit(fault::Point::kReceived);
    auto conn_it = connections_.find(d.connection());
    if (conn_it == connections_.end()) return;
    auto& conn = conn_it->second;
    proton::receiver link = d.receiver();
    if (auto l = links_.find(link); l != links_.end()) ++l->second;
    std::uint64_t id = conn->next_id++;
    conn->pending.emplace(id, PendingDelivery{d, link, m.reply_to(), m.id()});
    ++in_pipeline_;
    pipeline::Submission s;
    s.origin = conn;
    s.id = id;
    s.grant = conn->grant;
    s.received_at_ms = pipeline::now_ms();
    s.message = std::move(m);
    intake_.submit(std::move(s));
  }

  // --- errors: never let Proton's default handlers throw on the event loop -------------------
  void on_error(const proton::error_condition& e) override {
    log::warn("amqp.error", {{"condition", e.name()}});
  }
  void on_transport_error(proton::transport& t) override {
    log::info("amqp.transport_error", {{"condition", t.error().name()}});
    forget(t.connection());
  }
  void on_connection_error(proton::connection& c) override {
    log::info("amqp.connection_error", {{"condition", c.error().name()}});
  }
  void on_session_error(proton::session&) override { log::info("amqp.session_error"); }
  void on_receiver_error(proton::receiver& r) override {
    log::info("amqp.link_error", {{"condition", r.error().name()}});
  }
  void on_sender_error(proton::sender& s) override {
    log::info("amqp.link_error", {{"condition", s.error().name()}});
  }

  // The per-connection state. Lives on the event loop thread, except settle(), which pipeline
  // threads call and which only hands the verdicts to the connection's work queue.
  class Connection : public pipeline::Origin, public std::enable_shared_from_this<Connection> {
   public:
    Connection(Handler& h, proton::connection& c) : handler_(h), work_queue_(&c.work_queue()) {}

    void settle(std::vector<std::pair<std::uint64_t, pipeline::Verdict>> verdicts) override {
      handler_.in_pipeline_ -= static_cast<std::int64_t>(verdicts.size());
      std::lock_guard lock(mutex_);
      if (work_queue_ == nullptr) return;  // connection gone: the sender will redeliver
      work_queue_->add([self = shared_from_this(), v = std::move(verdicts)]() { self->apply(v); });
    }

    void close() {
      std::lock_guard lock(mutex_);
      work_queue_ = nullptr;
    }

    void apply(const std::vector<std::pair<std::uint64_t, pipeline::Verdict>>& verdicts) {
      for (const auto& [id, v] : verdicts) {
        auto it = pending.find(id);
        if (it == pending.end()) continue;
        PendingDelivery& p = it->second;
        if (auto l = handler_.links_.find(p.link); l != handler_.links_.end() && l->second > 0) {
          --l->second;
        }
        if (p.link.closed() || p.delivery.settled()) {
          pending.erase(it);
          continue;
        }
        if (v.accepted) {
          p.delivery.accept();
          if (!p.reply_to.empty()) send_receipt(p, v);
          fault::hit(fault::Point::kSettled);
        } else {
          settle_rejected(p.delivery, v.rejection);
        }
        pending.erase(it);
      }
      handler_.replenish(work_queue_);
    }

    void send_receipt(const PendingDelivery& p, const pipeline::Verdict& v) {
      auto link = receipt_links.find(p.reply_to);
      if (link == receipt_links.end()) return;  // nobody listening there on this connection
      proton::message r;
      r.to(p.reply_to);
      r.correlation_id(p.message_id);
      r.properties().put("case_number", v.case_number);
      r.properties().put("office_id", v.office_id);
      r.properties().put("status", "accepted");
      auto& queue = link->second.second;
      if (queue.size() >= kMaxQueuedReceipts) {
        log::warn("amqp.receipt_dropped", {{"case", v.case_number}});
        return;
      }
      queue.push_back(std::move(r));
      flush_receipts(link->second.first);
    }

    void flush_receipts(proton::sender& s) {
      for (auto& [address, entry] : receipt_links) {
        if (entry.first != s) continue;
        while (!entry.second.empty() && s.credit() > 0) {
          s.send(entry.second.front());
          entry.second.pop_front();
        }
      }
    }

    std::uint64_t next_id = 1;
    std::shared_ptr<const SenderGrant> grant;  // null: anonymous (dev_mode)
    std::map<std::uint64_t, PendingDelivery> pending;
    std::map<std::string, std::pair<proton::sender, std::deque<proton::message>>> receipt_links;

   private:
    Handler& handler_;
    std::mutex mutex_;
    proton::work_queue* work_queue_;
  };

 private:
  Connection* find(const proton::connection& c) {
    auto it = connections_.find(c);
    return it == connections_.end() ? nullptr : it->second.get();
  }

  void forget(const proton::connection& c) {
    auto it = connections_.find(c);
    if (it == connections_.end()) return;
    it->second->close();
    if (status_ != nullptr) status_->forget(c);
    // Pipeline threads may hold the last reference to the Connection; the Proton objects in it
    // must be released here, on the event loop, not by whichever thread drops it.
    it->second->pending.clear();
    it->second->receipt_links.clear();
    for (auto l = links_.begin(); l != links_.end();) {
      if (l->first.connection() == c) {
        l = links_.erase(l);
      } else {
        ++l;
      }
    }
    connections_.erase(it);
  }

  // Grants credit to links below their window while the pipeline has room.
  //
  // Room is max_inflight minus what is in the pipeline; credit a link holds but does not use (a
  // sender with nothing more to send) does not count against it, or idle links would starve busy
  // ones. What the hub may have to hold is therefore bounded by max_inflight plus one window per
  // open link. Links are served round-robin from where the last pass stopped, so a budget smaller
  // than the sum of the windows is shared instead of always going to the same links. Credit is
  // topped up in chunks (a quarter window) so a busy link does not cost a flow frame per message.
  // `current` is the work queue of the connection whose event is being handled (nullptr in the
  // timer): that connection's frames are written anyway once the handler returns.
  void replenish(const proton::work_queue* current) {
    const std::int64_t window = config_.limits.credit_window;
    const std::int64_t in_pipeline = in_pipeline_.load();
    std::int64_t room = static_cast<std::int64_t>(config_.limits.max_inflight) - in_pipeline;
    if (log::enabled(log::Level::kDebug)) {
      std::string per_link;
      for (auto& [r, unsettled] : links_) {
        per_link += std::to_string(r.credit()) + "/" + std::to_string(unsettled) + " ";
      }
      log::debug("amqp.credit",
                 {{"in_pipeline", std::to_string(in_pipeline)}, {"credit_unsettled", per_link}});
    }
    if (room <= 0 || links_.empty() || gate_.paused()) return;
    const std::size_t n = links_.size();
    auto it = links_.begin();
    const std::size_t start = next_link_ % n;
    std::advance(it, static_cast<std::ptrdiff_t>(start));
    for (std::size_t i = 0; i < n && room > 0; ++i, ++it) {
      if (it == links_.end()) it = links_.begin();
      auto& [r, unsettled] = *it;
      const std::int64_t have = r.credit() + unsettled;
      const std::int64_t want = window - have;
      if (want <= 0) continue;
      if (want < std::max<std::int64_t>(1, window / 4) && r.credit() > 0) continue;
      const std::int64_t grant = std::min(want, room);
      proton::receiver rr = r;
      rr.add_credit(static_cast<int>(grant));
      // Credit granted on another connection (or in the timer) is written only when that
      // connection is next processed, so wake it; without this the flow frame sat unsent and
      // the sender stalled.
      proton::work_queue& owner = rr.connection().work_queue();
      if (&owner != current) owner.add([] {});
      room -= grant;
      next_link_ = start + i + 1;
    }
  }

  // A safety net: credit withheld while the pipeline was full is granted again even when the
  // verdicts that freed the room went to a connection that has since closed; and the gate
  // reopening (space returned) resumes intake within one tick.
  void schedule_tick() {
    // A pending timer keeps the container running: stop re-arming it once stopping.
    if (stopping_) return;
    container_.schedule(proton::duration(100), [this] {
      replenish(nullptr);
      schedule_tick();
    });
  }

  const config::Config& config_;
  pipeline::Intake& intake_;
  const IngressGate& gate_;
  SenderPolicy policy_;
  proton::container container_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  bool ticking_ = false;
  std::string listen_error_;
  std::map<proton::connection, std::shared_ptr<Connection>> connections_;
  std::map<proton::receiver, std::int64_t> links_;  // receiver -> unsettled deliveries
  std::atomic<std::int64_t> in_pipeline_{0};
  std::atomic<bool> stopping_{false};
  std::uint64_t next_receipt_address_ = 1;
  std::size_t next_link_ = 0;  // where the next credit pass starts (round-robin)
  // Outgoing connections to brokers' queues, on this container. Declared after it: destroyed
  // first, while the container (whose connections they referenced) still exists.
  std::vector<std::unique_ptr<BrokerConnector>> connectors_;

 public:
  status::StatusFeed* status_ = nullptr;  // set before run()
};

AmqpListener::AmqpListener(const config::Config& config, pipeline::Intake& intake,
                           const IngressGate& gate)
    : handler_(std::make_unique<Handler>(config, intake, gate)) {}

AmqpListener::~AmqpListener() = default;

void AmqpListener::set_status_feed(status::StatusFeed* feed) { handler_->status_ = feed; }

Status AmqpListener::run() { return handler_->run(); }

void AmqpListener::stop() { handler_->stop(); }

void AmqpListener::attach_metrics(prometheus::Registry& registry) {
  handler_->attach_metrics(registry);
}

}  // namespace ozghub::ingress
