#include "store/store.hpp"

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cstdarg>
#include <cstring>
#include <filesystem>
#include <unordered_map>

#include "common/log.hpp"
#include "crypto/file_kek.hpp"
#include "store/audit_trail.hpp"
#include "store/record_codec.hpp"

namespace ozghub::store {
namespace {

constexpr char kCaseNumberStateKey[] = "case_number_state";
// The store format: "2" since cases are sealed (case_seal.hpp). A database with cases but no
// format is from a version that stored them in the clear.
constexpr char kFormatKey[] = "store_format";
constexpr char kFormat[] = "2";
constexpr char kPayloadDue = 'p';
constexpr char kAuditDue = 'a';

std::string retention_key(char kind, std::int64_t due_ms, const std::string& case_number) {
  std::string k(1, kind);
  for (int i = 7; i >= 0; --i) {
    k.push_back(static_cast<char>((static_cast<std::uint64_t>(due_ms) >> (8 * i)) & 0xff));
  }
  return k + case_number;
}

std::int64_t retention_due(std::string_view key) {
  std::uint64_t v = 0;
  for (std::size_t i = 1; i < 9 && i < key.size(); ++i)
    v = (v << 8) | static_cast<std::uint8_t>(key[i]);
  return static_cast<std::int64_t>(v);
}

std::string idempotency_value(const Case& c) { return c.case_number + '\0' + c.office_id; }

Status from_rocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::ok();
  if (s.IsCorruption()) return Status::corruption(what + ": " + s.ToString());
  if (s.IsNotFound()) return Status::not_found(what + ": " + s.ToString());
  return Status::io_error(what + ": " + s.ToString());
}

// Entry value: u8 version (1), i32 attempts, i64 due_ms (native order, as the rest of the
// record is only read by this build's machine type), u8 length + office_id, u8 length + adapter,
// u8 length + channel_key, last_error (the rest).
constexpr std::uint8_t kEntryVersion = 1;

void append_short(std::string& v, const std::string& s) {
  auto n = static_cast<std::uint8_t>(std::min<std::size_t>(s.size(), 255));
  v.push_back(static_cast<char>(n));
  v.append(s, 0, n);
}

bool read_short(std::string_view& in, std::string& out) {
  if (in.empty()) return false;
  auto n = static_cast<std::uint8_t>(in[0]);
  if (in.size() < 1u + n) return false;
  out.assign(in.substr(1, n));
  in.remove_prefix(1u + n);
  return true;
}

std::string encode_entry(const OutboxEntry& e) {
  std::string v;
  v.push_back(static_cast<char>(kEntryVersion));
  v.append(reinterpret_cast<const char*>(&e.attempts), sizeof e.attempts);
  v.append(reinterpret_cast<const char*>(&e.due_ms), sizeof e.due_ms);
  append_short(v, e.office_id);
  append_short(v, e.adapter);
  append_short(v, e.channel_key);
  v.append(e.last_error);
  return v;
}

bool decode_entry(std::string_view key, std::string_view value, OutboxEntry& e) {
  auto sep = key.find('\0');
  if (sep == std::string_view::npos || key.size() != sep + 3) return false;
  if (value.size() < 1 + sizeof e.attempts + sizeof e.due_ms) return false;
  if (static_cast<std::uint8_t>(value[0]) != kEntryVersion) return false;
  value.remove_prefix(1);
  e.case_number.assign(key.substr(0, sep));
  e.channel = static_cast<std::uint16_t>((static_cast<std::uint8_t>(key[sep + 1]) << 8) |
                                         static_cast<std::uint8_t>(key[sep + 2]));
  std::memcpy(&e.attempts, value.data(), sizeof e.attempts);
  std::memcpy(&e.due_ms, value.data() + sizeof e.attempts, sizeof e.due_ms);
  value.remove_prefix(sizeof e.attempts + sizeof e.due_ms);
  if (!read_short(value, e.office_id) || !read_short(value, e.adapter) ||
      !read_short(value, e.channel_key)) {
    return false;
  }
  e.last_error.assign(value);
  return true;
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string outbox_key(const std::string& case_number, std::uint16_t channel) {
  std::string k = case_number;
  k.push_back('\0');
  k.push_back(static_cast<char>(channel >> 8));
  k.push_back(static_cast<char>(channel & 0xff));
  return k;
}

std::string schedule_key(const std::string& adapter, const ScheduleKey& k) {
  std::string key = adapter;
  key.push_back('\0');
  // Biased big-endian, so byte order is numeric order.
  const std::uint64_t due = static_cast<std::uint64_t>(k.due_ms) ^ (std::uint64_t{1} << 63);
  for (int shift = 56; shift >= 0; shift -= 8) key.push_back(static_cast<char>(due >> shift));
  key += outbox_key(k.case_number, k.channel);
  return key;
}

std::string idempotency_key(const std::string& sender, const std::string& message_id) {
  std::string k = sender;
  k.push_back('\0');
  k += message_id;
  return k;
}

namespace {

// Column family options and descriptors, the same for the check and the real open.
struct Layout {
  rocksdb::Options options;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
};

Layout store_layout() {
  Layout l;
  rocksdb::Options& options = l.options;
  options.create_missing_column_families = true;
  options.paranoid_checks = true;
  // Every acknowledged application was written with a synced WAL write, so on any crash the WAL
  // holds it completely; only records after the last sync (delivery bookkeeping, whose loss only
  // repeats a delivery) can be incomplete. This mode tolerates exactly that: an incomplete
  // record at the tail. RocksDB's default, point-in-time recovery, would also stop replaying at
  // a damaged record in the middle of the WAL and open without everything written after it:
  // acknowledged applications dropped without a word. Here such damage refuses the open.
  options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  // A WAL file that MANIFEST knows but that is missing or shorter than synced also refuses.
  options.track_and_verify_wals_in_manifest = true;
  options.IncreaseParallelism(2);
  // Applications are written once and read about once: favour write throughput and keep the
  // memtables modest so a large backlog does not live in memory.
  options.write_buffer_size = 64u << 20;
  options.max_write_buffer_number = 3;
  options.max_total_wal_size = 256u << 20;
  // One budget for the memtables of all column families together (nine of them, each allowed
  // 64 MiB): without it a million applications taken in kept ~200 MiB of memtables resident.
  options.db_write_buffer_size = 96u << 20;
  // A flush writes a 64 MiB SST file. Left to the final fsync, that writeback lands inside the
  // journal commit of the next synced WAL write (and the device flush behind it), and the
  // applications in that group commit waited 40-70 ms: the p99 of accepting at 4,500/s. Written
  // back in 1 MiB steps as the file grows, the p99 halved (benchmarks/README.md, results on the
  // development VM).
  options.bytes_per_sync = 1u << 20;
  // No fallocate(2). RocksDB preallocates every new WAL (1.1 x write_buffer_size, ~70 MiB) from
  // inside the write that switches memtables: the committer's synced write, with every
  // application of that group commit waiting. strace showed it taking 0.4 ms usually, but 68 and
  // 552 ms while a flush was allocating its SST's blocks on the same file system; on tmpfs it
  // zeroes the 70 MiB. A WAL sync writes the inode either way (a larger size without
  // preallocation, converted extents with it). Without it, p99 at 5,000/s fell from a median of
  // 28 ms to 21 ms over eight alternating pairs (benchmarks/README.md, results on the development
  // VM).
  options.allow_fallocate = false;

  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions point_lookup_cf(options);
  point_lookup_cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  l.cfs = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions(options)},
      {"cases", point_lookup_cf},
      {"idempotency", point_lookup_cf},
      {"outbox", rocksdb::ColumnFamilyOptions(options)},
      {"deadletters", rocksdb::ColumnFamilyOptions(options)},
      {"schedule", rocksdb::ColumnFamilyOptions(options)},
      {"keys", point_lookup_cf},
      {"audit", rocksdb::ColumnFamilyOptions(options)},
      {"retention", rocksdb::ColumnFamilyOptions(options)},
      {"status_events", point_lookup_cf},  // the case -> sender lookups of each event
  };
  return l;
}

// RocksDB's own diagnostics during the check go nowhere: the check must not change a byte in
// the directory (not even rotate its LOG), so a damaged store stays as it was found.
class SilentLogger : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const char* /*format*/, va_list /*ap*/) override {}
};

