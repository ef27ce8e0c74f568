#include "ingress/broker_connector.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <proton/connection.hpp>
#include <proton/connection_options.hpp>
#include <proton/container.hpp>
#include <proton/delivery.hpp>
#include <proton/delivery_mode.hpp>
#include <proton/error_condition.hpp>
#include <proton/message.hpp>
#include <proton/messaging_handler.hpp>
#include <proton/receiver.hpp>
#include <proton/receiver_options.hpp>
#include <proton/source_options.hpp>
#include <proton/transport.hpp>
#include <proton/work_queue.hpp>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/fault_point.hpp"
#include "common/log.hpp"
#include "common/private_file.hpp"
#include "ingress/settlement.hpp"
#include "ingress/tls_server_options.hpp"
#include "pipeline/outbox.hpp"

namespace ozghub::ingress {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::int64_t kTickMs = 100;
constexpr std::chrono::seconds kFailedPause{1};

// The deliveries of one connection to the broker, and where their verdicts go. A new one for
// every connection: verdicts for deliveries of a connection that is gone are dropped (the broker
// redelivers those).
class Session : public pipeline::Origin, public std::enable_shared_from_this<Session> {
 public:
  // `on_settled(failed)` runs on the event loop after each batch of verdicts; `failed`: one
  // of them was an internal error, settled for redelivery.
  Session(proton::work_queue& queue, std::atomic<std::int64_t>& in_pipeline,
          std::function<void(bool)> on_settled)
      : in_pipeline_(in_pipeline), on_settled_(std::move(on_settled)), work_queue_(&queue) {}

  // Pipeline threads: only hands the verdicts to the event loop.
  void settle(std::vector<std::pair<std::uint64_t, pipeline::Verdict>> verdicts) override {
    in_pipeline_ -= static_cast<std::int64_t>(verdicts.size());
    std::lock_guard lock(mutex_);
    if (work_queue_ == nullptr) return;  // disconnected: the broker redelivers
    work_queue_->add([self = shared_from_this(), v = std::move(verdicts)]() { self->apply(v); });
  }

  // Event loop: the connection is gone. Releases the Proton objects here, on the loop.
  void close() {
    {
      std::lock_guard lock(mutex_);
      work_queue_ = nullptr;
    }
    pending.clear();
  }

  void apply(const std::vector<std::pair<std::uint64_t, pipeline::Verdict>>& verdicts) {
    bool failed = false;
    for (const auto& [id, v] : verdicts) {
      auto it = pending.find(id);
      if (it == pending.end()) continue;
      proton::delivery& d = it->second;
      if (!d.settled()) {
        if (v.accepted) {
          d.accept();
          fault::hit(fault::Point::kSettled);
        } else if (v.rejection.condition == Condition::kInternalError) {
          // Not the message's fault (e.g. the KEK was unreachable): the broker keeps it.
          settle_failed(d);
          failed = true;
        } else {
          settle_rejected(d, v.rejection);
        }
      }
      pending.erase(it);
    }
    on_settled_(failed);
  }

  std::uint64_t next_id = 1;
  std::map<std::uint64_t, proton::delivery> pending;  // event loop only

 private:
  std::atomic<std::int64_t>& in_pipeline_;
  std::function<void(bool)> on_settled_;
  std::mutex mutex_;
  proton::work_queue* work_queue_;
};

}  // namespace

class BrokerConnector::Handler : public proton::messaging_handler {
 public:
  Handler(const config::ConnectorEntry& entry, const config::Limits& limits,
          pipeline::Intake& intake, const IngressGate& gate, std::atomic<std::int64_t>& in_pipeline)
      : entry_(entry),
        window_(entry.credit_window > 0 ? entry.credit_window : limits.credit_window),
        max_inflight_(limits.max_inflight),
        intake_(intake),
        gate_(gate),
        in_pipeline_(in_pipeline),
        random_(std::random_device{}()) {}

  Status prepare() {
    options_ = proton::connection_options().handler(*this).sasl_enabled(true).idle_timeout(
        proton::duration(30000));
    if (entry_.url.starts_with("amqps://")) {
      auto tls = make_tls_client_options(entry_.ca, entry_.certificate, entry_.key);
      if (!tls) {
        return Status::invalid_argument("connector '" + entry_.name + "' (" + entry_.origin +
                                        "): " + tls.status().message());
      }
      options_.ssl_client_options(*tls);
    }
    if (!entry_.user.empty()) {
      auto password = private_file::read_line("connector password", entry_.password_file);
      if (!password) return password.status();
      options_.user(entry_.user).password(*password).sasl_allowed_mechs("PLAIN");
    } else if (!entry_.certificate.empty()) {
      options_.sasl_allowed_mechs("EXTERNAL");
    } else {
      options_.sasl_allowed_mechs("ANONYMOUS");
    }
    return Status::ok();
  }

  void set_metrics(const ConnectorMetrics& metrics) { metrics_ = metrics; }

  void start(proton::container& container) {
    container_ = &container;
    container.schedule(proton::duration(0), [this] { tick(); });
  }

  void stop() { stopping_ = true; }

  // --- connection ------------------------------------------------------------------------------
  void on_connection_open(proton::connection& c) override {
    c.open_receiver(entry_.source, proton::receiver_options()
                                       .credit_window(0)
                                       .auto_accept(false)
                                       .delivery_mode(proton::delivery_mode::AT_LEAST_ONCE)
                                       .source(proton::source_options().address(entry_.source)));
  }

  void on_receiver_open(proton::receiver& r) override {
    receiver_ = r;
    attempts_ = 0;
    log::info("connector.connected", {{"connector", entry_.name}, {"url", entry_.url}});
    if (metrics_.connected != nullptr) metrics_.connected->Set(1);
    replenish(false);
  }

