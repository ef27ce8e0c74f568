// The status links: how a sender (portal) reads its status events over AMQP 1.0.
//
// A portal attaches a receiving link (the hub sends) with the source address `status/<sender>`.
// The hub refuses it with amqp:unauthorized-access unless the connection's authenticated
// identity (the `senders[].name` its login matched) is <sender>; an anonymous dev_mode
// connection may read any sender's events, as it may submit under any `sender` property. A new
// link for a sender that already has one takes over (the old one is closed with
// amqp:link:stolen), so a portal that reconnects before the hub noticed the old connection's end
// is not locked out.
//
// The hub sends the sender's events after its cursor in order, as far as the link has credit
// (the portal reads at its own pace): body = the JWS compact serialization (a string),
// message_id = the event id, subject = the event type, application properties case_number, type
// and seq, delivery tag = seq (8 bytes, big-endian). When the portal accepts, the cursor moves
// past every event accepted without a gap before it; rejected counts as accepted (resending
// cannot help), released or modified sends the event again. Whatever is not accepted when the
// link or the hub goes is sent again on the next attach: at least once, in order.
//
// Threads: the link methods run on the AMQP event loop and never touch RocksDB; one worker
// thread reads bounded batches (at most kBatch events, at most the link's credit), signs them and
// hands them back through the connection's work queue, and writes the cursors. New events wake
// the links of their sender at once (EventLog listener), without polling.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <proton/error_condition.hpp>
#include <proton/sender.hpp>
#include <proton/tracker.hpp>
#include <string>
#include <string_view>
#include <thread>

#include "status/event_log.hpp"
#include "status/jws_signer.hpp"
#include "status/status_metrics.hpp"

namespace proton {
class connection;
class work_queue;
}  // namespace proton

namespace ozghub::status {

inline constexpr std::string_view kStatusAddressPrefix = "status/";

class StatusFeed {
 public:
  static constexpr std::size_t kBatch = 64;

  // `signer` null: status events are not configured; every status link is refused.
  StatusFeed(EventLog& log, std::shared_ptr<const JwsSigner> signer, StatusMetrics* metrics);
  ~StatusFeed();
  StatusFeed(const StatusFeed&) = delete;
  StatusFeed& operator=(const StatusFeed&) = delete;

  void start();
  // Ends the worker, releases the links and writes the cursors. On the event loop's thread
  // after the loop has ended, before the listener (its container) is destroyed.
  void stop();

  static bool is_status_address(std::string_view address) {
    return address.substr(0, kStatusAddressPrefix.size()) == kStatusAddressPrefix;
  }

  // --- the event loop ---
  // Opens `s` (source `address`) or closes it with the returned condition. `identity`: the
  // connection's authenticated sender name; nullptr for an anonymous dev_mode connection.
  void attach(proton::sender& s, const std::string& address, const std::string* identity);
  bool owns(const proton::sender& s) const { return by_link_.count(s) != 0; }
  void on_sendable(proton::sender& s);
  enum class Outcome { kAccepted, kRejected, kReleased };
  void on_outcome(proton::tracker& t, Outcome outcome);
  void detach(const proton::sender& s);
  void forget(const proton::connection& c);

 private:
  // What the worker and the writers' threads may touch of a link.
  struct Shared {
    Shared(std::uint64_t i, std::string s, proton::work_queue* q)
        : id(i), sender(std::move(s)), queue(q) {}
    const std::uint64_t id;
    const std::string sender;
    std::mutex mutex;
    proton::work_queue* queue;  // null once the link is gone
    std::atomic<bool> wake_pending{false};
    // Runs `fn` on the link's event loop unless the link is gone.
    void post(std::function<void()> fn);
  };
  // The event loop's view of a link.
  struct Link {
    proton::sender link;
    std::shared_ptr<Shared> shared;
    std::uint64_t after = 0;  // events up to here were sent (or accepted before)
    bool fetching = false;
    bool may_have_more = true;                  // unread events may be waiting in the store
    std::map<std::uint64_t, bool> outstanding;  // sent, seq -> accepted
  };
  struct Signed {
    std::uint64_t seq = 0;
    EventType type = EventType::kAccepted;
    std::string case_number;
    std::string event_id;
    std::string jws;
  };

  void notify(const std::string& sender);  // a writer's thread
  void maybe_fetch(Link& l);
  void fetch(const std::shared_ptr<Shared>& shared, std::uint64_t after, std::size_t limit);
  void deliver(std::uint64_t id, std::vector<Signed> events, std::size_t limit);
  void close(std::uint64_t id, const proton::error_condition* why);
  void post_task(std::function<void()> task);
  void run();

  EventLog& log_;
  std::shared_ptr<const JwsSigner> signer_;
  StatusMetrics* metrics_;

  // Event loop only.
  std::map<std::uint64_t, Link> links_;
  std::map<proton::sender, std::uint64_t> by_link_;
  std::uint64_t next_id_ = 1;

  // Shared with the writers (notify) and the worker.
  std::mutex mutex_;
  std::multimap<std::string, std::shared_ptr<Shared>, std::less<>> by_sender_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool flush_pending_ = false;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace ozghub::status
