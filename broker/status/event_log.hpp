// The durable log of status events (status_event.hpp), one ordered stream per sender, in the
// store's RocksDB column family `status_events`:
//
//   'e' sender 0x00 seq(u64 BE) -> at_ms(u64 BE), type, case_number, event_id, the JSON body
//   'c' sender                  -> cursor(u64 BE): the sender accepted every event up to here
//   'f' sender                  -> floor(u64 BE): retention removed every event up to here
//   's' case_number             -> sender: whose case it is, for the events after `accepted`
//
// Writers: the store adds each event to the WriteBatch of the change it reports (accepted in
// the synced commit batch, delivered/failed/dead_lettered with the outbox change, deleted with
// the payload's deletion), so an event exists exactly when its change does. Sequence numbers are
// taken under a lock as the batch is built and may be written out of order by concurrent
// batches; a reader sees a sender's events only up to the highest number below which every
// batch is written (the Ticket releases its numbers once its batch is written or has failed; a
// failed batch leaves a gap, which readers skip). So a reader never passes an event that is
// still being written.
//
// Readers: the status links (status_feed.hpp) read bounded ranges after the sender's cursor and
// move the cursor as the portal accepts; the cursor is kept in memory and written by
// flush_cursors() (not synced: after a machine crash a few accepted events come again, which
// the portal recognises by event_id and seq).
//
// Retention (sweep(), the retention sweeper's thread): events the sender accepted are removed;
// so are events older than `retention` and the oldest beyond `max_per_sender` per sender, read
// or not (ozghub_status_events_expired_total counts the unread ones).
//
// Cases without a sender (an anonymous dev_mode submission without a `sender` property) have no
// events: nobody could read them.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/status.hpp"
#include "status/status_event.hpp"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
}  // namespace rocksdb

namespace ozghub::status {

struct EventLogOptions {
  bool enabled = false;  // false: nothing is written (no signing key configured)
  std::chrono::milliseconds retention{std::chrono::hours(24 * 7)};
  std::uint64_t max_per_sender = 1'000'000;
};

// What sweep() did.
struct EventSweep {
  std::uint64_t removed = 0;         // events removed (read or not)
  std::uint64_t expired_unread = 0;  // of those, never accepted by the sender
};

class EventLog {
 public:
  // The sequence numbers one batch took. Destroy it after the batch is written (or failed):
  // then its events become readable and the listener hears of them.
  class Ticket {
   public:
    explicit Ticket(EventLog& log) : log_(log) {}
    ~Ticket();
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;

   private:
    friend class EventLog;
    EventLog& log_;
    std::vector<std::pair<std::string, std::uint64_t>> taken_;
    std::array<std::uint64_t, kEventTypes> counts_{};
  };

  // Loads each sender's position (a few seeks per sender, none per event).
  static Result<std::unique_ptr<EventLog>> open(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf,
                                                EventLogOptions options);
  bool enabled() const { return options_.enabled; }

  // --- writers: add the event to `batch` ---
  void accepted(rocksdb::WriteBatch& batch, Ticket& ticket, const std::string& sender,
                const std::string& case_number, const std::string& office_id,
                const std::string& message_id, std::int64_t now_ms);
  // delivered, failed, dead_lettered: the case's sender is looked up (one point read).
  void channel_event(rocksdb::WriteBatch& batch, Ticket& ticket, EventType type,
                     const std::string& case_number, std::uint16_t channel,
                     const std::string& adapter, std::int32_t attempts, std::int64_t retry_at_ms,
                     std::int64_t now_ms);
  // deleted; also forgets the case's sender.
  void deleted(rocksdb::WriteBatch& batch, Ticket& ticket, const std::string& case_number,
               std::int64_t now_ms);

  // Called after a batch's events became readable, on the writer's thread, once per sender
  // with new events. Must be quick and must not call back into writers. Set before use.
  void set_listener(std::function<void(const std::string& sender)> listener);

  // --- readers ---
  struct Stored {
    std::uint64_t seq = 0;
    std::string body;  // the JSON
    EventType type = EventType::kAccepted;
    std::string case_number;
    std::string event_id;
  };
  // Up to `limit` readable events of `sender` with seq > `after`, in order.
  Result<std::vector<Stored>> read(const std::string& sender, std::uint64_t after,
                                   std::size_t limit) const;
  // Everything up to here was accepted by the sender (0: nothing).
  std::uint64_t cursor(const std::string& sender) const;
  // The sender accepted everything up to `seq` (in memory; flush_cursors() writes it).
  void ack(const std::string& sender, std::uint64_t seq);
  Status flush_cursors();

  Result<EventSweep> sweep(std::int64_t now_ms);

  // Events written and not yet accepted, over all senders (gaps counted: an upper bound).
  std::uint64_t pending() const;
  // Events written since open, per type (metrics).
  std::uint64_t written(EventType type) const {
    return written_[static_cast<std::size_t>(type)].load(std::memory_order_relaxed);
  }

  // Unread events removed by retention since open (metrics).
  std::uint64_t expired_unread() const { return expired_unread_.load(std::memory_order_relaxed); }

  // Key helpers, exposed for tests.
  static std::string event_key(const std::string& sender, std::uint64_t seq);

 private:
  struct SenderState {
    std::uint64_t next = 1;             // the next sequence number to take
    std::set<std::uint64_t> in_flight;  // taken, batch not written yet
    std::uint64_t cursor = 0;
    std::uint64_t floor = 0;
    bool cursor_dirty = false;
    std::uint64_t readable() const { return in_flight.empty() ? next - 1 : *in_flight.begin() - 1; }
  };

  EventLog(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf, EventLogOptions options)
      : db_(db), cf_(cf), options_(options) {}
  Status load();
  void append(rocksdb::WriteBatch& batch, Ticket& ticket, StatusEvent& e);
  void release(Ticket& ticket);
  std::optional<std::string> sender_of(const std::string& case_number) const;

  rocksdb::DB& db_;
  rocksdb::ColumnFamilyHandle* cf_;
  EventLogOptions options_;
  mutable std::mutex mutex_;
  std::map<std::string, SenderState, std::less<>> senders_;
  std::function<void(const std::string&)> listener_;
  std::array<std::atomic<std::uint64_t>, kEventTypes> written_{};
  std::atomic<std::uint64_t> expired_unread_{0};
};

}  // namespace ozghub::status
