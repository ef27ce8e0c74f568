#include "status/event_log.hpp"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>

namespace ozghub::status {
namespace {

constexpr char kEvent = 'e';
constexpr char kCursor = 'c';
constexpr char kFloor = 'f';
constexpr char kCaseSender = 's';

void put_u64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

std::uint64_t get_u64(std::string_view in) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8 && i < in.size(); ++i)
    v = (v << 8) | static_cast<std::uint8_t>(in[i]);
  return v;
}

std::string sender_prefix(const std::string& sender) {
  std::string k(1, kEvent);
  k += sender;
  k.push_back('\0');
  return k;
}

std::string record_key(char kind, std::string_view name) {
  std::string k(1, kind);
  k += name;
  return k;
}

std::string u64_value(std::uint64_t v) {
  std::string out;
  put_u64(out, v);
  return out;
}

void put_short(std::string& v, const std::string& s) {
  const std::size_t n = std::min<std::size_t>(s.size(), 255);
  v.push_back(static_cast<char>(n));
  v.append(s, 0, n);
}

bool get_short(std::string_view& in, std::string& out) {
  if (in.empty()) return false;
  const auto n = static_cast<std::uint8_t>(in[0]);
  if (in.size() < 1u + n) return false;
  out.assign(in.substr(1, n));
  in.remove_prefix(1u + n);
  return true;
}

// at_ms(u64 BE) type(u8), u8 length + case_number, u8 length + event_id, then the JSON body.
std::string event_value(const StatusEvent& e, const std::string& body) {
  std::string v;
  v.reserve(11 + e.case_number.size() + e.event_id.size() + body.size());
  put_u64(v, static_cast<std::uint64_t>(e.at_ms));
  v.push_back(static_cast<char>(e.type));
  put_short(v, e.case_number);
  put_short(v, e.event_id);
  v += body;
  return v;
}

bool decode_value(std::string_view v, EventLog::Stored& out) {
  if (v.size() < 9) return false;
  const auto type = static_cast<std::uint8_t>(v[8]);
  if (type >= kEventTypes) return false;
  out.type = static_cast<EventType>(type);
  v.remove_prefix(9);
  if (!get_short(v, out.case_number) || !get_short(v, out.event_id)) return false;
  out.body.assign(v);
  return true;
}

Status from_rocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::ok();
  if (s.IsCorruption()) return Status::corruption(what + ": " + s.ToString());
  return Status::io_error(what + ": " + s.ToString());
}

// A sender whose events can be keyed and addressed (status/<sender>).
bool addressable(const std::string& sender) {
  return !sender.empty() && sender.find('\0') == std::string::npos;
}

}  // namespace

std::string EventLog::event_key(const std::string& sender, std::uint64_t seq) {
  std::string k = sender_prefix(sender);
  put_u64(k, seq);
  return k;
}

EventLog::Ticket::~Ticket() { log_.release(*this); }

Result<std::unique_ptr<EventLog>> EventLog::open(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf,
                                                 EventLogOptions options) {
  std::unique_ptr<EventLog> log(new EventLog(db, cf, options));
  if (Status s = log->load(); !s.is_ok()) return s;
  return log;
}

Status EventLog::load() {
  std::unique_ptr<rocksdb::Iterator> it(db_.NewIterator(rocksdb::ReadOptions(), cf_));
  for (char kind : {kCursor, kFloor}) {
    const std::string start(1, kind);
    for (it->Seek(start); it->Valid() && it->key().starts_with(start); it->Next()) {
      const std::string sender(it->key().ToStringView().substr(1));
      const std::uint64_t v = get_u64(it->value().ToStringView());
      SenderState& st = senders_[sender];
      (kind == kCursor ? st.cursor : st.floor) = v;
      st.next = std::max(st.next, v + 1);
    }
  }
  // One seek to each sender's last event, one to the next sender: none per event.
  const std::string events(1, kEvent);
  it->Seek(events);
  while (it->Valid() && it->key().starts_with(events)) {
    const std::string_view key = it->key().ToStringView();
    const auto sep = key.find('\0');
    if (sep == std::string_view::npos || key.size() != sep + 9) {
      return Status::corruption("malformed status event key in the store");
    }
    const std::string sender(key.substr(1, sep - 1));
    it->SeekForPrev(event_key(sender, ~std::uint64_t{0}));
    if (!it->Valid()) break;
    const std::uint64_t last = get_u64(it->key().ToStringView().substr(sep + 1));
    SenderState& st = senders_[sender];
    st.next = std::max(st.next, last + 1);
    std::string after = record_key(kEvent, sender);
    after.push_back('\1');
    it->Seek(after);
  }
  return from_rocks(it->status(), "reading the status events failed");
}

