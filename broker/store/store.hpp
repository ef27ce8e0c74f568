// The durable store: RocksDB, one column family per kind of record.
//
//   cases        case_number -> encoded Case (record_codec.hpp)
//   idempotency  sender 0x00 message_id -> case_number
//   outbox       case_number 0x00 channel(u16 BE) -> OutboxEntry (a delivery still to do)
//   deadletters  case_number 0x00 channel(u16 BE) -> OutboxEntry (attempts and last error)
//   schedule     adapter 0x00 due_ms(u64 BE) case_number 0x00 channel(u16 BE) -> empty: the
//                outbox in the order each adapter instance delivers it (due first, then case);
//                written in the same batch as every outbox change, so delivery lanes page
//                their backlog in from here instead of holding it in memory
//   default      meta: the case number generator's state, the schedule index's version
//
// commit() is the only place an application becomes durable: one synced WriteBatch for many
// applications (group commit). Everything after it (delivery bookkeeping) is written without
// sync: losing such a write after a machine crash only repeats a delivery, which the adapters
// recognise by the case number.
//
// Thread-safety: commit() is called by one thread (the committer); the other methods may be
// called from any thread concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/application.hpp"
#include "common/status.hpp"
#include "store/case_number.hpp"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace ozghub::store {

// One of the office's channels as a delivery is committed for it.
struct ChannelRef {
  std::string adapter;  // the adapter instance
  std::string key;      // identifies the channel's configuration (pipeline::BoundChannel::key)
};

struct CommitItem {
  // in
  Case* case_ = nullptr;  // office_id and app set; case_number is filled in
  // Each of the office's channels: one outbox entry per channel.
  std::span<const ChannelRef> channels;
  // out
  // (sender, message_id) was committed before: case_number and office_id are the old ones
  bool duplicate = false;
};

// Where a delivery stands in its adapter instance's schedule: due first (0: at once), then case
// number and channel. Ordered as the store orders the schedule.
struct ScheduleKey {
  std::int64_t due_ms = 0;
  std::string case_number;
  std::uint16_t channel = 0;
  auto operator<=>(const ScheduleKey&) const = default;  // NOLINT(modernize-use-nullptr)
};

struct OutboxEntry {
  std::string case_number;
  std::uint16_t channel = 0;  // index into the office's channels at commit time
  std::string office_id;
  std::string adapter;        // the channel's adapter instance at commit time
  std::string channel_key;    // the channel's configuration at commit time (ChannelRef::key)
  std::int32_t attempts = 0;  // attempts made so far
  std::int64_t due_ms = 0;    // when to try next (0: now); for a dead letter: when it died
  std::string last_error;     // free of personal data

  ScheduleKey schedule_key() const { return {due_ms, case_number, channel}; }
};

class Store {
 public:
  // Opens the database in `dir`, or creates it when `dir` is missing or empty. An existing
  // database is checked first, read-only, without changing a byte: its MANIFEST, the WAL (an
  // incomplete record at its tail, as a crash leaves it, is fine; damage before that is not)
  // and the checksum of every block of every SST file. A damaged database (a missing CURRENT
  // file included) is refused with kCorruption and damaged_store_message(), and logged as
  // `store.damaged`; nothing is repaired or skipped.
  static Result<std::unique_ptr<Store>> open(const std::string& dir);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Group commit of new cases: assigns case numbers, suppresses duplicates (also within the
  // batch), writes cases, idempotency keys and outbox entries in one synced batch. When this
  // returns ok every item is durable. A failed write is fail-stop for the caller: nothing of the
  // batch may be acknowledged.
  Status commit(std::span<CommitItem> items, std::int64_t now_ms);

  Result<Case> load_case(const std::string& case_number) const;

  // Whether (sender, message_id) was committed already. Safe from any thread.
  bool is_committed(const std::string& sender, const std::string& message_id) const;

  // Delivery bookkeeping (not synced, see above).
  Status record_delivered(const OutboxEntry& e);
  Status record_retry(const OutboxEntry& e);        // updates attempts, due, last error
  Status record_dead_letter(const OutboxEntry& e);  // moves the entry to the dead letters

  // Dead-letter administration (synced). replay moves a dead letter back into the outbox with
  // `e`'s attempts and due time; purge deletes it. Both answer not_found when there is no dead
  // letter for (case, channel).
  Status replay_dead_letter(const OutboxEntry& e);
  Status purge_dead_letter(const std::string& case_number, std::uint16_t channel);
  // The dead letters of one case, in channel order.
  Result<std::vector<OutboxEntry>> dead_letters_of(const std::string& case_number) const;

  // The schedule of one adapter instance: up to `limit` pending deliveries after `after`
  // (nullopt: from its start), in schedule order, as of one snapshot.
  Result<std::vector<OutboxEntry>> scheduled(const std::string& adapter,
                                             const std::optional<ScheduleKey>& after,
                                             std::size_t limit) const;
  // How many deliveries each adapter instance's schedule holds (reads the index, not the
  // entries: startup).
  Result<std::map<std::string, std::size_t, std::less<>>> count_scheduled() const;
  // Whether `e` is still owed as scheduled (its outbox entry exists with the same due time):
  // false for a stale copy of a delivery done, retried or dead-lettered meanwhile (true when
  // the store cannot be read).
  bool is_scheduled(const OutboxEntry& e) const;

  // Iterates all pending deliveries or dead letters. Stops at the first non-ok Status the
  // callback returns.
  Status scan_outbox(const std::function<Status(OutboxEntry)>& fn) const;
  Status scan_dead_letters(const std::function<Status(OutboxEntry)>& fn) const;

 private:
  Store() = default;
  Status scan(rocksdb::ColumnFamilyHandle* cf, const std::function<Status(OutboxEntry)>& fn) const;
  // The outbox entry as stored now (to find its schedule key), or not_found.
  Result<OutboxEntry> stored_entry(const OutboxEntry& e) const;
  // Builds the schedule index of a store written before it existed.
  Status index_schedule();

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  rocksdb::ColumnFamilyHandle* cases_ = nullptr;
  rocksdb::ColumnFamilyHandle* idempotency_ = nullptr;
  rocksdb::ColumnFamilyHandle* outbox_ = nullptr;
  rocksdb::ColumnFamilyHandle* deadletters_ = nullptr;
  rocksdb::ColumnFamilyHandle* schedule_ = nullptr;
  CaseNumberGenerator case_numbers_;  // committer thread only
};

// What an operator reads when the store is damaged: which store, what RocksDB or our own record
// check found, and what to do (restore from backup; never delete).
std::string damaged_store_message(const std::string& dir, const std::string& detail);

// Key helpers, exposed for tests.
std::string outbox_key(const std::string& case_number, std::uint16_t channel);
std::string schedule_key(const std::string& adapter, const ScheduleKey& k);
std::string idempotency_key(const std::string& sender, const std::string& message_id);

}  // namespace ozghub::store
