#include "pipeline/outbox.hpp"

#include <map>
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

TEST(Outbox, KeepsOnlyABoundedSizeOfCasesInMemory) {
  // Room for 100 cases by count, but 2.5 MiB of payload: two 1 MiB cases, then small ones again
  // once the big ones have left.
  Outbox o(100, SIZE_MAX, {}, (5u << 20) / 2);
  const auto with_payload = [](std::string number, std::size_t bytes) {
    DeliveryTask t = task(std::move(number), 0);
    auto c = std::make_shared<Case>();
    c->app.xml.assign(1024, 'x');
    if (bytes > 1024)
      c->app.attachments.push_back({"a.pdf", "application/pdf", std::string(bytes - 1024, 'p')});
    t.case_ = std::move(c);
    return t;
  };
  for (int i = 0; i < 4; ++i) o.push(with_payload("big" + std::to_string(i), 1u << 20));
  int with_case = 0;
  for (int i = 0; i < 4; ++i) with_case += o.take()->case_ ? 1 : 0;
  EXPECT_EQ(with_case, 2);
  for (int i = 0; i < 3; ++i) o.push(with_payload("small" + std::to_string(i), 1024));
  with_case = 0;
  for (int i = 0; i < 3; ++i) with_case += o.take()->case_ ? 1 : 0;
  EXPECT_EQ(with_case, 3);
}

// A store's schedule, in memory: what a paging Outbox reads from.
struct FakeSchedule {
  std::map<store::ScheduleKey, store::OutboxEntry> entries;
  int reads = 0;
  void add(std::string case_number, std::int64_t due) {
    store::OutboxEntry e;
    e.case_number = std::move(case_number);
    e.due_ms = due;
    entries[e.schedule_key()] = e;
  }
  Outbox::Source source() {
    return [this](const std::optional<store::ScheduleKey>& after, std::size_t limit) {
      ++reads;
      std::vector<store::OutboxEntry> out;
      auto it = after ? entries.upper_bound(*after) : entries.begin();
      for (; it != entries.end() && out.size() < limit; ++it) out.push_back(it->second);
      return Result<std::vector<store::OutboxEntry>>(std::move(out));
    };
  }
};

std::string number(int i) {
  std::string s = std::to_string(i);
  return std::string(6 - s.size(), '0') + s;
}

TEST(Outbox, PagesABacklogFromTheStoreInScheduleOrderWithinItsWindow) {
  FakeSchedule schedule;
  for (int i = 0; i < 100; ++i) schedule.add(number(i), 0);
  Outbox o(4096, 10, schedule.source());
  o.page_from_store();
  EXPECT_EQ(o.size(), 0u);
  for (int i = 0; i < 100; ++i) {
    auto t = o.take();
    ASSERT_TRUE(t);
    EXPECT_EQ(t->entry.case_number, number(i));
    EXPECT_LE(o.size(), 10u);
    schedule.entries.erase(t->entry.schedule_key());  // delivered
    o.done(t->entry.schedule_key());
  }
  EXPECT_EQ(o.size(), 0u);
  EXPECT_GE(schedule.reads, 10);
}

TEST(Outbox, PushesBeyondAFullWindowWaitInTheStoreAndComeBackInOrder) {
  FakeSchedule schedule;
  Outbox o(4096, 4, schedule.source());
  for (int i = 0; i < 20; ++i) {  // as the committer does: into the store, then pushed
    schedule.add(number(i), 0);
    o.push(task(number(i), 0));
    EXPECT_LE(o.size(), 4u);
  }
  for (int i = 0; i < 20; ++i) {
    auto t = o.take();
    ASSERT_TRUE(t);
    EXPECT_EQ(t->entry.case_number, number(i));
    schedule.entries.erase(t->entry.schedule_key());
    o.done(t->entry.schedule_key());
  }
  EXPECT_EQ(o.size(), 0u);
}

TEST(Outbox, NeverHandsOutACopyOfADeliveryBeingAttempted) {
  FakeSchedule schedule;
  schedule.add("a", 0);
  Outbox o(4096, 4, schedule.source());
  o.page_from_store();
  auto t = o.take();
  ASSERT_TRUE(t);
  o.push(task("a", 0));  // e.g. the committer's push arriving after a refill read it
  EXPECT_EQ(o.size(), 0u);
  o.done(t->entry.schedule_key());
}

}  // namespace
}  // namespace ozghub::pipeline
