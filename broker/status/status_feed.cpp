#include "status/status_feed.hpp"

#include <chrono>
#include <proton/binary.hpp>
#include <proton/connection.hpp>
#include <proton/message.hpp>
#include <proton/message_id.hpp>
#include <proton/sender_options.hpp>
#include <proton/source.hpp>
#include <proton/source_options.hpp>
#include <proton/work_queue.hpp>

#include "common/log.hpp"
#include "common/thread_name.hpp"

namespace ozghub::status {
namespace {

proton::binary seq_tag(std::uint64_t seq) {
  proton::binary tag(8, 0);
  for (int i = 0; i < 8; ++i)
    tag[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(seq >> (56 - 8 * i));
  return tag;
}

std::uint64_t tag_seq(const proton::binary& tag) {
  std::uint64_t seq = 0;
  for (auto b : tag) seq = (seq << 8) | b;
  return tag.size() == 8 ? seq : 0;
}

void refuse(proton::sender& s, const std::string& condition, const std::string& description) {
  s.open();
  s.close(proton::error_condition(condition, description));
}

}  // namespace

void StatusFeed::Shared::post(std::function<void()> fn) {
  std::lock_guard lock(mutex);
  if (queue != nullptr) queue->add(std::move(fn));
}

StatusFeed::StatusFeed(EventLog& log, std::shared_ptr<const JwsSigner> signer,
                       StatusMetrics* metrics)
    : log_(log), signer_(std::move(signer)), metrics_(metrics) {
  log_.set_listener([this](const std::string& sender) { notify(sender); });
}

StatusFeed::~StatusFeed() {
  stop();
  log_.set_listener({});
}

void StatusFeed::start() {
  worker_ = std::thread([this] {
    set_thread_name("status-feed");
    run();
  });
}

void StatusFeed::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  // The event loop has ended (this is its thread): release the Proton objects while the
  // container that owns them still exists, and let no writer post to a dead work queue.
  for (auto& [id, l] : links_) {
    std::lock_guard lock(l.shared->mutex);
    l.shared->queue = nullptr;
  }
  {
    std::lock_guard lock(mutex_);
    by_sender_.clear();
  }
  by_link_.clear();
  links_.clear();
  if (Status s = log_.flush_cursors(); !s.is_ok()) {
    log::error("status.cursor_write_failed", {{"error", s.message()}});
  }
}

void StatusFeed::post_task(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void StatusFeed::run() {
  auto refreshed = std::chrono::steady_clock::now();
  std::unique_lock lock(mutex_);
  for (;;) {
    cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_ || !tasks_.empty(); });
    if (stopping_) return;
    while (!tasks_.empty()) {
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      lock.lock();
      if (stopping_) return;
    }
    if (metrics_ != nullptr &&
        std::chrono::steady_clock::now() - refreshed >= std::chrono::seconds(1)) {
      refreshed = std::chrono::steady_clock::now();
      lock.unlock();
      metrics_->refresh();
      lock.lock();
    }
  }
}

// --- a writer's thread -------------------------------------------------------------------------

void StatusFeed::notify(const std::string& sender) {
  std::lock_guard lock(mutex_);
  auto [first, last] = by_sender_.equal_range(sender);
  for (auto it = first; it != last; ++it) {
    Shared& shared = *it->second;
    if (shared.wake_pending.exchange(true)) continue;  // a wake is on its way already
    shared.post([this, id = shared.id] {
      auto l = links_.find(id);
      if (l == links_.end()) return;
      l->second.shared->wake_pending = false;
      l->second.may_have_more = true;
      maybe_fetch(l->second);
    });
  }
}

// --- the worker --------------------------------------------------------------------------------

void StatusFeed::fetch(const std::shared_ptr<Shared>& shared, std::uint64_t after,
                       std::size_t limit) {
  std::vector<Signed> out;
  auto events = log_.read(shared->sender, after, limit);
  if (!events) {
    log::error("status.read_failed", {{"error", events.status().message()}});
  } else {
    out.reserve(events->size());
    for (auto& e : *events) {
      auto jws = signer_->sign(e.body);
      if (!jws) {
        log::error("status.sign_failed", {{"error", jws.status().message()}});
        break;  // never skip one: the cursor would pass it
      }
      out.push_back(
          {e.seq, e.type, std::move(e.case_number), std::move(e.event_id), std::move(*jws)});
    }
  }
  shared->post([this, id = shared->id, events = std::move(out), limit]() mutable {
    deliver(id, std::move(events), limit);
  });
}

// --- the event loop ----------------------------------------------------------------------------

void StatusFeed::attach(proton::sender& s, const std::string& address,
                        const std::string* identity) {
  const std::string sender = address.substr(kStatusAddressPrefix.size());
  if (!signer_ || !log_.enabled()) {
    refuse(s, "amqp:not-found", "status events are not enabled on this hub");
    return;
  }
  if (sender.empty() || sender.find('\0') != std::string::npos) {
    refuse(s, "amqp:not-found", "a status address is 'status/<sender>'");
    return;
  }
  if (identity != nullptr && *identity != sender) {
    log::warn("status.link_refused", {{"sender", *identity}, {"address", address}});
    refuse(s, "amqp:unauthorized-access",
           "this login may read only 'status/" + *identity + "', not '" + address + "'");
    return;
  }
  std::vector<std::uint64_t> older;
  for (const auto& [id, l] : links_) {
    if (l.shared->sender == sender) older.push_back(id);
  }
  const proton::error_condition stolen("amqp:link:stolen",
                                       "a newer link for '" + address + "' took over");
  for (auto id : older) close(id, &stolen);

  s.open(proton::sender_options().source(proton::source_options().address(address)));
  const std::uint64_t id = next_id_++;
  auto shared = std::make_shared<Shared>(id, sender, &s.connection().work_queue());
  Link& l = links_[id];
  l.link = s;
  l.shared = shared;
  l.after = log_.cursor(sender);
  by_link_[s] = id;
  {
    std::lock_guard lock(mutex_);
    by_sender_.emplace(sender, shared);
  }
  if (metrics_ != nullptr) metrics_->link_attached();
  log::info("status.link_attached", {{"sender", sender}, {"after_seq", std::to_string(l.after)}});
  maybe_fetch(l);
}

