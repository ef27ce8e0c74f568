#include "transfer_dir/group_sync.hpp"

#include <atomic>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace ozghub::adapters {
namespace {

class GroupSyncKinds : public ::testing::TestWithParam<GroupSync::Kind> {};

TEST_P(GroupSyncKinds, EveryCallerGetsASyncThatStartedAfterItsCall) {
  ozghub::testing::TempDir dir;
  GroupSync gs(dir.path().string(), GetParam());
  constexpr int kThreads = 16, kRounds = 20;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int r = 0; r < kRounds; ++r) {
        if (gs.sync().is_ok()) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads * kRounds);
  EXPECT_GE(gs.syncs_done(), static_cast<std::uint64_t>(kRounds));
}

TEST_P(GroupSyncKinds, AMissingFolderIsAnErrorNotACrash) {
  GroupSync gs("/nonexistent/ozghub/folder", GetParam());
  Status s = gs.sync();
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), Status::Code::kIoError);
}

INSTANTIATE_TEST_SUITE_P(Both, GroupSyncKinds,
                         ::testing::Values(GroupSync::Kind::kFileSystem,
                                           GroupSync::Kind::kDirectory));

// A directory sync follows the folder by name: one replaced after construction is synced.
TEST(GroupSync, DirectoryKindSyncsAReplacedFolder) {
  ozghub::testing::TempDir dir;
  const auto office = dir.path() / "office";
  std::filesystem::create_directories(office);
  GroupSync gs(office.string(), GroupSync::Kind::kDirectory);
  ASSERT_TRUE(gs.sync().is_ok());
  std::filesystem::remove_all(office);
  EXPECT_FALSE(gs.sync().is_ok());
  std::filesystem::create_directories(office);
  EXPECT_TRUE(gs.sync().is_ok());
}

}  // namespace
}  // namespace ozghub::adapters