// Read-only, before the real open: replays the WAL into memory (without writing anything) and
// reads every block of every SST file against its checksum. The real open would write the
// replayed WAL into a new SST file and a new MANIFEST, and damage in a data block would only
// show when that block is read, perhaps days later. Cost: one sequential read of the SST files.
//
// Not detected: a MANIFEST cut short after its first record. RocksDB takes an incomplete last
// record for a crash while an edit was being written (it syncs each edit before acting on it),
// and a cut at a record boundary leaves nothing to see; the edits lost that way (e.g. a flush
// whose WAL is gone since) lose data. Only a backup covers that.
Status check_existing(const std::string& dir, const Layout& layout) {
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::path(dir) / "CURRENT", ec)) {
    // RocksDB would take the directory for a new database (and delete the old MANIFEST files).
    return Status::corruption("its CURRENT file is missing");
  }
  rocksdb::DBOptions options(layout.options);
  options.info_log = std::make_shared<SilentLogger>();
  std::vector<std::string> names;
  auto s = rocksdb::DB::ListColumnFamilies(options, dir, &names);
  if (!s.ok()) return from_rocks(s, "reading its MANIFEST failed");
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const auto& name : names) {
    auto known = std::find_if(layout.cfs.begin(), layout.cfs.end(),
                              [&](const auto& d) { return d.name == name; });
    cfs.push_back(known != layout.cfs.end()
                      ? *known
                      : rocksdb::ColumnFamilyDescriptor(name, rocksdb::ColumnFamilyOptions()));
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  s = rocksdb::DB::OpenForReadOnly(options, dir, cfs, &handles, &raw);
  if (!s.ok()) return from_rocks(s, "recovery failed");
  std::unique_ptr<rocksdb::DB> db(raw);
  s = db->VerifyChecksum();
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  db->Close().PermitUncheckedError();
  return from_rocks(s, "verifying its files failed");
}

