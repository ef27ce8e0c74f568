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
#include "store/record_codec.hpp"

namespace ozghub::store {
namespace {

constexpr char kCaseNumberStateKey[] = "case_number_state";
// Present once the schedule index covers the whole outbox (stores from before it get it built
// at open).
constexpr char kScheduleIndexKey[] = "schedule_index";

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

Result<std::unique_ptr<Store>> Store::open(const std::string& dir) {
  Layout layout = store_layout();
  const bool fresh = is_empty_or_missing(dir);
  if (!fresh) {
    if (Status s = check_existing(dir, layout); !s.is_ok()) {
      return s.code() == Status::Code::kCorruption ? store_damaged(dir, s.message()) : s;
    }
  }
  layout.options.create_if_missing = fresh;
  std::unique_ptr<Store> store(new Store());
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
  if (Status st = store->index_schedule(); !st.is_ok()) return st;

  std::string state;
  s = db->Get(rocksdb::ReadOptions(), store->meta_, kCaseNumberStateKey, &state);
  if (!s.ok() && !s.IsNotFound()) return from_rocks(s, "cannot read the case number state");
  auto gen = CaseNumberGenerator::restore(state);
  if (!gen) return store_damaged(dir, gen.status().message());
  store->case_numbers_ = *gen;
  return store;
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

  rocksdb::WriteBatch batch;
  std::unordered_map<std::string_view, std::string> in_batch;
  CaseNumberGenerator gen = case_numbers_;
  for (std::size_t i = 0; i < items.size(); ++i) {
    CommitItem& it = items[i];
    if (statuses[i].ok()) {
      it.duplicate = true;
      it.case_->case_number = values[i];
      continue;
    }
    if (!statuses[i].IsNotFound()) return from_rocks(statuses[i], "idempotency lookup failed");
    if (auto f = in_batch.find(keys[i]); f != in_batch.end()) {
      it.duplicate = true;
      it.case_->case_number = f->second;
      continue;
    }
    it.duplicate = false;
    it.case_->case_number = gen.next(now_ms);
    in_batch.emplace(keys[i], it.case_->case_number);
    batch.Put(cases_, it.case_->case_number, encode_case(*it.case_));
    batch.Put(idempotency_, keys[i], it.case_->case_number);
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
  // A duplicate reports where its case really went, even if the routing changed since.
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!statuses[i].ok()) continue;  // not committed before this batch
    auto original = load_case(items[i].case_->case_number);
    if (!original) return original.status();
    items[i].case_->office_id = original->office_id;
  }
  if (batch.Count() == 0) return Status::ok();
  batch.Put(meta_, kCaseNumberStateKey, gen.state());
  rocksdb::WriteOptions wo;
  wo.sync = true;
  auto s = db_->Write(wo, &batch);
  if (!s.ok()) return from_rocks(s, "synced commit failed");
  case_numbers_ = gen;
  return Status::ok();
}

Result<Case> Store::load_case(const std::string& case_number) const {
  rocksdb::PinnableSlice value;
  auto s = db_->Get(rocksdb::ReadOptions(), cases_, case_number, &value);
  if (!s.ok()) return from_rocks(s, "case " + case_number);
  return decode_case(std::string_view(value.data(), value.size()));
}

bool Store::is_committed(const std::string& sender, const std::string& message_id) const {
  rocksdb::PinnableSlice value;
  return db_->Get(rocksdb::ReadOptions(), idempotency_, idempotency_key(sender, message_id), &value)
      .ok();
}

Result<OutboxEntry> Store::stored_entry(const OutboxEntry& e) const {
  const auto key = outbox_key(e.case_number, e.channel);
  rocksdb::PinnableSlice value;
  auto s = db_->Get(rocksdb::ReadOptions(), outbox_, key, &value);
  if (!s.ok()) return from_rocks(s, "delivery " + e.case_number);
  OutboxEntry stored;
  if (!decode_entry(key, value.ToStringView(), stored)) {
    return Status::corruption("malformed delivery entry in the store");
  }
  return stored;
}

bool Store::is_scheduled(const OutboxEntry& e) const {
  auto stored = stored_entry(e);
  // A read error counts as owed: attempting it again is harmless, dropping it is not.
  if (!stored) return stored.status().code() != Status::Code::kNotFound;
  return stored->due_ms == e.due_ms && stored->adapter == e.adapter;
}

// Each change to an outbox entry moves its schedule key with it, in the same batch; the key to
// remove is the stored entry's (the caller's copy already carries the new due time).
Status Store::record_delivered(const OutboxEntry& e) {
  auto stored = stored_entry(e);
  if (!stored) return stored.status();
  rocksdb::WriteBatch batch;
  batch.Delete(outbox_, outbox_key(e.case_number, e.channel));
  batch.Delete(schedule_, schedule_key(stored->adapter, stored->schedule_key()));
  return from_rocks(db_->Write(rocksdb::WriteOptions(), &batch), "recording a delivery failed");
}

Status Store::record_retry(const OutboxEntry& e) {
  auto stored = stored_entry(e);
  if (!stored) return stored.status();
  rocksdb::WriteBatch batch;
  batch.Delete(schedule_, schedule_key(stored->adapter, stored->schedule_key()));
  batch.Put(outbox_, outbox_key(e.case_number, e.channel), encode_entry(e));
  batch.Put(schedule_, schedule_key(e.adapter, e.schedule_key()), {});
  return from_rocks(db_->Write(rocksdb::WriteOptions(), &batch), "recording a retry failed");
}

Status Store::record_dead_letter(const OutboxEntry& e) {
  rocksdb::WriteBatch batch;
  auto key = outbox_key(e.case_number, e.channel);
  if (auto stored = stored_entry(e)) {
    batch.Delete(schedule_, schedule_key(stored->adapter, stored->schedule_key()));
  } else if (stored.status().code() != Status::Code::kNotFound) {
    return stored.status();
  }
  batch.Delete(outbox_, key);
  batch.Put(deadletters_, key, encode_entry(e));
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
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return from_rocks(db_->Write(wo, &batch), "replaying a dead letter failed");
}

Status Store::purge_dead_letter(const std::string& case_number, std::uint16_t channel) {
  auto key = outbox_key(case_number, channel);
  rocksdb::PinnableSlice existing;
  auto g = db_->Get(rocksdb::ReadOptions(), deadletters_, key, &existing);
  if (!g.ok()) return from_rocks(g, "dead letter " + case_number);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return from_rocks(db_->Delete(wo, deadletters_, key), "purging a dead letter failed");
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

Status Store::index_schedule() {
  std::string done;
  auto g = db_->Get(rocksdb::ReadOptions(), meta_, kScheduleIndexKey, &done);
  if (g.ok()) return Status::ok();
  if (!g.IsNotFound()) return from_rocks(g, "cannot read the schedule index state");
  rocksdb::WriteBatch batch;
  Status s = scan(outbox_, [&](const OutboxEntry& e) {
    batch.Put(schedule_, schedule_key(e.adapter, e.schedule_key()), {});
    return Status::ok();
  });
  if (!s.is_ok()) return s;
  batch.Put(meta_, kScheduleIndexKey, "1");
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return from_rocks(db_->Write(wo, &batch), "cannot write the schedule index");
}

Status Store::scan_outbox(const std::function<Status(OutboxEntry)>& fn) const {
  return scan(outbox_, fn);
}

Status Store::scan_dead_letters(const std::function<Status(OutboxEntry)>& fn) const {
  return scan(deadletters_, fn);
}

}  // namespace ozghub::store
