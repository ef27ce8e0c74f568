// Encryption at rest and deletion in the store: sealed records, the data key in its own column
// family, deletion after retention (key first), compaction, audit trail, KEK rotation.
#include <rocksdb/db.h>

#include <thread>

#include "crypto/cms.hpp"
#include "crypto/file_kek.hpp"
#include "store/store.hpp"
#include "test_support.hpp"

namespace ozghub::store {
namespace {

using ozghub::testing::TempDir;
using std::chrono::milliseconds;

constexpr char kMarker[] = "Zq7-personal-marker-Mustermann";
const std::vector<ChannelRef> kOneChannel = {{"transfer", "k0"}};

std::shared_ptr<const crypto::Keyring> keyring(
    std::vector<std::pair<std::string, std::string>> keks, const std::string& active) {
  std::vector<std::shared_ptr<const crypto::Kek>> out;
  for (auto& [id, bytes] : keks) {
    out.emplace_back(crypto::memory_kek(id, *crypto::DataKey::from_bytes(bytes)));
  }
  return std::make_shared<const crypto::Keyring>(std::move(out), active);
}

Case make_case(const std::string& message_id) {
  Case c;
  c.office_id = "moeckern-buergeramt";
  c.app.message_id = message_id;
  c.app.sender = "portal";
  c.app.area_id = "150860140140";
  c.app.service_id = "99085001000000";
  c.app.xml = std::string("<Antrag><Name>") + kMarker + "</Name></Antrag>";
  c.app.attachments.push_back({std::string("Ausweis_") + kMarker + ".pdf", "application/pdf",
                               std::string("%PDF ") + kMarker});
  c.app.received_at_ms = 1795420800000;
  return c;
}

// Every file under `dir` whose bytes contain `needle`.
std::vector<std::string> files_containing(const std::filesystem::path& dir,
                                          std::string_view needle) {
  std::vector<std::string> out;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir)) {
    if (!f.is_regular_file()) continue;
    if (ozghub::testing::read_file(f.path()).find(needle) != std::string::npos) {
      out.push_back(f.path().string());
    }
  }
  return out;
}

class CaseLifecycle : public ::testing::Test {
 protected:
  void open(milliseconds payload = milliseconds(1000), milliseconds audit = milliseconds(5000)) {
    store_.reset();
    auto s = Store::open(dir_.path().string(), {keys_, payload, audit});
    ASSERT_OK(s);
    store_ = std::move(*s);
  }

  std::string commit(const std::string& message_id, std::int64_t now,
                     std::span<const ChannelRef> channels = kOneChannel) {
    Case c = make_case(message_id);
    CommitItem it;
    it.case_ = &c;
    it.channels = channels;
    std::vector<CommitItem> items{it};
    EXPECT_TRUE(store_->commit(items, now).is_ok());
    return c.case_number;
  }

  void deliver(const std::string& case_number) {
    OutboxEntry e;
    e.case_number = case_number;
    e.channel = 0;
    e.adapter = "transfer";
    e.attempts = 1;
    ASSERT_OK(store_->record_delivered(e));
  }