bool is_empty_or_missing(const std::string& dir) {
  std::error_code ec;
  return !std::filesystem::exists(dir, ec) || std::filesystem::is_empty(dir, ec);
}

}  // namespace

std::string damaged_store_message(const std::string& dir, const std::string& detail) {
  return "the store in " + dir + " is damaged (" + detail +
         "). ozg-hub does not start on a damaged store, as that could lose accepted "
         "applications without a trace. Do not delete the store or any file in it and do not "
         "run a repair tool on it: keep a copy of the directory as it is, restore the store "
         "from the last backup and start again (deliveries still pending in the backup are "
         "repeated under their case numbers, which the offices recognise).";
}

Status store_damaged(const std::string& dir, const std::string& detail) {
  log::error("store.damaged", {{"store", dir}, {"error", detail}});
  return Status::corruption(damaged_store_message(dir, detail));
}

Result<std::unique_ptr<Store>> Store::open(const std::string& dir, StoreOptions store_options) {
  Layout layout = store_layout();
  const bool fresh = is_empty_or_missing(dir);
  if (!fresh) {
    if (Status s = check_existing(dir, layout); !s.is_ok()) {
      return s.code() == Status::Code::kCorruption ? store_damaged(dir, s.message()) : s;
    }
  }
  layout.options.create_if_missing = fresh;
  std::unique_ptr<Store> store(new Store());
  if (!store_options.keys) {
    auto k = crypto::DataKey::generate();
    if (!k) return k.status();
    std::vector<std::shared_ptr<const crypto::Kek>> keks{crypto::memory_kek("ephemeral", *k)};
    store_options.keys = std::make_shared<crypto::KeyringState>(
        std::make_shared<const crypto::Keyring>(std::move(keks), "ephemeral"));
  }
  store->options_ = std::move(store_options);
  rocksdb::DB* db = nullptr;
  auto s =
      rocksdb::DB::Open(rocksdb::DBOptions(layout.options), dir, layout.cfs, &store->handles_, &db);
  if (!s.ok()) {
    if (s.IsCorruption()) return store_damaged(dir, s.ToString());
    return from_rocks(s, "cannot open the store in " + dir);
  }
  store->db_.reset(db);
  store->meta_ = store->handles_[0];
  store->cases_ = store->handles_[1];
  store->idempotency_ = store->handles_[2];
  store->outbox_ = store->handles_[3];
  store->deadletters_ = store->handles_[4];
  store->schedule_ = store->handles_[5];
  store->keys_ = store->handles_[6];
  store->audit_ = store->handles_[7];
  store->retention_ = store->handles_[8];
  store->status_cf_ = store->handles_[9];

  std::string format;
  s = db->Get(rocksdb::ReadOptions(), store->meta_, kFormatKey, &format);
  if (s.IsNotFound()) {
    if (store->has_prefix(store->cases_, "")) {
      return Status::invalid_argument(
          "the store in " + dir +
          " holds cases written unencrypted by an earlier ozg-hub; this version stores cases "
          "only encrypted and does not convert them: deliver or purge them with the earlier "
          "version, or move the directory away");
    }
    s = db->Put(rocksdb::WriteOptions(), store->meta_, kFormatKey, kFormat);
  } else if (s.ok() && format != kFormat) {
    return Status::invalid_argument("the store in " + dir + " has format " + format +
                                    ", this version reads format " + kFormat);
  }
  if (!s.ok()) return from_rocks(s, "cannot read the store format");
  std::unique_ptr<rocksdb::Iterator> keys(db->NewIterator(rocksdb::ReadOptions(), store->keys_));
  for (keys->SeekToFirst(); keys->Valid(); keys->Next()) {
    auto k = decode_key_record(keys->value().ToStringView());
    if (!k) return k.status();
    ++store->deks_per_kek_[k->kek_id];
  }
  if (!keys->status().ok()) return from_rocks(keys->status(), "cannot read the data keys");

  std::string state;
  s = db->Get(rocksdb::ReadOptions(), store->meta_, kCaseNumberStateKey, &state);
  if (!s.ok() && !s.IsNotFound()) return from_rocks(s, "cannot read the case number state");
  auto gen = CaseNumberGenerator::restore(state);
  if (!gen) return store_damaged(dir, gen.status().message());
  store->case_numbers_ = *gen;
  store->case_numbers_.set_instance(store->options_.case_number_instance);
  if (Status r = store->adopt_restored_backup(dir); !r.is_ok()) return r;
  auto events = status::EventLog::open(*db, store->status_cf_, store->options_.status_events);
  if (!events) return events.status();
  store->status_ = std::move(*events);
  return store;
}