  // The broker detached the link (e.g. the queue was deleted): start over on a new connection.
  void on_receiver_close(proton::receiver& r) override {
    if (!stopping_) r.connection().close();
  }

  void on_transport_close(proton::transport&) override {
    if (session_) session_->close();
    session_.reset();
    receiver_ = proton::receiver();
    connection_ = proton::connection();
    if (metrics_.connected != nullptr) metrics_.connected->Set(0);
    if (stopping_) return;
    if (metrics_.disconnects != nullptr) metrics_.disconnects->Increment();
    ++attempts_;
    // reconnect_initial_ms doubled per failed attempt, at most reconnect_max_ms.
    std::int64_t base = entry_.reconnect_initial.count();
    for (int i = 1; i < attempts_ && base < entry_.reconnect_max.count(); ++i) base *= 2;
    base = std::min<std::int64_t>(base, entry_.reconnect_max.count());
    std::uniform_real_distribution<double> jitter(0.8, 1.2);
    const auto wait = std::chrono::milliseconds(
        static_cast<std::int64_t>(static_cast<double>(base) * jitter(random_)));
    next_attempt_ = Clock::now() + wait;
    log::warn("connector.disconnected", {{"connector", entry_.name},
                                         {"condition", last_condition_},
                                         {"retry_in_ms", std::to_string(wait.count())}});
    last_condition_.clear();
  }

  // --- messages -------------------------------------------------------------------------------
  void on_message(proton::delivery& d, proton::message& m) override {
    fault::hit(fault::Point::kReceived);
    if (!session_) return;  // cannot happen: deliveries come on the current connection only
    const std::uint64_t id = session_->next_id++;
    session_->pending.emplace(id, d);
    ++in_pipeline_;
    pipeline::Submission s;
    s.origin = session_;
    s.id = id;
    s.received_at_ms = pipeline::now_ms();
    s.message = std::move(m);
    s.sender_scope = entry_.name;
    intake_.submit(std::move(s));
  }

  // --- errors: never let Proton's default handlers throw on the event loop -------------------
  void on_error(const proton::error_condition& e) override { remember(e); }
  void on_transport_error(proton::transport& t) override { remember(t.error()); }
  void on_connection_error(proton::connection& c) override { remember(c.error()); }
  void on_session_error(proton::session&) override {}
  void on_receiver_error(proton::receiver& r) override { remember(r.error()); }

 private:
  void remember(const proton::error_condition& e) {
    if (last_condition_.empty()) last_condition_ = e.name();
    // The description names the broker's view (e.g. "queue 'x' not found"), no personal data.
    log::info(
        "connector.error",
        {{"connector", entry_.name}, {"condition", e.name()}, {"description", e.description()}});
  }

  void connect() {
    connection_ = container_->connect(entry_.url, options_);
    session_ =
        std::make_shared<Session>(connection_.work_queue(), in_pipeline_, [this](bool failed) {
          // The broker redelivers at once what the hub could
          // not take: pause instead of spinning on it.
          if (failed) hold_until_ = Clock::now() + kFailedPause;
          replenish(false);
        });
  }

  // Tops the link's credit up to the window while the pipeline has room (the budget the
  // listener's links share), in chunks of a quarter window. `wake`: called outside the
  // connection's own events (the timer), so its work queue is poked to write the flow frame.
  void replenish(bool wake) {
    if (!receiver_ || !session_ || gate_.paused() || Clock::now() < hold_until_) return;
    const std::int64_t room = static_cast<std::int64_t>(max_inflight_) - in_pipeline_.load();
    const std::int64_t have =
        receiver_.credit() + static_cast<std::int64_t>(session_->pending.size());
    const std::int64_t want = static_cast<std::int64_t>(window_) - have;
    if (want <= 0 || room <= 0) return;
    if (want < std::max<std::int64_t>(1, window_ / 4) && receiver_.credit() > 0) return;
    receiver_.add_credit(static_cast<int>(std::min(want, room)));
    if (wake) connection_.work_queue().add([] {});
  }

  void tick() {
    if (stopping_) return;  // a pending timer keeps the container running
    if (!connection_ && Clock::now() >= next_attempt_) {
      connect();
    } else {
      replenish(true);
    }
    container_->schedule(proton::duration(kTickMs), [this] { tick(); });
  }

  const config::ConnectorEntry& entry_;
  const std::uint32_t window_;
  const std::uint32_t max_inflight_;
  pipeline::Intake& intake_;
  const IngressGate& gate_;
  std::atomic<std::int64_t>& in_pipeline_;
  std::atomic<bool> stopping_{false};
  proton::connection_options options_;
  ConnectorMetrics metrics_;
  proton::container* container_ = nullptr;
  // Event loop only from here on.
  proton::connection connection_;
  proton::receiver receiver_;
  std::shared_ptr<Session> session_;
  int attempts_ = 0;
  Clock::time_point next_attempt_{};
  Clock::time_point hold_until_{};  // no credit before (after an internal error)
  std::string last_condition_;
  std::mt19937 random_;
};

BrokerConnector::BrokerConnector(const config::ConnectorEntry& entry, const config::Limits& limits,
                                 pipeline::Intake& intake, const IngressGate& gate,
                                 std::atomic<std::int64_t>& in_pipeline)
    : handler_(std::make_unique<Handler>(entry, limits, intake, gate, in_pipeline)) {}

BrokerConnector::~BrokerConnector() = default;

void BrokerConnector::set_metrics(const ConnectorMetrics& metrics) {
  handler_->set_metrics(metrics);
}

Status BrokerConnector::prepare() { return handler_->prepare(); }

void BrokerConnector::start(proton::container& container) { handler_->start(container); }

void BrokerConnector::stop() { handler_->stop(); }

}  // namespace ozghub::ingress