void EventLog::set_listener(std::function<void(const std::string&)> listener) {
  std::lock_guard lock(mutex_);
  listener_ = std::move(listener);
}

void EventLog::append(rocksdb::WriteBatch& batch, Ticket& ticket, StatusEvent& e) {
  e.event_id = new_event_id();
  {
    std::lock_guard lock(mutex_);
    SenderState& st = senders_[e.sender];
    e.seq = st.next++;
    st.in_flight.insert(e.seq);
  }
  ticket.taken_.emplace_back(e.sender, e.seq);
  ++ticket.counts_[static_cast<std::size_t>(e.type)];
  batch.Put(cf_, event_key(e.sender, e.seq), event_value(e, to_json(e)));
}

void EventLog::release(Ticket& ticket) {
  if (ticket.taken_.empty()) return;
  std::vector<std::string> woken;
  std::function<void(const std::string&)> listener;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [sender, seq] : ticket.taken_) {
      senders_[sender].in_flight.erase(seq);
      if (std::find(woken.begin(), woken.end(), sender) == woken.end()) woken.push_back(sender);
    }
    listener = listener_;
  }
  for (std::size_t t = 0; t < kEventTypes; ++t) {
    written_[t].fetch_add(ticket.counts_[t], std::memory_order_relaxed);
  }
  if (listener) {
    for (const auto& sender : woken) listener(sender);
  }
}

std::optional<std::string> EventLog::sender_of(const std::string& case_number) const {
  std::string sender;
  auto s = db_.Get(rocksdb::ReadOptions(), cf_, record_key(kCaseSender, case_number), &sender);
  if (!s.ok()) return std::nullopt;
  return sender;
}

void EventLog::accepted(rocksdb::WriteBatch& batch, Ticket& ticket, const std::string& sender,
                        const std::string& case_number, const std::string& office_id,
                        const std::string& message_id, std::int64_t now_ms) {
  if (!options_.enabled || !addressable(sender)) return;
  StatusEvent e;
  e.type = EventType::kAccepted;
  e.sender = sender;
  e.case_number = case_number;
  e.at_ms = now_ms;
  e.office_id = office_id;
  e.message_id = message_id;
  batch.Put(cf_, record_key(kCaseSender, case_number), sender);
  append(batch, ticket, e);
}

void EventLog::channel_event(rocksdb::WriteBatch& batch, Ticket& ticket, EventType type,
                             const std::string& case_number, std::uint16_t channel,
                             const std::string& adapter, std::int32_t attempts,
                             std::int64_t retry_at_ms, std::int64_t now_ms) {
  if (!options_.enabled) return;
  auto sender = sender_of(case_number);
  if (!sender) return;  // no sender, or committed before status events were enabled
  StatusEvent e;
  e.type = type;
  e.sender = std::move(*sender);
  e.case_number = case_number;
  e.at_ms = now_ms;
  e.channel = channel;
  e.adapter = adapter;
  e.attempts = attempts;
  e.retry_at_ms = retry_at_ms;
  append(batch, ticket, e);
}

void EventLog::deleted(rocksdb::WriteBatch& batch, Ticket& ticket, const std::string& case_number,
                       std::int64_t now_ms) {
  if (!options_.enabled) return;
  auto sender = sender_of(case_number);
  if (!sender) return;
  StatusEvent e;
  e.type = EventType::kDeleted;
  e.sender = std::move(*sender);
  e.case_number = case_number;
  e.at_ms = now_ms;
  batch.Delete(cf_, record_key(kCaseSender, case_number));
  append(batch, ticket, e);
}

Result<std::vector<EventLog::Stored>> EventLog::read(const std::string& sender, std::uint64_t after,
                                                     std::size_t limit) const {
  std::vector<Stored> out;
  std::uint64_t readable = 0;
  {
    std::lock_guard lock(mutex_);
    auto st = senders_.find(sender);
    if (st == senders_.end()) return out;
    readable = st->second.readable();
  }
  if (after >= readable || limit == 0) return out;
  const std::string prefix = sender_prefix(sender);
  std::unique_ptr<rocksdb::Iterator> it(db_.NewIterator(rocksdb::ReadOptions(), cf_));
  for (it->Seek(event_key(sender, after + 1)); it->Valid() && out.size() < limit; it->Next()) {
    const std::string_view key = it->key().ToStringView();
    if (!key.starts_with(prefix)) break;
    Stored e;
    e.seq = get_u64(key.substr(prefix.size()));
    if (e.seq > readable) break;
    if (!decode_value(it->value().ToStringView(), e)) {
      return Status::corruption("malformed status event in the store");
    }
    out.push_back(std::move(e));
  }
  if (Status s = from_rocks(it->status(), "reading status events failed"); !s.is_ok()) return s;
  return out;
}

