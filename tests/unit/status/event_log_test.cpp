#include "status/event_log.hpp"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <nlohmann/json.hpp>

#include "store/store.hpp"
#include "test_support.hpp"

namespace ozghub::status {
namespace {

using nlohmann::json;
using ozghub::testing::TempDir;

constexpr std::int64_t kNov23 = 1795420800000;  // 2026-11-23T08:00:00Z
const std::vector<store::ChannelRef> kOneChannel = {{"transfer", "k0"}};

// The event log on a database of its own.
class RawLog : public ::testing::Test {
 protected:
  void SetUp() override { open(); }
  void TearDown() override { close(); }

  void open(EventLogOptions options = {true}) {
    rocksdb::Options o;
    o.create_if_missing = true;
    o.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
        {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
        {"status_events", rocksdb::ColumnFamilyOptions()}};
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir_.path().string(), cfs, &handles_, &raw).ok());
    db_.reset(raw);
    auto log = EventLog::open(*db_, handles_[1], options);
    ASSERT_OK(log);
    log_ = std::move(*log);
  }
  void close() {
    log_.reset();
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    handles_.clear();
    db_.reset();
  }
  void accept(const std::string& sender, const std::string& case_number, std::int64_t at) {
    EventLog::Ticket t(*log_);
    rocksdb::WriteBatch b;
    log_->accepted(b, t, sender, case_number, "office", "m-" + case_number, at);
    ASSERT_TRUE(db_->Write(rocksdb::WriteOptions(), &b).ok());
  }
  std::vector<std::uint64_t> seqs(const std::string& sender, std::uint64_t after = 0) {
    auto r = log_->read(sender, after, 100);
    EXPECT_TRUE(r.is_ok());
    std::vector<std::uint64_t> out;
    if (r) {
      for (const auto& e : *r) out.push_back(e.seq);
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::unique_ptr<EventLog> log_;
};

TEST_F(RawLog, EachSenderHasItsOwnOrderedSequence) {
  accept("portal-a", "c1", kNov23);
  accept("portal-b", "c2", kNov23);
  accept("portal-a", "c3", kNov23);
  EXPECT_EQ(seqs("portal-a"), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(seqs("portal-b"), (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(seqs("portal-a", 1), (std::vector<std::uint64_t>{2}));
  auto r = log_->read("portal-a", 0, 1);
  ASSERT_OK(r);
  ASSERT_EQ(r->size(), 1u);
  const auto& e = r->front();
  EXPECT_EQ(e.type, EventType::kAccepted);
  EXPECT_EQ(e.case_number, "c1");
  auto body = json::parse(e.body);
  EXPECT_EQ(body["type"], "accepted");
  EXPECT_EQ(body["seq"], 1);
  EXPECT_EQ(body["sender"], "portal-a");
  EXPECT_EQ(body["case_number"], "c1");
  EXPECT_EQ(body["office_id"], "office");
  EXPECT_EQ(body["message_id"], "m-c1");
  EXPECT_EQ(body["time"], "2026-11-23T08:00:00.000Z");
  EXPECT_EQ(body["event_id"], e.event_id);
  EXPECT_EQ(e.event_id.size(), 36u);
}

TEST_F(RawLog, AnEventIsReadableOnlyOnceEveryEarlierBatchIsWritten) {
  std::vector<std::string> woken;
  log_->set_listener([&](const std::string& s) { woken.push_back(s); });
  auto first = std::make_unique<EventLog::Ticket>(*log_);
  rocksdb::WriteBatch b1;
  log_->accepted(b1, *first, "portal-a", "c1", "o", "m1", kNov23);
  {
    EventLog::Ticket second(*log_);
    rocksdb::WriteBatch b2;
    log_->accepted(b2, second, "portal-a", "c2", "o", "m2", kNov23);
    ASSERT_TRUE(db_->Write(rocksdb::WriteOptions(), &b2).ok());
  }
  // seq 2 is on disk, seq 1 is not yet: a reader must not pass 1.
  EXPECT_TRUE(seqs("portal-a").empty());
  EXPECT_EQ(woken.size(), 1u);
  ASSERT_TRUE(db_->Write(rocksdb::WriteOptions(), &b1).ok());
  first.reset();
  EXPECT_EQ(seqs("portal-a"), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(woken, (std::vector<std::string>{"portal-a", "portal-a"}));
}

TEST_F(RawLog, AFailedBatchLeavesAGapReadersSkip) {
  {
    EventLog::Ticket t(*log_);
    rocksdb::WriteBatch lost;
    log_->accepted(lost, t, "portal-a", "c1", "o", "m1", kNov23);
  }  // never written
  accept("portal-a", "c2", kNov23);
  EXPECT_EQ(seqs("portal-a"), (std::vector<std::uint64_t>{2}));
}

TEST_F(RawLog, CursorAndSequenceSurviveAReopen) {
  accept("portal-a", "c1", kNov23);
  accept("portal-a", "c2", kNov23);
  accept("portal-a", "c3", kNov23);
  log_->ack("portal-a", 2);
  EXPECT_EQ(log_->pending(), 1u);
  ASSERT_OK(log_->flush_cursors());
  close();
  open();
  EXPECT_EQ(log_->cursor("portal-a"), 2u);
  EXPECT_EQ(log_->pending(), 1u);
  accept("portal-a", "c4", kNov23);
  EXPECT_EQ(seqs("portal-a", log_->cursor("portal-a")), (std::vector<std::uint64_t>{3, 4}));
  EXPECT_EQ(log_->cursor("portal-b"), 0u);
}

TEST_F(RawLog, SweepRemovesAcceptedExpiredAndExcessEvents) {
  close();
  open({true, std::chrono::hours(1), 3});
  const std::int64_t hour = 3600 * 1000;
  for (int i = 1; i <= 6; ++i) accept("portal-a", "c" + std::to_string(i), kNov23 + i * hour);
  log_->ack("portal-a", 1);
  // Now = c3's time + 1 h: c1 accepted, c2 older than the retention, c3 beyond the three newest.
  auto r = log_->sweep(kNov23 + 3 * hour + hour);
  ASSERT_OK(r);
  EXPECT_EQ(r->removed, 3u);
  EXPECT_EQ(r->expired_unread, 2u);
  EXPECT_EQ(log_->expired_unread(), 2u);
  EXPECT_EQ(seqs("portal-a"), (std::vector<std::uint64_t>{4, 5, 6}));
  EXPECT_EQ(log_->pending(), 3u);
  // The numbers are never reused, also after a reopen with every event removed.
  log_->ack("portal-a", 6);
  ASSERT_OK(log_->sweep(kNov23 + 6 * hour));
  EXPECT_TRUE(seqs("portal-a").empty());
  close();
  open();
  accept("portal-a", "c7", kNov23);
  EXPECT_EQ(seqs("portal-a"), (std::vector<std::uint64_t>{7}));
}

TEST_F(RawLog, NoEventsWhenDisabledOrWithoutASender) {
  accept("", "c1", kNov23);
  EXPECT_EQ(log_->pending(), 0u);
  close();
  open({false});
  accept("portal-a", "c1", kNov23);
  EXPECT_TRUE(seqs("portal-a").empty());
}

// The store writes the events in the batches of the changes they report.
TEST(StoreStatusEvents, EveryStepOfACaseReportsToItsSender) {
  TempDir dir;
  store::StoreOptions options;
  options.status_events.enabled = true;
  options.payload_retention = std::chrono::milliseconds(0);
  auto s = store::Store::open(dir.path().string(), options);
  ASSERT_OK(s);
  store::Store& st = **s;
  Case c;
  c.office_id = "moeckern-buergeramt";
  c.app.message_id = "m-1";
  c.app.sender = "portal-a";
  c.app.xml = "<Antrag/>";
  std::vector<store::CommitItem> items(1);
  items[0].case_ = &c;
  items[0].channels = kOneChannel;
  ASSERT_OK(st.commit(items, kNov23));
  // A resend is accepted again without a new event.
  Case again = c;
  items[0].case_ = &again;
  ASSERT_OK(st.commit(items, kNov23));
  ASSERT_TRUE(items[0].duplicate);

  store::OutboxEntry e;
  e.case_number = c.case_number;
  e.office_id = c.office_id;
  e.adapter = "transfer";
  e.channel_key = "k0";
  e.attempts = 1;
  e.due_ms = kNov23 + 1000;
  ASSERT_OK(st.record_retry(e, 0));
  e.attempts = 2;
  ASSERT_OK(st.record_dead_letter(e, e.due_ms));
  ASSERT_OK(st.purge_dead_letter(c.case_number, 0));  // no event; schedules the deletion
  const std::int64_t later = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count() +
                             10'000;
  auto swept = st.sweep(later, 0);
  ASSERT_OK(swept);
  EXPECT_EQ(swept->cases_deleted, 1u);

  auto events = st.status_events().read("portal-a", 0, 100);
  ASSERT_OK(events);
  std::vector<std::string> types;
  for (const auto& ev : *events) {
    types.push_back(json::parse(ev.body)["type"]);
    EXPECT_EQ(ev.case_number, c.case_number);
  }
  EXPECT_EQ(types, (std::vector<std::string>{"accepted", "failed", "dead_lettered", "deleted"}));
  auto failed = json::parse((*events)[1].body);
  EXPECT_EQ(failed["channel"], 0);
  EXPECT_EQ(failed["adapter"], "transfer");
  EXPECT_EQ(failed["attempts"], 1);
  EXPECT_EQ(failed["retry_at"], "2026-11-23T08:00:01.000Z");
  EXPECT_EQ(st.status_events().written(EventType::kAccepted), 1u);
}

TEST(StoreStatusEvents, DeliveredIsWrittenWithTheOutboxChange) {
  TempDir dir;
  store::StoreOptions options;
  options.status_events.enabled = true;
  auto s = store::Store::open(dir.path().string(), options);
  ASSERT_OK(s);
  Case c;
  c.office_id = "o";
  c.app.message_id = "m-1";
  c.app.sender = "portal-a";
  std::vector<store::CommitItem> items(1);
  items[0].case_ = &c;
  items[0].channels = kOneChannel;
  ASSERT_OK((*s)->commit(items, kNov23));
  store::OutboxEntry e;
  e.case_number = c.case_number;
  e.adapter = "transfer";
  e.attempts = 1;
  ASSERT_OK((*s)->record_delivered(e));
  auto events = (*s)->status_events().read("portal-a", 1, 10);
  ASSERT_OK(events);
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(events->front().type, EventType::kDelivered);
  EXPECT_EQ(json::parse(events->front().body)["attempts"], 1);
}

}  // namespace
}  // namespace ozghub::status
