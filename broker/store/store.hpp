// The durable store: RocksDB, one column family per kind of record.
//
//   cases        case_number -> the encoded Case sealed under its data key (case_seal.hpp)
//   keys         case_number -> KEK id + wrapped data key (case_seal.hpp)
//   idempotency  sender 0x00 message_id -> case_number 0x00 office_id
//   outbox       case_number 0x00 channel(u16 BE) -> OutboxEntry (a delivery still to do)
//   deadletters  case_number 0x00 channel(u16 BE) -> OutboxEntry (attempts and last error)
//   schedule     adapter 0x00 due_ms(u64 BE) case_number 0x00 channel(u16 BE) -> empty: the
//                outbox in the order each adapter instance delivers it (due first, then case);
//                written in the same batch as every outbox change, so delivery lanes page
//                their backlog in from here instead of holding it in memory
//   audit        the audit trail, no personal data (audit_trail.hpp)
//   retention    kind ('p' payload, 'a' audit) due_ms(u64 BE) case_number -> "" (deletions due)
//   status_events  the senders' status events (status/event_log.hpp), each written in the batch
//                of the change it reports
//   default      meta: the case number generator's state, the store format ("2": sealed
//                cases and the schedule index)
//
// Lifecycle of a case: committed (sealed, key stored, audited) -> each channel delivered,
// dead-lettered, replayed or purged (audited) -> when no outbox entry and no dead letter is
// left, its deletion is scheduled at now + retention.payload -> the sweeper (sweep()) destroys
// the data key first (synced: from here the case is unreadable), then deletes the payload,
// flushes and compacts the deleted range so no ciphertext stays in the files -> the audit trail
// and the idempotency record are kept for retention.audit more, then deleted too. So a message
// re-sent after its case was deleted is still recognised as a duplicate (accepted with its old
// case number, not delivered again) until its audit trail expires.
//
// commit() is the only place an application becomes durable: one synced WriteBatch for many
// applications (group commit). Everything after it (delivery bookkeeping) is written without
// sync: losing such a write after a machine crash only repeats a delivery, which the adapters
// recognise by the case number.
//
// Thread-safety: commit() is called by one thread (the committer); the other methods may be
// called from any thread concurrently.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/application.hpp"
#include "common/status.hpp"
#include "crypto/keyring.hpp"
#include "status/event_log.hpp"
#include "store/audit_trail.hpp"
#include "store/case_number.hpp"
#include "store/case_seal.hpp"

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
  // The data key and hashes, made by a worker (prepare_case); made by commit() when absent.
  const PreparedCase* prepared = nullptr;
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

struct StoreOptions {
  // The KEKs. Null: one random KEK held in memory (tests; nothing stays readable after close).
  std::shared_ptr<crypto::KeyringState> keys;
  std::chrono::milliseconds payload_retention{std::chrono::hours(24 * 7)};
  std::chrono::milliseconds audit_retention{std::chrono::hours(24 * 730)};
  status::EventLogOptions status_events{};
  // The case number's instance digit (CaseNumberGenerator::set_instance); -1: none.
  int case_number_instance = -1;
};

// The file checkpoint() adds to a backup beside RocksDB's (which leaves unknown files alone).
inline constexpr char kBackupMarker[] = "OZGHUB-BACKUP.json";

// What checkpoint() made.
struct CheckpointInfo {
  std::string dir;
  std::uint64_t sequence = 0;  // the last write (RocksDB sequence number) it contains
  std::uint64_t bytes = 0;     // size of its files (hard links share space with the store)
  std::size_t files = 0;
  // On the store's file system, so its SST files are hard links (fast, no extra space until
  // compaction); false: they were copied, which takes as long as reading the whole store.
  bool hard_links = false;
};

// What one sweep did.
struct SweepResult {
  std::size_t cases_deleted = 0;
  std::size_t audits_expired = 0;
  std::size_t keys_rewrapped = 0;
};