std::uint64_t EventLog::cursor(const std::string& sender) const {
  std::lock_guard lock(mutex_);
  auto st = senders_.find(sender);
  return st == senders_.end() ? 0 : st->second.cursor;
}

void EventLog::ack(const std::string& sender, std::uint64_t seq) {
  std::lock_guard lock(mutex_);
  SenderState& st = senders_[sender];
  if (seq <= st.cursor) return;
  st.cursor = std::min(seq, st.readable());
  st.cursor_dirty = true;
}

Status EventLog::flush_cursors() {
  rocksdb::WriteBatch batch;
  {
    std::lock_guard lock(mutex_);
    for (auto& [sender, st] : senders_) {
      if (!st.cursor_dirty) continue;
      batch.Put(cf_, record_key(kCursor, sender), u64_value(st.cursor));
      st.cursor_dirty = false;
    }
  }
  if (batch.Count() == 0) return Status::ok();
  return from_rocks(db_.Write(rocksdb::WriteOptions(), &batch), "writing status cursors failed");
}

Result<EventSweep> EventLog::sweep(std::int64_t now_ms) {
  EventSweep r;
  struct Plan {
    std::string sender;
    std::uint64_t cursor, floor, readable;
  };
  std::vector<Plan> plans;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [sender, st] : senders_) {
      plans.push_back({sender, st.cursor, st.floor, st.readable()});
    }
  }
  const std::int64_t cutoff = now_ms - options_.retention.count();
  for (const Plan& p : plans) {
    // Everything up to `through` goes: what the sender accepted, what exceeds max_per_sender,
    // and what is older than the retention.
    std::uint64_t through = std::min(p.cursor, p.readable);
    if (p.readable > options_.max_per_sender) {
      through = std::max(through, p.readable - options_.max_per_sender);
    }
    const std::string prefix = sender_prefix(p.sender);
    std::unique_ptr<rocksdb::Iterator> it(db_.NewIterator(rocksdb::ReadOptions(), cf_));
    for (it->Seek(event_key(p.sender, through + 1)); it->Valid(); it->Next()) {
      const std::string_view key = it->key().ToStringView();
      if (!key.starts_with(prefix)) break;
      const std::uint64_t seq = get_u64(key.substr(prefix.size()));
      if (seq > p.readable ||
          static_cast<std::int64_t>(get_u64(it->value().ToStringView())) >= cutoff) {
        break;
      }
      through = seq;
    }
    if (Status s = from_rocks(it->status(), "reading status events failed"); !s.is_ok()) {
      return s;
    }
    if (through <= p.floor) continue;
    // How many records go (gaps are rare: a failed write).
    std::uint64_t removed = 0;
    for (it->Seek(event_key(p.sender, p.floor + 1)); it->Valid(); it->Next()) {
      const std::string_view key = it->key().ToStringView();
      if (!key.starts_with(prefix) || get_u64(key.substr(prefix.size())) > through) break;
      ++removed;
    }
    it.reset();
    rocksdb::WriteBatch batch;
    const std::string begin = event_key(p.sender, 0);
    const std::string end = event_key(p.sender, through + 1);
    batch.DeleteRange(cf_, begin, end);
    batch.Put(cf_, record_key(kFloor, p.sender), u64_value(through));
    if (Status s =
            from_rocks(db_.Write(rocksdb::WriteOptions(), &batch), "removing status events failed");
        !s.is_ok()) {
      return s;
    }
    {
      std::lock_guard lock(mutex_);
      senders_[p.sender].floor = through;
    }
    r.removed += removed;
    if (through > p.cursor) r.expired_unread += std::min(removed, through - p.cursor);
  }
  expired_unread_.fetch_add(r.expired_unread, std::memory_order_relaxed);
  return r;
}

std::uint64_t EventLog::pending() const {
  std::lock_guard lock(mutex_);
  std::uint64_t n = 0;
  for (const auto& [sender, st] : senders_) {
    const std::uint64_t done = std::max(st.cursor, st.floor);
    const std::uint64_t readable = st.readable();
    if (readable > done) n += readable - done;
  }
  return n;
}

}  // namespace ozghub::status