  static std::int64_t now() {
    return std::chrono::duration_cast<milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  TempDir dir_;
  std::shared_ptr<crypto::KeyringState> keys_ =
      std::make_shared<crypto::KeyringState>(keyring({{"k1", std::string(32, '1')}}, "k1"));
  std::unique_ptr<Store> store_;
};

TEST_F(CaseLifecycle, RecordsAreSealedAndReadableAfterReopen) {
  open();
  auto number = commit("m1", now());
  auto sealed = store_->sealed_record(number);
  ASSERT_OK(sealed);
  EXPECT_EQ(sealed->find(kMarker), std::string::npos);
  store_.reset();  // the write-ahead log and the files hold only ciphertext
  EXPECT_EQ(files_containing(dir_.path(), kMarker), std::vector<std::string>{});
  open();
  auto c = store_->load_case(number);
  ASSERT_OK(c);
  EXPECT_EQ(c->app.xml, make_case("m1").app.xml);
  EXPECT_EQ(c->app.attachments.at(0).data, make_case("m1").app.attachments.at(0).data);
  EXPECT_EQ(store_->data_keys_per_kek(), (std::map<std::string, std::int64_t>{{"k1", 1}}));
}

TEST_F(CaseLifecycle, AnUnknownKekIsAClearError) {
  open();
  auto number = commit("m1", now());
  keys_->set(keyring({{"k2", std::string(32, '2')}}, "k2"));
  auto c = store_->load_case(number);
  ASSERT_FALSE(c.is_ok());
  EXPECT_NE(c.status().message().find("'k1', which is not configured"), std::string::npos)
      << c.status().message();
}

TEST_F(CaseLifecycle, TheKeyGoesFirstThenThePayloadThenTheCiphertextLeavesTheFiles) {
  open(milliseconds(0));
  auto number = commit("m1", now());
  auto sealed = store_->sealed_record(number);
  ASSERT_OK(sealed);
  // Flushed to a table file, as it would be for a case that waited for its delivery.
  store_.reset();
  open(milliseconds(0));
  const std::string ciphertext = sealed->substr(crypto::kNonceBytes, 24);
  EXPECT_FALSE(files_containing(dir_.path(), ciphertext).empty());

  // Not delivered yet: nothing is due.
  auto r = store_->sweep(now() + 1, 10);
  ASSERT_OK(r);
  EXPECT_EQ(r->cases_deleted, 0u);
  deliver(number);

  // Crypto-shredding alone makes the case unreadable at once.
  ASSERT_OK(store_->destroy_key(number, now()));
  EXPECT_EQ(store_->load_case(number).status().code(), Status::Code::kNotFound);
  EXPECT_FALSE(store_->has_payload(number));
  ASSERT_OK(store_->sealed_record(number));  // the ciphertext is still there: unreadable

  r = store_->sweep(now() + 1, 10);
  ASSERT_OK(r);
  EXPECT_EQ(r->cases_deleted, 1u);
  EXPECT_FALSE(store_->sealed_record(number).is_ok());
  EXPECT_EQ(files_containing(dir_.path(), ciphertext), std::vector<std::string>{});
  EXPECT_TRUE(store_->data_keys_per_kek().empty());

  auto trail = store_->audit_trail(number);
  ASSERT_OK(trail);
  std::string all;
  for (const auto& e : *trail) all += e + "\n";
  EXPECT_EQ(all.find(kMarker), std::string::npos);
  const auto pos = [&](const char* event) { return all.find(std::string("\"") + event + "\""); };
  EXPECT_LT(pos("committed"), pos("delivered"));
  EXPECT_LT(pos("delivered"), pos("deletion_scheduled"));
  EXPECT_LT(pos("deletion_scheduled"), pos("key_destroyed"));
  EXPECT_LT(pos("key_destroyed"), pos("payload_deleted"));
  EXPECT_NE(all.find(crypto::sha256_hex(make_case("m1").app.xml)), std::string::npos);
}

TEST_F(CaseLifecycle, DeletionWaitsForEveryChannelAndForTheRetention) {
  open(milliseconds(60'000));
  const std::vector<ChannelRef> two = {{"transfer", "k0"}, {"mail", "k1"}};
  auto number = commit("m1", now(), two);
  deliver(number);  // channel 0 only
  auto r = store_->sweep(now() + 3'600'000, 10);
  ASSERT_OK(r);
  EXPECT_EQ(r->cases_deleted, 0u);
  OutboxEntry e;
  e.case_number = number;
  e.channel = 1;
  e.adapter = "mail";
  ASSERT_OK(store_->record_dead_letter(e, 0));
  ASSERT_OK(store_->sweep(now() + 3'600'000, 10));
  ASSERT_OK(store_->load_case(number));
  ASSERT_OK(store_->purge_dead_letter(number, 1));  // the purge ends the last channel
  r = store_->sweep(now(), 10);
  ASSERT_OK(r);
  EXPECT_EQ(r->cases_deleted, 0u);  // retention not over yet
  r = store_->sweep(now() + 61'000, 10);
  ASSERT_OK(r);
  EXPECT_EQ(r->cases_deleted, 1u);
  EXPECT_EQ(store_->load_case(number).status().code(), Status::Code::kNotFound);
}

TEST_F(CaseLifecycle, TheAuditTrailAndTheIdempotencyRecordExpireLater) {
  open(milliseconds(0), milliseconds(60'000));
  auto number = commit("m1", now());
  deliver(number);
  ASSERT_OK(store_->sweep(now() + 1, 10));
  EXPECT_FALSE(store_->has_payload(number));
  // A resend after the deletion is still recognised: same case, same office, no new delivery.
  Case again = make_case("m1");
  again.office_id = "somewhere-else";
  CommitItem it;
  it.case_ = &again;
  it.channels = kOneChannel;
  std::vector<CommitItem> items{it};
  ASSERT_OK(store_->commit(items, now()));
  EXPECT_TRUE(items[0].duplicate);
  EXPECT_EQ(again.case_number, number);
  EXPECT_EQ(again.office_id, "moeckern-buergeramt");

  auto r = store_->sweep(now() + 120'000, 10);
  ASSERT_OK(r);
  EXPECT_EQ(r->audits_expired, 1u);
  EXPECT_EQ(store_->audit_trail(number).status().code(), Status::Code::kNotFound);
  EXPECT_FALSE(store_->is_committed("portal", "m1"));
}

TEST_F(CaseLifecycle, RotationRewrapsEveryDataKeyAndOldCasesStayReadable) {
  open();
  std::vector<std::string> numbers;
  for (int i = 0; i < 5; ++i) numbers.push_back(commit("m" + std::to_string(i), now()));
  keys_->set(keyring({{"k1", std::string(32, '1')}, {"k2", std::string(32, '2')}}, "k2"));
  numbers.push_back(commit("new", now()));
  EXPECT_EQ(store_->data_keys_per_kek(),
            (std::map<std::string, std::int64_t>{{"k1", 5}, {"k2", 1}}));
  auto r = store_->sweep(now(), 3);  // in rounds
  ASSERT_OK(r);
  EXPECT_EQ(r->keys_rewrapped, 3u);
  r = store_->sweep(now(), 3);
  ASSERT_OK(r);
  EXPECT_EQ(r->keys_rewrapped, 2u);
  EXPECT_EQ(store_->data_keys_per_kek(), (std::map<std::string, std::int64_t>{{"k2", 6}}));
  // The old KEK is removed: everything is still readable, also after a restart.
  keys_->set(keyring({{"k2", std::string(32, '2')}}, "k2"));
  open();
  EXPECT_EQ(store_->data_keys_per_kek(), (std::map<std::string, std::int64_t>{{"k2", 6}}));
  for (const auto& n : numbers) ASSERT_OK(store_->load_case(n));
}

TEST_F(CaseLifecycle, ARotationDuringARotationStillReachesEveryKey) {
  open();
  for (int i = 0; i < 5; ++i) commit("m" + std::to_string(i), now());
  keys_->set(keyring({{"k1", std::string(32, '1')}, {"k2", std::string(32, '2')}}, "k2"));
  auto r = store_->sweep(now(), 2);  // stops part way, after the first two keys
  ASSERT_OK(r);
  EXPECT_EQ(r->keys_rewrapped, 2u);
  keys_->set(keyring(
      {{"k1", std::string(32, '1')}, {"k2", std::string(32, '2')}, {"k3", std::string(32, '3')}},
      "k3"));
  // Rounds go on after the last key of the previous one and start over at the end, so the two
  // keys before the resume point (now under k2) are reached too.
  std::size_t total = 0;
  for (int round = 0; round < 10 && store_->data_keys_per_kek().size() > 1; ++round) {
    r = store_->sweep(now(), 2);
    ASSERT_OK(r);
    total += r->keys_rewrapped;
  }
  EXPECT_EQ(total, 5u);
  EXPECT_EQ(store_->data_keys_per_kek(), (std::map<std::string, std::int64_t>{{"k3", 5}}));
}

TEST_F(CaseLifecycle, ADatabaseWithUnencryptedCasesIsRefused) {
  {
    rocksdb::Options o;
    o.create_if_missing = true;
    o.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {{rocksdb::kDefaultColumnFamilyName, {}},
                                                        {"cases", {}}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir_.path().string(), cfs, &handles, &db).ok());
    ASSERT_TRUE(db->Put({}, handles[1], "20261123000000000001", "plain").ok());
    for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
    delete db;
  }
  auto s = Store::open(dir_.path().string(), {keys_});
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.status().message().find("unencrypted"), std::string::npos) << s.status().message();
}

}  // namespace
}  // namespace ozghub::store