class Store {
 public:
  // Opens the database in `dir`, or creates it when `dir` is missing or empty. An existing
  // database is checked first, read-only, without changing a byte: its MANIFEST, the WAL (an
  // incomplete record at its tail, as a crash leaves it, is fine; damage before that is not)
  // and the checksum of every block of every SST file. A damaged database (a missing CURRENT
  // file included) is refused with kCorruption and damaged_store_message(), and logged as
  // `store.damaged`; nothing is repaired or skipped.
  // A database written by a version that stored cases unencrypted is refused too (there is no
  // migration).
  static Result<std::unique_ptr<Store>> open(const std::string& dir, StoreOptions options = {});
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Group commit of new cases: assigns case numbers, suppresses duplicates (also within the
  // batch), writes cases, idempotency keys and outbox entries in one synced batch. When this
  // returns ok every item is durable. A failed write is fail-stop for the caller: nothing of the
  // batch may be acknowledged.
  Status commit(std::span<CommitItem> items, std::int64_t now_ms);

  // not_found when the case or its data key is gone (deleted after its retention).
  Result<Case> load_case(const std::string& case_number) const;

  // The audit trail of a case, one JSON object per event in time order; not_found when none.
  Result<std::vector<std::string>> audit_trail(const std::string& case_number) const;
  // Whether the case's payload is still stored (false once its data key is destroyed).
  bool has_payload(const std::string& case_number) const;

  // Retention, run by one thread (retention_sweeper.hpp): deletes cases whose retention is over
  // (data key first), expires audit trails, and re-wraps up to `rewrap_limit` data keys held by
  // a KEK that is not the active one. Compacts what it deleted.
  Result<SweepResult> sweep(std::int64_t now_ms, std::size_t rewrap_limit);
  // The first step of deleting a case (exposed for tests): destroys its data key, synced.
  Status destroy_key(const std::string& case_number, std::int64_t now_ms);
  // Data keys stored, per KEK id (the KEKs an operator may not remove yet).
  std::map<std::string, std::int64_t> data_keys_per_kek() const;
  // The stored (sealed) record of a case, exactly as in the database (tests).
  Result<std::string> sealed_record(const std::string& case_number) const;

  // The senders' status events, written by this store's batches (status/event_log.hpp).
  status::EventLog& status_events() const { return *status_; }

  // Whether (sender, message_id) was committed already. Safe from any thread.
  bool is_committed(const std::string& sender, const std::string& message_id) const;

  // Delivery bookkeeping (not synced, see above). `e` as it was scheduled (record_delivered) or
  // with its new state; `was_due_ms`: the due time it was scheduled for, whose schedule key goes.
  Status record_delivered(const OutboxEntry& e);
  // Updates attempts, due time and last error.
  Status record_retry(const OutboxEntry& e, std::int64_t was_due_ms);
  // Moves the entry to the dead letters (synced).
  Status record_dead_letter(const OutboxEntry& e, std::int64_t was_due_ms);

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

  // A backup of the whole database as of one moment, taken while it runs (store_checkpoint.cpp):
  // rocksdb::Checkpoint into `dir`, which must not exist (its parent must). Everything the
  // store holds is in it, consistent across column families (cases, keys, outbox, audit, the
  // case number generator's state); the KEKs are not. Any thread; writers are not stopped.
  // The backup carries a marker file (kBackupMarker): open() of a restored copy sees it, skips
  // the case numbers past those the lost daemon may have issued after the backup
  // (CaseNumberGenerator::skip_after_restore), logs `store.restored_from_backup` and removes it.
  Result<CheckpointInfo> checkpoint(const std::string& dir) const;

  // Iterates all pending deliveries or dead letters. Stops at the first non-ok Status the
  // callback returns.
  Status scan_outbox(const std::function<Status(OutboxEntry)>& fn) const;
  Status scan_dead_letters(const std::function<Status(OutboxEntry)>& fn) const;

  // For the metrics (store_metrics.hpp; store_stats.cpp), any thread. The store's size: the live
  // files and memtables of every column family, and what compaction still has to rewrite
  // (RocksDB's estimate), in bytes.
  struct SizeStats {
    std::uint64_t bytes = 0;
    std::uint64_t pending_compaction_bytes = 0;
  };
  SizeStats size_stats() const;
  // When the oldest case still owed a delivery (an outbox entry; dead letters are not owed
  // until replayed) was committed, UTC milliseconds; nullopt when nothing is owed. Two seeks.
  Result<std::optional<std::int64_t>> oldest_owed_commit_ms() const;

 private:
  Store() = default;
  Status scan(rocksdb::ColumnFamilyHandle* cf, const std::function<Status(OutboxEntry)>& fn) const;
  // open(): when `dir` is a restored backup (store_checkpoint.cpp).
  Status adopt_restored_backup(const std::string& dir);
  // Writes the case number generator's state, synced.
  Status persist_case_numbers();
  bool has_prefix(rocksdb::ColumnFamilyHandle* cf, const std::string& prefix) const;
  // Removes a finished delivery (delivered, or its dead letter purged) from `from`, audited, and
  // schedules the case's deletion when it was the case's last one.
  Status finish_channel(const OutboxEntry& e, rocksdb::ColumnFamilyHandle* from, AuditKind kind,
                        bool sync);
  Status delete_case(const std::string& case_number, std::int64_t now_ms, bool& deleted);
  Status expire_audit(const std::string& case_number, bool& expired);
  Result<std::size_t> rewrap(std::size_t limit);
  Status compact(rocksdb::ColumnFamilyHandle* cf, const std::string& first,
                 const std::string& last);
  void count_key(const std::string& kek_id, std::int64_t delta);

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  rocksdb::ColumnFamilyHandle* cases_ = nullptr;
  rocksdb::ColumnFamilyHandle* idempotency_ = nullptr;
  rocksdb::ColumnFamilyHandle* outbox_ = nullptr;
  rocksdb::ColumnFamilyHandle* deadletters_ = nullptr;
  rocksdb::ColumnFamilyHandle* schedule_ = nullptr;
  rocksdb::ColumnFamilyHandle* keys_ = nullptr;
  rocksdb::ColumnFamilyHandle* audit_ = nullptr;
  rocksdb::ColumnFamilyHandle* retention_ = nullptr;
  rocksdb::ColumnFamilyHandle* status_cf_ = nullptr;
  std::unique_ptr<status::EventLog> status_;
  CaseNumberGenerator case_numbers_;  // committer thread only
  StoreOptions options_;
  std::array<std::mutex, 64> finish_mutexes_;  // finish_channel, striped by case number
  mutable std::mutex counts_mutex_;
  std::map<std::string, std::int64_t> deks_per_kek_;
  // Where the next rewrap() round starts (empty: the first key). Only the sweeper calls rewrap.
  std::string rewrap_from_;
};

// What an operator reads when the store is damaged: which store, what RocksDB or our own record
// check found, and what to do (restore from backup; never delete).
std::string damaged_store_message(const std::string& dir, const std::string& detail);

// Key helpers, exposed for tests.
std::string outbox_key(const std::string& case_number, std::uint16_t channel);
std::string schedule_key(const std::string& adapter, const ScheduleKey& k);
std::string idempotency_key(const std::string& sender, const std::string& message_id);

}  // namespace ozghub::store