Status Store::persist_case_numbers() {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return from_rocks(db_->Put(wo, meta_, kCaseNumberStateKey, case_numbers_.state()),
                    "cannot write the case number state");
}

Store::~Store() {
  if (db_) {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    db_->Close().PermitUncheckedError();
  }
}

Status Store::commit(std::span<CommitItem> items, std::int64_t now_ms) {
  if (items.empty()) return Status::ok();
  // Duplicate suppression: look up every idempotency key at once, then resolve duplicates
  // within the batch itself.
  std::vector<std::string> keys;
  keys.reserve(items.size());
  for (const auto& it : items)
    keys.push_back(idempotency_key(it.case_->app.sender, it.case_->app.message_id));
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<std::string> values(items.size());
  std::vector<rocksdb::ColumnFamilyHandle*> cfs(items.size(), idempotency_);
  auto statuses = db_->MultiGet(rocksdb::ReadOptions(), cfs, slices, &values);

  status::EventLog::Ticket events(*status_);
  rocksdb::WriteBatch batch;
  std::unordered_map<std::string_view, const Case*> in_batch;
  std::map<std::string, std::int64_t> new_keys;
  CaseNumberGenerator gen = case_numbers_;
  for (std::size_t i = 0; i < items.size(); ++i) {
    CommitItem& it = items[i];
    if (statuses[i].ok()) {
      it.duplicate = true;
      // "case_number 0x00 office_id": a duplicate reports where its case really went, even if
      // the routing changed since or the case was deleted after its retention.
      auto sep = values[i].find('\0');
      it.case_->case_number = values[i].substr(0, sep);
      if (sep != std::string::npos) it.case_->office_id = values[i].substr(sep + 1);
      continue;
    }
    if (!statuses[i].IsNotFound()) return from_rocks(statuses[i], "idempotency lookup failed");
    if (auto f = in_batch.find(keys[i]); f != in_batch.end()) {
      it.duplicate = true;
      it.case_->case_number = f->second->case_number;
      it.case_->office_id = f->second->office_id;
      continue;
    }
    it.duplicate = false;
    it.case_->case_number = gen.next(now_ms);
    in_batch.emplace(keys[i], it.case_);
    std::optional<PreparedCase> made_here;
    if (it.prepared == nullptr) {
      auto p = prepare_case(*it.case_, *options_.keys->get());
      if (!p) return p.status();
      made_here = std::move(*p);
    }
    const PreparedCase& prepared = it.prepared != nullptr ? *it.prepared : *made_here;
    auto sealed = seal_case(*it.case_, prepared.key.dek);
    if (!sealed) return sealed.status();
    batch.Put(cases_, it.case_->case_number, *sealed);
    batch.Put(keys_, it.case_->case_number,
              encode_key_record({prepared.key.kek_id, prepared.key.wrapped}));
    ++new_keys[prepared.key.kek_id];
    batch.Put(audit_, audit_key(it.case_->case_number, now_ms, AuditKind::kCommitted),
              audit_committed(*it.case_, prepared, it.channels, now_ms));
    batch.Put(idempotency_, keys[i], idempotency_value(*it.case_));
    status_->accepted(batch, events, it.case_->app.sender, it.case_->case_number,
                      it.case_->office_id, it.case_->app.message_id, now_ms);
    if (it.channels.empty()) {
      const std::int64_t due = now_ms + options_.payload_retention.count();
      batch.Put(retention_, retention_key(kPayloadDue, due, it.case_->case_number), "");
      batch.Put(audit_, audit_key(it.case_->case_number, now_ms, AuditKind::kDeletionScheduled),
                audit_deletion_scheduled(now_ms, due));
    }
    OutboxEntry e;
    e.office_id = it.case_->office_id;
    for (std::size_t ch = 0; ch < it.channels.size(); ++ch) {
      e.adapter = it.channels[ch].adapter;
      e.channel_key = it.channels[ch].key;
      const auto channel = static_cast<std::uint16_t>(ch);
      batch.Put(outbox_, outbox_key(it.case_->case_number, channel), encode_entry(e));
      batch.Put(schedule_, schedule_key(e.adapter, {0, it.case_->case_number, channel}), {});
    }
  }
  if (batch.Count() == 0) return Status::ok();
  batch.Put(meta_, kCaseNumberStateKey, gen.state());
  rocksdb::WriteOptions wo;
  wo.sync = true;
  auto s = db_->Write(wo, &batch);
  if (!s.ok()) return from_rocks(s, "synced commit failed");
  case_numbers_ = gen;
  for (const auto& [kek, n] : new_keys) count_key(kek, n);
  return Status::ok();
}

