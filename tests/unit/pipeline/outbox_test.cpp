#include "pipeline/outbox.hpp"

#include <thread>

#include "test_support.hpp"

namespace ozghub::pipeline {
namespace {

DeliveryTask task(std::string case_number, std::int64_t due) {
  DeliveryTask t;
  t.entry.case_number = std::move(case_number);
  t.entry.due_ms = due;
  return t;
}

TEST(Outbox, ReadyTasksComeOutInOrderDelayedOnesWhenDue) {
  Outbox o;
  std::int64_t now = now_ms();
  o.push(task("later", now + 150));
  o.push(task("first", 0));
  o.push(task("second", 0));
  EXPECT_EQ(o.size(), 3u);
  EXPECT_EQ(o.take()->entry.case_number, "first");
  EXPECT_EQ(o.take()->entry.case_number, "second");
  auto t = o.take();  // blocks until due
  EXPECT_GE(now_ms(), now + 150);
  EXPECT_EQ(t->entry.case_number, "later");
}

TEST(Outbox, StopWakesWaitingThreads) {
  Outbox o;
  std::thread t([&] { EXPECT_FALSE(o.take().has_value()); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  o.stop();
  t.join();
}

TEST(Outbox, KeepsOnlyABoundedNumberOfCasesInMemory) {
  Outbox o(2);
  for (int i = 0; i < 5; ++i) {
    DeliveryTask t = task(std::to_string(i), 0);
    t.case_ = std::make_shared<Case>();
    o.push(std::move(t));
  }
  int with_case = 0;
  for (int i = 0; i < 5; ++i) with_case += o.take()->case_ ? 1 : 0;
  EXPECT_EQ(with_case, 2);
}

}  // namespace
}  // namespace ozghub::pipeline
