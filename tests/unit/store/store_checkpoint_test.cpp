// Store::checkpoint() (the online backup) and what open() does with a restored copy of one.
#include <chrono>
#include <filesystem>

#include "crypto/aead.hpp"
#include "crypto/file_kek.hpp"
#include "store/store.hpp"
#include "test_support.hpp"

namespace ozghub::store {
namespace {

namespace fs = std::filesystem;
using ozghub::testing::TempDir;

constexpr std::int64_t kNov23At3 = 1795402800000;  // 2026-11-23T03:00:00Z

std::shared_ptr<crypto::KeyringState> one_kek() {
  std::vector<std::shared_ptr<const crypto::Kek>> keks;
  keks.emplace_back(crypto::memory_kek("k1", *crypto::DataKey::from_bytes(std::string(32, '1'))));
  return std::make_shared<crypto::KeyringState>(
      std::make_shared<const crypto::Keyring>(std::move(keks), "k1"));
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Commits one case with one delivery owed; returns its case number.
std::string commit(Store& store, const std::string& message_id) {
  Case c;
  c.office_id = "amt";
  c.app.message_id = message_id;
  c.app.sender = "portal";
  c.app.service_id = "99085001000000";
  c.app.area_id = "150860140140";
  c.app.xml = "<antrag/>";
  const std::vector<ChannelRef> channels = {{"transfer", "k0"}};
  std::vector<CommitItem> items(1);
  items[0].case_ = &c;
  items[0].channels = channels;
  EXPECT_TRUE(store.commit(items, now_ms()).is_ok());
  return c.case_number;
}

std::vector<std::string> owed(const Store& store) {
  std::vector<std::string> out;
  EXPECT_TRUE(store
                  .scan_outbox([&](OutboxEntry e) {
                    out.push_back(e.case_number);
                    return Status::ok();
                  })
                  .is_ok());
  return out;
}

TEST(CaseNumberAfterRestore, SkipsPastWhatTheLostDaemonCanHaveIssuedToday) {
  auto g = CaseNumberGenerator::restore("20261123:5");
  ASSERT_OK(g);
  g->skip_after_restore(kNov23At3);
  EXPECT_EQ(g->next(kNov23At3), "20261123010801000001");  // 3 h = 10800 s, + 1, times 10^6
  // A second restore later that day skips further; never backwards.
  g->skip_after_restore(kNov23At3 + 1000);
  EXPECT_EQ(g->next(kNov23At3 + 1000), "20261123010802000001");
  g->skip_after_restore(kNov23At3);
  EXPECT_EQ(g->next(kNov23At3), "20261123010802000002");
  // A backup from an earlier day: today's numbers start past the same floor.
  auto old = CaseNumberGenerator::restore("20261122:99");
  ASSERT_OK(old);
  old->skip_after_restore(kNov23At3);
  EXPECT_EQ(old->next(kNov23At3), "20261123010801000001");
}

TEST(StoreCheckpoint, RefusesAnExistingOrRelativeDirectory) {
  TempDir dir;
  auto store = Store::open((dir.path() / "store").string());
  ASSERT_OK(store);
  fs::create_directories(dir.path() / "there");
  auto exists = (*store)->checkpoint((dir.path() / "there").string());
  ASSERT_FALSE(exists.is_ok());
  EXPECT_NE(exists.status().message().find("exists already"), std::string::npos);
  EXPECT_FALSE((*store)->checkpoint("relative/backup").is_ok());
  EXPECT_FALSE((*store)->checkpoint((dir.path() / "missing" / "backup").string()).is_ok());
}

TEST(StoreCheckpoint, ACopyOfTheBackupOpensWithWhatWasCommittedAndNewCaseNumbers) {
  TempDir dir;
  auto keys = one_kek();
  const fs::path live = dir.path() / "store", backup = dir.path() / "backup";
  std::vector<std::string> before;
  std::string after;
  {
    auto store = Store::open(live.string(), {keys});
    ASSERT_OK(store);
    before = {commit(**store, "m-1"), commit(**store, "m-2")};
    auto info = (*store)->checkpoint(backup.string());
    ASSERT_OK(info);
    EXPECT_EQ(info->dir, backup.string());
    EXPECT_GT(info->sequence, 0u);
    EXPECT_GT(info->bytes, 0u);
    EXPECT_TRUE(fs::exists(backup / kBackupMarker));
    EXPECT_FALSE(fs::exists(live / kBackupMarker));
    after = commit(**store, "m-3");  // accepted after the backup: not in it
  }
  const fs::path restored = dir.path() / "restored";
  fs::copy(backup, restored, fs::copy_options::recursive);
  auto store = Store::open(restored.string(), {keys});
  ASSERT_OK(store);
  EXPECT_EQ(owed(**store), before);
  auto c = (*store)->load_case(before[0]);
  ASSERT_OK(c);
  EXPECT_EQ(c->app.message_id, "m-1");
  EXPECT_TRUE((*store)->is_committed("portal", "m-2"));
  EXPECT_FALSE((*store)->is_committed("portal", "m-3"));
  // The marker is consumed, and the next case number is past the lost daemon's `after`.
  EXPECT_FALSE(fs::exists(restored / kBackupMarker));
  const std::string next = commit(**store, "m-4");
  EXPECT_GT(next, after);
  EXPECT_GT(next.substr(8), std::string("000000000003"));
}

}  // namespace
}  // namespace ozghub::store