Result<Case> Store::load_case(const std::string& case_number) const {
  rocksdb::PinnableSlice key;
  auto s = db_->Get(rocksdb::ReadOptions(), keys_, case_number, &key);
  if (s.IsNotFound()) {
    return Status::not_found("case " + case_number +
                             ": no data key (unknown case, or deleted after its retention)");
  }
  if (!s.ok()) return from_rocks(s, "data key of case " + case_number);
  auto record = decode_key_record(key.ToStringView());
  if (!record) return record.status();
  auto dek = options_.keys->get()->unwrap(record->kek_id, record->wrapped);
  // The KEK's error names the KEK; an unknown one stays invalid_argument (a configuration error).
  if (!dek) return dek.status();
  rocksdb::PinnableSlice value;
  s = db_->Get(rocksdb::ReadOptions(), cases_, case_number, &value);
  if (!s.ok()) return from_rocks(s, "case " + case_number);
  return open_case(case_number, value.ToStringView(), *dek);
}

Result<std::string> Store::sealed_record(const std::string& case_number) const {
  std::string value;
  auto s = db_->Get(rocksdb::ReadOptions(), cases_, case_number, &value);
  if (!s.ok()) return from_rocks(s, "case " + case_number);
  return value;
}

bool Store::has_payload(const std::string& case_number) const {
  rocksdb::PinnableSlice value;
  return db_->Get(rocksdb::ReadOptions(), keys_, case_number, &value).ok();
}

Result<std::vector<std::string>> Store::audit_trail(const std::string& case_number) const {
  std::vector<std::string> out;
  const std::string prefix = audit_prefix(case_number);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), audit_));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    out.push_back(it->value().ToString());
  }
  if (Status s = from_rocks(it->status(), "reading the audit trail failed"); !s.is_ok()) return s;
  if (out.empty()) return Status::not_found("no audit trail for case " + case_number);
  return out;
}

bool Store::has_prefix(rocksdb::ColumnFamilyHandle* cf, const std::string& prefix) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf));
  it->Seek(prefix);
  return it->Valid() && it->key().starts_with(prefix);
}

void Store::count_key(const std::string& kek_id, std::int64_t delta) {
  std::lock_guard lock(counts_mutex_);
  auto& n = deks_per_kek_[kek_id];
  n += delta;
  if (n == 0) deks_per_kek_.erase(kek_id);
}

std::map<std::string, std::int64_t> Store::data_keys_per_kek() const {
  std::lock_guard lock(counts_mutex_);
  return deks_per_kek_;
}

Status Store::finish_channel(const OutboxEntry& e, rocksdb::ColumnFamilyHandle* from,
                             AuditKind kind, bool sync) {
  const std::int64_t now = wall_ms();
  const std::string key = outbox_key(e.case_number, e.channel);
  std::string prefix = e.case_number;
  prefix.push_back('\0');
  // Whether this was the case's last delivery is decided and written in one batch, under the
  // case's lock stripe, so two channels finishing at once cannot both miss the schedule, and a
  // crash keeps both or neither (an undone delivery repeats, and so does its schedule).
  std::lock_guard lock(
      finish_mutexes_[std::hash<std::string>{}(e.case_number) % finish_mutexes_.size()]);
  const auto other_left = [&](rocksdb::ColumnFamilyHandle* cf) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      if (it->key() != key) return true;
    }
    return false;
  };
  status::EventLog::Ticket events(*status_);
  rocksdb::WriteBatch batch;
  if (kind == AuditKind::kDelivered) {
    status_->channel_event(batch, events, status::EventType::kDelivered, e.case_number, e.channel,
                           e.adapter, e.attempts, 0, now);
  }
  if (from == outbox_) batch.Delete(schedule_, schedule_key(e.adapter, e.schedule_key()));
  batch.Delete(from, key);
  batch.Put(audit_, audit_key(e.case_number, now, kind, e.channel), audit_channel(kind, e, now));
  if (!other_left(outbox_) && !other_left(deadletters_)) {
    const std::int64_t due = now + options_.payload_retention.count();
    batch.Put(retention_, retention_key(kPayloadDue, due, e.case_number), "");
    batch.Put(audit_, audit_key(e.case_number, now, AuditKind::kDeletionScheduled),
              audit_deletion_scheduled(now, due));
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  return from_rocks(db_->Write(wo, &batch), "recording the end of a delivery failed");
}

Status Store::destroy_key(const std::string& case_number, std::int64_t now_ms) {
  std::string value;
  auto s = db_->Get(rocksdb::ReadOptions(), keys_, case_number, &value);
  if (!s.ok()) return from_rocks(s, "data key of case " + case_number);
  auto record = decode_key_record(value);
  if (!record) return record.status();
  rocksdb::WriteBatch batch;
  batch.Delete(keys_, case_number);
  batch.Put(audit_, audit_key(case_number, now_ms, AuditKind::kKeyDestroyed),
            audit_key_destroyed(now_ms, record->kek_id));
  rocksdb::WriteOptions wo;
  wo.sync = true;
  s = db_->Write(wo, &batch);
  if (!s.ok()) return from_rocks(s, "destroying the data key of case " + case_number);
  count_key(record->kek_id, -1);
  return Status::ok();
}

