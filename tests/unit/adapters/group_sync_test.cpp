#include "transfer_dir/group_sync.hpp"

#include <atomic>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace ozghub::adapters {
namespace {

TEST(GroupSync, EveryCallerGetsASyncThatStartedAfterItsCall) {
  ozghub::testing::TempDir dir;
  GroupSync gs(dir.path().string());
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

TEST(GroupSync, AMissingFolderIsAnErrorNotACrash) {
  GroupSync gs("/nonexistent/ozghub/folder");
  Status s = gs.sync();
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), Status::Code::kIoError);
}

}  // namespace
}  // namespace ozghub::adapters