void StatusFeed::on_sendable(proton::sender& s) {
  auto it = by_link_.find(s);
  if (it == by_link_.end()) return;
  maybe_fetch(links_.at(it->second));
}

void StatusFeed::maybe_fetch(Link& l) {
  if (l.fetching || !l.may_have_more) return;
  const int credit = l.link.credit();
  if (credit <= 0) return;
  const std::size_t limit = std::min<std::size_t>(static_cast<std::size_t>(credit), kBatch);
  l.fetching = true;
  l.may_have_more = false;
  post_task([this, shared = l.shared, after = l.after, limit] { fetch(shared, after, limit); });
}

void StatusFeed::deliver(std::uint64_t id, std::vector<Signed> events, std::size_t limit) {
  auto it = links_.find(id);
  if (it == links_.end()) return;
  Link& l = it->second;
  l.fetching = false;
  std::size_t sent = 0;
  for (auto& e : events) {
    if (e.seq <= l.after) continue;  // rewound meanwhile, or sent already
    if (l.link.credit() <= 0) {
      l.may_have_more = true;
      break;
    }
    proton::message m;
    m.id(e.event_id);
    m.subject(type_name(e.type));
    m.durable(true);
    m.properties().put("case_number", e.case_number);
    m.properties().put("type", std::string(type_name(e.type)));
    m.properties().put("seq", e.seq);
    m.body(std::move(e.jws));
    l.link.send(m, seq_tag(e.seq));
    l.outstanding[e.seq] = false;
    l.after = e.seq;
    ++sent;
  }
  if (metrics_ != nullptr && sent > 0) metrics_->sent(sent);
  if (events.size() >= limit) l.may_have_more = true;
  maybe_fetch(l);
}

void StatusFeed::on_outcome(proton::tracker& t, Outcome outcome) {
  auto it = by_link_.find(t.sender());
  if (it == by_link_.end()) return;
  Link& l = links_.at(it->second);
  const std::uint64_t seq = tag_seq(t.tag());
  if (seq == 0) return;  // not one of ours
  if (outcome == Outcome::kReleased) {
    // Not taken: send it (and what followed it) again.
    l.outstanding.erase(l.outstanding.lower_bound(seq), l.outstanding.end());
    l.after = std::min(l.after, seq - 1);
    l.may_have_more = true;
    maybe_fetch(l);
    return;
  }
  auto o = l.outstanding.find(seq);
  if (o == l.outstanding.end()) return;
  if (outcome == Outcome::kRejected) {
    log::warn("status.event_rejected",
              {{"sender", l.shared->sender}, {"seq", std::to_string(seq)}});
  }
  o->second = true;
  std::uint64_t accepted = 0;
  while (!l.outstanding.empty() && l.outstanding.begin()->second) {
    accepted = l.outstanding.begin()->first;
    l.outstanding.erase(l.outstanding.begin());
  }
  if (accepted == 0) return;
  log_.ack(l.shared->sender, accepted);
  bool post = false;
  {
    std::lock_guard lock(mutex_);
    post = !flush_pending_;
    flush_pending_ = true;
  }
  if (post) {
    post_task([this] {
      {
        std::lock_guard lock(mutex_);
        flush_pending_ = false;
      }
      if (Status s = log_.flush_cursors(); !s.is_ok()) {
        log::error("status.cursor_write_failed", {{"error", s.message()}});
      }
    });
  }
}

void StatusFeed::detach(const proton::sender& s) {
  auto it = by_link_.find(s);
  if (it != by_link_.end()) close(it->second, nullptr);
}

void StatusFeed::forget(const proton::connection& c) {
  std::vector<std::uint64_t> gone;
  for (auto& [id, l] : links_) {
    if (l.link.connection() == c) gone.push_back(id);
  }
  for (auto id : gone) close(id, nullptr);
}

void StatusFeed::close(std::uint64_t id, const proton::error_condition* why) {
  auto it = links_.find(id);
  if (it == links_.end()) return;
  Link& l = it->second;
  {
    std::lock_guard lock(l.shared->mutex);
    l.shared->queue = nullptr;
  }
  {
    std::lock_guard lock(mutex_);
    auto [first, last] = by_sender_.equal_range(l.shared->sender);
    for (auto s = first; s != last; ++s) {
      if (s->second == l.shared) {
        by_sender_.erase(s);
        break;
      }
    }
  }
  if (why != nullptr) l.link.close(*why);
  if (metrics_ != nullptr) metrics_->link_detached();
  log::info("status.link_detached",
            {{"sender", l.shared->sender}, {"after_seq", std::to_string(l.after)}});
  by_link_.erase(l.link);
  links_.erase(it);
}

}  // namespace ozghub::status