Status Store::delete_case(const std::string& case_number, std::int64_t now_ms, bool& deleted) {
  deleted = false;
  std::string prefix = case_number;
  prefix.push_back('\0');
  // A delivery still to do (cannot happen after the schedule, but never lose one): keep it; a
  // later completion schedules the deletion again.
  if (has_prefix(outbox_, prefix) || has_prefix(deadletters_, prefix)) return Status::ok();
  // Crypto-shredding first: once the key is gone no copy of the ciphertext can be read.
  if (has_payload(case_number)) {
    if (Status s = destroy_key(case_number, now_ms); !s.is_ok()) return s;
  }
  rocksdb::PinnableSlice existing;
  auto g = db_->Get(rocksdb::ReadOptions(), cases_, case_number, &existing);
  if (g.IsNotFound()) return Status::ok();  // deleted by an earlier schedule entry
  if (!g.ok()) return from_rocks(g, "case " + case_number);
  status::EventLog::Ticket events(*status_);
  rocksdb::WriteBatch batch;
  status_->deleted(batch, events, case_number, now_ms);
  batch.Delete(cases_, case_number);
  batch.Put(audit_, audit_key(case_number, now_ms, AuditKind::kPayloadDeleted),
            audit_payload_deleted(now_ms));
  batch.Put(retention_,
            retention_key(kAuditDue, now_ms + options_.audit_retention.count(), case_number), "");
  rocksdb::WriteOptions wo;
  wo.sync = true;
  if (Status s = from_rocks(db_->Write(wo, &batch), "deleting case " + case_number); !s.is_ok()) {
    return s;
  }
  deleted = true;
  return Status::ok();
}

Status Store::expire_audit(const std::string& case_number, bool& expired) {
  expired = false;
  const std::string prefix = audit_prefix(case_number);
  rocksdb::WriteBatch batch;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), audit_));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    std::string sender;
    std::string message_id;
    if (audit_idempotency(it->value().ToStringView(), sender, message_id)) {
      batch.Delete(idempotency_, idempotency_key(sender, message_id));
    }
    batch.Delete(audit_, it->key());
    expired = true;
  }
  if (Status s = from_rocks(it->status(), "reading the audit trail failed"); !s.is_ok()) return s;
  return from_rocks(db_->Write(rocksdb::WriteOptions(), &batch), "expiring an audit trail");
}

Result<std::size_t> Store::rewrap(std::size_t limit) {
  auto keyring = options_.keys->get();
  const std::string& active = keyring->active_id();
  {
    std::lock_guard lock(counts_mutex_);
    if (deks_per_kek_.size() == 1 && deks_per_kek_.begin()->first == active) return 0;
    if (deks_per_kek_.empty()) return 0;
  }
  rocksdb::WriteBatch batch;
  std::map<std::string, std::int64_t> moved;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), keys_));
  std::size_t n = 0;
  // Each round goes on where the last one stopped, so a rotation over n keys costs O(n) reads,
  // not O(n^2); at the end it starts over (keys written meanwhile are already under `active`).
  if (rewrap_from_.empty()) {
    it->SeekToFirst();
  } else {
    it->Seek(rewrap_from_);
  }
  for (; it->Valid() && n < limit; it->Next()) {
    auto record = decode_key_record(it->value().ToStringView());
    if (!record) return record.status();
    if (record->kek_id == active) continue;
    auto dek = keyring->unwrap(record->kek_id, record->wrapped);
    if (!dek) return dek.status();
    auto wrapped = keyring->wrap(*dek);
    if (!wrapped) return wrapped.status();
    batch.Put(keys_, it->key(), encode_key_record({active, std::move(*wrapped)}));
    ++moved[record->kek_id];
    ++n;
  }
  if (Status s = from_rocks(it->status(), "reading the data keys failed"); !s.is_ok()) return s;
  std::string next = it->Valid() ? it->key().ToString() : std::string();
  if (n == 0) {
    rewrap_from_ = std::move(next);
    return n;
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;  // the count tells an operator when the old KEK may go: it must be durable
  if (Status s = from_rocks(db_->Write(wo, &batch), "re-wrapping data keys"); !s.is_ok()) return s;
  for (const auto& [kek, k] : moved) {
    count_key(kek, -k);
    count_key(active, k);
  }
  rewrap_from_ = std::move(next);
  return n;
}

Status Store::compact(rocksdb::ColumnFamilyHandle* cf, const std::string& first,
                      const std::string& last) {
  rocksdb::CompactRangeOptions o;
  o.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  rocksdb::Slice begin(first);
  std::string end_key = last;
  end_key.push_back('\xff');
  rocksdb::Slice end(end_key);
  return from_rocks(db_->CompactRange(o, cf, &begin, &end), "compacting deleted cases");
}

