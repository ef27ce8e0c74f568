#include "pipeline/committer.hpp"

#include <gmock/gmock.h>
#include <signal.h>
#include <sys/resource.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

#include "test_support.hpp"

namespace ozghub::pipeline {
namespace {

using ozghub::testing::TempDir;

// Says on stderr what reached it, so the death test can see that nothing did.
class ReportingOrigin final : public Origin {
 public:
  void settle(std::vector<std::pair<std::uint64_t, Verdict>> verdicts) override {
    for (const auto& [id, v] : verdicts)
      std::fprintf(stderr, "SETTLED %s\n", std::to_string(id).c_str());
  }
};

class ReportingSink final : public DeliverySink {
 public:
  void push(DeliveryTask task) override {
    std::fprintf(stderr, "SCHEDULED %s\n", task.entry.case_number.c_str());
  }
};

PendingCase pending(std::uint64_t id, std::shared_ptr<Origin> origin, std::size_t xml_bytes) {
  PendingCase p;
  p.case_ = std::make_shared<Case>();
  p.case_->office_id = "amt";
  p.case_->app.message_id = "m-" + std::to_string(id);
  p.case_->app.xml = std::string(xml_bytes, 'x');
  p.channels = {{"transfer", "k"}};
  p.origin = std::move(origin);
  p.id = id;
  return p;
}

// Commits one batch whose synced write fails: the file size limit makes every write past it fail
// with EFBIG, as a full disk fails with ENOSPC.
void commit_with_failing_writes(const std::string& dir) {
  auto store = store::Store::open(dir);
  if (!store) std::_Exit(3);
  ReportingSink sink;
  Committer committer(**store, sink, 16);
  committer.start();
  ::signal(SIGXFSZ, SIG_IGN);
  rlimit limit{1 << 20, 1 << 20};
  ::setrlimit(RLIMIT_FSIZE, &limit);
  auto origin = std::make_shared<ReportingOrigin>();
  std::vector<PendingCase> batch;
  batch.push_back(pending(1, origin, 100));
  batch.push_back(pending(2, origin, 4 << 20));
  committer.submit(std::move(batch));
  std::this_thread::sleep_for(std::chrono::seconds(60));  // the committer exits before
  std::_Exit(0);
}

TEST(CommitterDeathTest, FailedSyncedWriteExitsWithoutSettlingOrSchedulingAnything) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  TempDir dir;
  EXPECT_EXIT(commit_with_failing_writes(dir.path().string()),
              ::testing::ExitedWithCode(kExitStoreFailed),
              ::testing::AllOf(::testing::HasSubstr("store.commit_failed"),
                               ::testing::Not(::testing::HasSubstr("SETTLED")),
                               ::testing::Not(::testing::HasSubstr("SCHEDULED"))));
  // Nothing of the batch is in the store: a restart recovers no case and no delivery.
  auto store = store::Store::open(dir.path().string());
  ASSERT_OK(store);
  EXPECT_FALSE((*store)->is_committed("", "m-1"));
  std::size_t deliveries = 0;
  ASSERT_TRUE((*store)
                  ->scan_outbox([&](const store::OutboxEntry&) {
                    ++deliveries;
                    return Status::ok();
                  })
                  .is_ok());
  EXPECT_EQ(deliveries, 0u);
}

TEST(Committer, CommitsSettlesAndSchedulesABatch) {
  TempDir dir;
  auto store = store::Store::open(dir.path().string());
  ASSERT_OK(store);
  struct Collect final : DeliverySink, Origin {
    std::mutex m;
    std::condition_variable cv;
    int scheduled = 0;
    int settled = 0;
    void push(DeliveryTask) override {
      std::lock_guard l(m);
      ++scheduled;
    }
    void settle(std::vector<std::pair<std::uint64_t, Verdict>> v) override {
      std::lock_guard l(m);
      for (const auto& [id, verdict] : v) settled += verdict.accepted ? 1 : 0;
      cv.notify_all();
    }
  };
  auto collect = std::make_shared<Collect>();
  Committer committer(**store, *collect, 16);
  committer.start();
  std::vector<PendingCase> batch;
  batch.push_back(pending(1, collect, 100));
  batch.push_back(pending(2, collect, 100));
  committer.submit(std::move(batch));
  std::unique_lock lock(collect->m);
  ASSERT_TRUE(
      collect->cv.wait_for(lock, std::chrono::seconds(30), [&] { return collect->settled == 2; }));
  EXPECT_EQ(collect->scheduled, 2);
  lock.unlock();
  committer.stop();
  EXPECT_TRUE((*store)->is_committed("", "m-1"));
}

}  // namespace
}  // namespace ozghub::pipeline