Result<SweepResult> Store::sweep(std::int64_t now_ms, std::size_t rewrap_limit) {
  SweepResult r;
  std::vector<std::string> done;
  std::string first;
  std::string last;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), retention_));
  for (char kind : {kPayloadDue, kAuditDue}) {
    // Each kind's entries are in due order: stop at the first one not due yet.
    for (it->Seek(std::string(1, kind)); it->Valid(); it->Next()) {
      std::string_view key = it->key().ToStringView();
      if (key.size() <= 9 || key[0] != kind || retention_due(key) > now_ms) break;
      const std::string case_number(key.substr(9));
      bool removed = false;
      if (kind == kPayloadDue) {
        if (Status s = delete_case(case_number, now_ms, removed); !s.is_ok()) return s;
        if (removed) {
          ++r.cases_deleted;
          if (first.empty() || case_number < first) first = case_number;
          if (case_number > last) last = case_number;
        }
      } else {
        if (Status s = expire_audit(case_number, removed); !s.is_ok()) return s;
        if (removed) ++r.audits_expired;
      }
      done.emplace_back(key);
    }
  }
  if (Status s = from_rocks(it->status(), "reading the retention schedule"); !s.is_ok()) return s;
  it.reset();
  if (!done.empty()) {
    rocksdb::WriteBatch batch;
    for (const auto& k : done) batch.Delete(retention_, k);
    if (Status s = from_rocks(db_->Write(rocksdb::WriteOptions(), &batch), "retention schedule");
        !s.is_ok()) {
      return s;
    }
  }
  if (r.cases_deleted > 0) {
    // The ciphertext must leave the files too: flush every memtable (so the write-ahead logs
    // holding the records become obsolete and are deleted), then rewrite the deleted range of
    // the payloads and keys down to the last level, dropping the records and their tombstones.
    if (Status s = from_rocks(db_->Flush(rocksdb::FlushOptions(), handles_), "flush"); !s.is_ok()) {
      return s;
    }
    if (Status s = compact(cases_, first, last); !s.is_ok()) return s;
    if (Status s = compact(keys_, first, last); !s.is_ok()) return s;
  }
  auto rewrapped = rewrap(rewrap_limit);
  if (!rewrapped) return rewrapped.status();
  r.keys_rewrapped = *rewrapped;
  return r;
}

bool Store::is_committed(const std::string& sender, const std::string& message_id) const {
  rocksdb::PinnableSlice value;
  return db_->Get(rocksdb::ReadOptions(), idempotency_, idempotency_key(sender, message_id), &value)
      .ok();
}

bool Store::is_scheduled(const OutboxEntry& e) const {
  const auto key = outbox_key(e.case_number, e.channel);
  rocksdb::PinnableSlice value;
  auto s = db_->Get(rocksdb::ReadOptions(), outbox_, key, &value);
  // A read error counts as owed: attempting it again is harmless, dropping it is not.
  if (!s.ok()) return !s.IsNotFound();
  OutboxEntry stored;
  if (!decode_entry(key, value.ToStringView(), stored)) return true;
  return stored.due_ms == e.due_ms && stored.adapter == e.adapter;
}

// Each change to an outbox entry moves its schedule key with it, in the same batch. The caller
// names the due time the entry was scheduled for (is_scheduled confirmed it before the attempt),
// so no read is needed; deleting a key that is not there is harmless.
Status Store::record_delivered(const OutboxEntry& e) {
  return finish_channel(e, outbox_, AuditKind::kDelivered, false);
}

Status Store::record_retry(const OutboxEntry& e, std::int64_t was_due_ms) {
  status::EventLog::Ticket events(*status_);
  rocksdb::WriteBatch batch;
  status_->channel_event(batch, events, status::EventType::kFailed, e.case_number, e.channel,
                         e.adapter, e.attempts, e.due_ms, wall_ms());
  batch.Delete(schedule_, schedule_key(e.adapter, {was_due_ms, e.case_number, e.channel}));
  batch.Put(outbox_, outbox_key(e.case_number, e.channel), encode_entry(e));
  batch.Put(schedule_, schedule_key(e.adapter, e.schedule_key()), {});
  return from_rocks(db_->Write(rocksdb::WriteOptions(), &batch), "recording a retry failed");
}

Status Store::record_dead_letter(const OutboxEntry& e, std::int64_t was_due_ms) {
  status::EventLog::Ticket events(*status_);
  rocksdb::WriteBatch batch;
  auto key = outbox_key(e.case_number, e.channel);
  status_->channel_event(batch, events, status::EventType::kDeadLettered, e.case_number, e.channel,
                         e.adapter, e.attempts, 0, wall_ms());
  batch.Delete(schedule_, schedule_key(e.adapter, {was_due_ms, e.case_number, e.channel}));
  batch.Delete(outbox_, key);
  batch.Put(deadletters_, key, encode_entry(e));
  const std::int64_t now = wall_ms();
  batch.Put(audit_, audit_key(e.case_number, now, AuditKind::kDeadLettered, e.channel),
            audit_channel(AuditKind::kDeadLettered, e, now));
  // Dead letters are what an operator acts on: make them as durable as the case.
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return from_rocks(db_->Write(wo, &batch), "recording a dead letter failed");
}

Status Store::replay_dead_letter(const OutboxEntry& e) {
  auto key = outbox_key(e.case_number, e.channel);
  rocksdb::PinnableSlice existing;
  auto g = db_->Get(rocksdb::ReadOptions(), deadletters_, key, &existing);
  if (!g.ok()) return from_rocks(g, "dead letter " + e.case_number);
  rocksdb::WriteBatch batch;
  batch.Delete(deadletters_, key);
  batch.Put(outbox_, key, encode_entry(e));
  batch.Put(schedule_, schedule_key(e.adapter, e.schedule_key()), {});
  const std::int64_t now = wall_ms();
  batch.Put(audit_, audit_key(e.case_number, now, AuditKind::kReplayed, e.channel),
            audit_channel(AuditKind::kReplayed, e, now));
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return from_rocks(db_->Write(wo, &batch), "replaying a dead letter failed");
}

Status Store::purge_dead_letter(const std::string& case_number, std::uint16_t channel) {
  auto key = outbox_key(case_number, channel);
  rocksdb::PinnableSlice existing;
  auto g = db_->Get(rocksdb::ReadOptions(), deadletters_, key, &existing);
  if (!g.ok()) return from_rocks(g, "dead letter " + case_number);
  OutboxEntry e;
  if (!decode_entry(key, existing.ToStringView(), e)) {
    return Status::corruption("malformed dead letter in the store");
  }
  return finish_channel(e, deadletters_, AuditKind::kPurged, true);
}

Result<std::vector<OutboxEntry>> Store::dead_letters_of(const std::string& case_number) const {
  std::vector<OutboxEntry> out;
  std::string prefix = case_number;
  prefix.push_back('\0');
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), deadletters_));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    OutboxEntry e;
    if (!decode_entry(it->key().ToStringView(), it->value().ToStringView(), e)) {
      return Status::corruption("malformed dead letter in the store");
    }
    out.push_back(std::move(e));
  }
  if (Status s = from_rocks(it->status(), "reading dead letters failed"); !s.is_ok()) return s;
  return out;
}

Status Store::scan(rocksdb::ColumnFamilyHandle* cf,
                   const std::function<Status(OutboxEntry)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    OutboxEntry e;
    if (!decode_entry(it->key().ToStringView(), it->value().ToStringView(), e)) {
      return Status::corruption("malformed delivery entry in the store");
    }
    if (Status s = fn(std::move(e)); !s.is_ok()) return s;
  }
  return from_rocks(it->status(), "scanning the store failed");
}

Result<std::vector<OutboxEntry>> Store::scheduled(const std::string& adapter,
                                                  const std::optional<ScheduleKey>& after,
                                                  std::size_t limit) const {
  std::vector<OutboxEntry> out;
  if (limit == 0) return out;
  std::string prefix = adapter;
  prefix.push_back('\0');
  rocksdb::ReadOptions ro;
  const rocksdb::Snapshot* snapshot = db_->GetSnapshot();
  ro.snapshot = snapshot;
  std::vector<std::string> keys;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, schedule_));
    const std::string start = after ? schedule_key(adapter, *after) : prefix;
    it->Seek(start);
    if (after && it->Valid() && it->key() == start) it->Next();
    for (; it->Valid() && it->key().starts_with(prefix) && keys.size() < limit; it->Next()) {
      keys.emplace_back(it->key().ToStringView().substr(prefix.size() + 8));
    }
    if (Status s = from_rocks(it->status(), "reading the schedule failed"); !s.is_ok()) {
      db_->ReleaseSnapshot(snapshot);
      return s;
    }
  }
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<std::string> values(keys.size());
  std::vector<rocksdb::ColumnFamilyHandle*> cfs(keys.size(), outbox_);
  auto statuses = db_->MultiGet(ro, cfs, slices, &values);
  db_->ReleaseSnapshot(snapshot);
  out.reserve(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (!statuses[i].ok()) return from_rocks(statuses[i], "reading a scheduled delivery failed");
    OutboxEntry e;
    if (!decode_entry(keys[i], values[i], e)) {
      return Status::corruption("malformed delivery entry in the store");
    }
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::map<std::string, std::size_t, std::less<>>> Store::count_scheduled() const {
  std::map<std::string, std::size_t, std::less<>> counts;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), schedule_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string_view key = it->key().ToStringView();
    auto sep = key.find('\0');
    if (sep == std::string_view::npos) return Status::corruption("malformed schedule key");
    std::string_view adapter = key.substr(0, sep);
    auto c = counts.find(adapter);
    if (c == counts.end()) c = counts.emplace(std::string(adapter), 0).first;
    ++c->second;
  }
  if (Status s = from_rocks(it->status(), "counting the schedule failed"); !s.is_ok()) return s;
  return counts;
}

Status Store::scan_outbox(const std::function<Status(OutboxEntry)>& fn) const {
  return scan(outbox_, fn);
}

Status Store::scan_dead_letters(const std::function<Status(OutboxEntry)>& fn) const {
  return scan(deadletters_, fn);
}

}  // namespace ozghub::store
