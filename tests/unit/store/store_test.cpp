#include "store/store.hpp"

#include <rocksdb/db.h>

#include <fstream>

#include "store/case_number.hpp"
#include "store/record_codec.hpp"
#include "test_support.hpp"

namespace ozghub::store {
namespace {

using ozghub::testing::TempDir;

constexpr std::int64_t kNov23 = 1795420800000;  // 2026-11-23T08:00:00Z

// One outbox entry per adapter name.
const std::vector<ChannelRef> kOneChannel = {{"transfer", "k0"}};
const std::vector<ChannelRef> kTwoChannels = {{"transfer", "k0"}, {"mail", "k1"}};

CommitItem item(Case* c, std::size_t channels = 1) {
  CommitItem i;
  i.case_ = c;
  i.channels = channels == 2 ? kTwoChannels : kOneChannel;
  return i;
}

OutboxEntry entry(std::string case_number, std::int32_t attempts, std::int64_t due,
                  std::string error) {
  OutboxEntry e;
  e.case_number = std::move(case_number);
  e.office_id = "moeckern-buergeramt";
  e.adapter = "transfer";
  e.attempts = attempts;
  e.due_ms = due;
  e.last_error = std::move(error);
  return e;
}

Case make_case(std::string sender, std::string message_id) {
  Case c;
  c.office_id = "moeckern-buergeramt";
  c.app.message_id = std::move(message_id);
  c.app.sender = std::move(sender);
  c.app.area_id = "150860140140";
  c.app.service_id = "99085001000000";
  c.app.schema = "urn:ozg-hub:schema:antrag:1.0";
  c.app.xml = "<Antrag/>";
  c.app.attachments.push_back({"a.pdf", "application/pdf", std::string("%PDF\0x", 6)});
  c.app.received_at_ms = kNov23;
  return c;
}

TEST(CaseNumber, TwentyDigitsDatePlusSequence) {
  auto g = CaseNumberGenerator::restore("");
  ASSERT_OK(g);
  EXPECT_EQ(g->next(kNov23), "20261123000000000001");
  EXPECT_EQ(g->next(kNov23), "20261123000000000002");
  EXPECT_EQ(g->next(kNov23 + 86400000), "20261124000000000001");
}

TEST(CaseNumber, NeverRepeatsWhenTheClockGoesBack) {
  auto g = CaseNumberGenerator::restore("20261124:7");
  ASSERT_OK(g);
  EXPECT_EQ(g->next(kNov23), "20261124000000000008");
}

TEST(CaseNumber, RestoreRejectsGarbage) {
  EXPECT_FALSE(CaseNumberGenerator::restore("nonsense").is_ok());
  EXPECT_FALSE(CaseNumberGenerator::restore("2026:x").is_ok());
}

TEST(RecordCodec, RoundTripsEveryField) {
  Case c = make_case("portal-a", "m-1");
  c.case_number = "20261123000000000001";
  auto back = decode_case(encode_case(c));
  ASSERT_OK(back);
  EXPECT_EQ(back->case_number, c.case_number);
  EXPECT_EQ(back->office_id, c.office_id);
  EXPECT_EQ(back->app.message_id, "m-1");
  EXPECT_EQ(back->app.sender, "portal-a");
  EXPECT_EQ(back->app.xml, c.app.xml);
  ASSERT_EQ(back->app.attachments.size(), 1u);
  EXPECT_EQ(back->app.attachments[0].data, c.app.attachments[0].data);
  EXPECT_EQ(back->app.received_at_ms, kNov23);
}

TEST(RecordCodec, TruncatedRecordIsCorruption) {
  Case c = make_case("p", "m");
  std::string rec = encode_case(c);
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, rec.size() / 2, rec.size() - 1}) {
    auto r = decode_case(std::string_view(rec).substr(0, n));
    ASSERT_FALSE(r.is_ok()) << n;
    EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
  }
}

TEST(Store, CommitAssignsCaseNumbersAndCreatesOutboxEntries) {
  TempDir dir;
  auto store = Store::open(dir.path().string());
  ASSERT_OK(store);
  Case a = make_case("portal", "m-1"), b = make_case("portal", "m-2");
  std::vector<CommitItem> items = {item(&a, 2), item(&b)};
  ASSERT_OK((*store)->commit(items, kNov23));
  EXPECT_EQ(a.case_number, "20261123000000000001");
  EXPECT_EQ(b.case_number, "20261123000000000002");
  EXPECT_FALSE(items[0].duplicate);
  std::vector<OutboxEntry> outbox;
  ASSERT_OK((*store)->scan_outbox([&](OutboxEntry e) {
    outbox.push_back(std::move(e));
    return Status::ok();
  }));
  ASSERT_EQ(outbox.size(), 3u);
  EXPECT_EQ(outbox[0].adapter, "transfer");
  EXPECT_EQ(outbox[1].adapter, "mail");
  EXPECT_EQ(outbox[1].channel, 1);
  EXPECT_EQ(outbox[1].office_id, "moeckern-buergeramt");
  EXPECT_EQ(outbox[1].channel_key, "k1");
  EXPECT_EQ(outbox[2].case_number, b.case_number);
  auto loaded = (*store)->load_case(a.case_number);
  ASSERT_OK(loaded);
  EXPECT_EQ(loaded->app.message_id, "m-1");
  EXPECT_EQ(loaded->office_id, "moeckern-buergeramt");
}

TEST(Store, SameSenderAndMessageIdIsADuplicateAcrossAndWithinBatches) {
  TempDir dir;
  auto store = Store::open(dir.path().string());
  ASSERT_OK(store);
  Case a = make_case("portal", "m-1");
  std::vector<CommitItem> first = {item(&a)};
  ASSERT_OK((*store)->commit(first, kNov23));

  Case again = make_case("portal", "m-1");
  again.office_id = "routed-elsewhere-after-a-reload";
  Case other_sender = make_case("other", "m-1"), twice1 = make_case("portal", "m-9"),
       twice2 = make_case("portal", "m-9");
  std::vector<CommitItem> second = {item(&again), item(&other_sender), item(&twice1),
                                    item(&twice2)};
  ASSERT_OK((*store)->commit(second, kNov23));
  EXPECT_TRUE(second[0].duplicate);
  EXPECT_EQ(again.case_number, a.case_number);
  EXPECT_EQ(again.office_id, "moeckern-buergeramt");
  EXPECT_FALSE(second[1].duplicate);
  EXPECT_NE(other_sender.case_number, a.case_number);
  EXPECT_FALSE(second[2].duplicate);
  EXPECT_TRUE(second[3].duplicate);
  EXPECT_EQ(twice1.case_number, twice2.case_number);

  int outbox = 0;
  ASSERT_OK((*store)->scan_outbox([&](OutboxEntry) {
    ++outbox;
    return Status::ok();
  }));
  EXPECT_EQ(outbox, 3);  // a, other_sender, twice1
}

TEST(Store, CaseNumbersAndDeliveriesSurviveReopen) {
  TempDir dir;
  std::string first_number;
  {
    auto store = Store::open(dir.path().string());
    ASSERT_OK(store);
    Case a = make_case("portal", "m-1"), b = make_case("portal", "m-2");
    std::vector<CommitItem> items = {item(&a), item(&b)};
    ASSERT_OK((*store)->commit(items, kNov23));
    first_number = a.case_number;
    OutboxEntry done = entry(a.case_number, 1, 0, "");
    ASSERT_OK((*store)->record_delivered(done));
    OutboxEntry failing = entry(b.case_number, 3, kNov23 + 5000, "transfer_dir: disk full");
    ASSERT_OK((*store)->record_dead_letter(failing, 0));
  }
  auto store = Store::open(dir.path().string());
  ASSERT_OK(store);
  Case c = make_case("portal", "m-3");
  std::vector<CommitItem> items = {item(&c)};
  ASSERT_OK((*store)->commit(items, kNov23));
  EXPECT_EQ(c.case_number, "20261123000000000003");
  int outbox = 0;
  ASSERT_OK((*store)->scan_outbox([&](OutboxEntry e) {
    EXPECT_EQ(e.case_number, c.case_number);
    ++outbox;
    return Status::ok();
  }));
  EXPECT_EQ(outbox, 1);
  std::vector<OutboxEntry> dead;
  ASSERT_OK((*store)->scan_dead_letters([&](OutboxEntry e) {
    dead.push_back(std::move(e));
    return Status::ok();
  }));
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].attempts, 3);
  EXPECT_EQ(dead[0].last_error, "transfer_dir: disk full");
  EXPECT_EQ(dead[0].adapter, "transfer");
  EXPECT_EQ(dead[0].office_id, "moeckern-buergeramt");
}

TEST(Store, DeadLettersAreReplayedIntoTheOutboxOrPurged) {
  TempDir dir;
  auto store = Store::open(dir.path().string());
  ASSERT_OK(store);
  Case a = make_case("portal", "m-1");
  std::vector<CommitItem> items = {item(&a, 2)};
  ASSERT_OK((*store)->commit(items, kNov23));
  OutboxEntry first = entry(a.case_number, 10, kNov23, "HTTP 503");
  OutboxEntry second = first;
  second.channel = 1;
  second.adapter = "mail";
  second.last_error = "SMTP 550 at RCPT";
  ASSERT_OK((*store)->record_dead_letter(first, 0));
  ASSERT_OK((*store)->record_dead_letter(second, 0));
  auto letters = (*store)->dead_letters_of(a.case_number);
  ASSERT_OK(letters);
  ASSERT_EQ(letters->size(), 2u);
  EXPECT_EQ((*letters)[1].last_error, "SMTP 550 at RCPT");
  EXPECT_EQ((*store)->dead_letters_of("20261123000000000099")->size(), 0u);

  OutboxEntry again = first;
  again.attempts = 0;
  ASSERT_OK((*store)->replay_dead_letter(again));
  EXPECT_EQ((*store)->replay_dead_letter(again).code(), Status::Code::kNotFound);
  std::vector<OutboxEntry> outbox;
  ASSERT_OK((*store)->scan_outbox([&](OutboxEntry e) {
    outbox.push_back(std::move(e));
    return Status::ok();
  }));
  ASSERT_EQ(outbox.size(), 1u);
  EXPECT_EQ(outbox[0].attempts, 0);
  EXPECT_EQ(outbox[0].channel, 0);

  ASSERT_OK((*store)->purge_dead_letter(a.case_number, 1));
  EXPECT_EQ((*store)->purge_dead_letter(a.case_number, 1).code(), Status::Code::kNotFound);
  EXPECT_EQ((*store)->dead_letters_of(a.case_number)->size(), 0u);
}

std::vector<std::string> scheduled_cases(const Store& store, const std::string& adapter,
                                         const std::optional<ScheduleKey>& after = {},
                                         std::size_t limit = 100) {
  auto entries = store.scheduled(adapter, after, limit);
  EXPECT_TRUE(entries.is_ok());
  std::vector<std::string> out;
  if (entries) {
    for (const auto& e : *entries) out.push_back(e.case_number);
  }
  return out;
}

TEST(Store, TheScheduleOrdersEachAdaptersDeliveriesByDueTimeAndFollowsEveryChange) {
  TempDir dir;
  auto store = Store::open(dir.path().string());
  ASSERT_OK(store);
  Case a = make_case("portal", "m-1"), b = make_case("portal", "m-2"),
       c = make_case("portal", "m-3");
  std::vector<CommitItem> items = {item(&a, 2), item(&b, 2), item(&c, 2)};
  ASSERT_OK((*store)->commit(items, kNov23));
  EXPECT_EQ(scheduled_cases(**store, "transfer"),
            (std::vector<std::string>{a.case_number, b.case_number, c.case_number}));
  EXPECT_EQ(scheduled_cases(**store, "mail").size(), 3u);
  // Paging: after a key, up to a limit.
  EXPECT_EQ(scheduled_cases(**store, "transfer", ScheduleKey{0, a.case_number, 0}, 1),
            (std::vector<std::string>{b.case_number}));

  // a is retried later: it moves behind the others; b is delivered; c is dead-lettered.
  OutboxEntry retry = entry(a.case_number, 1, kNov23 + 1000, "HTTP 503");
  ASSERT_OK((*store)->record_retry(retry, 0));
  OutboxEntry done = entry(b.case_number, 1, 0, "");
  EXPECT_TRUE((*store)->is_scheduled(done));
  ASSERT_OK((*store)->record_delivered(done));
  EXPECT_FALSE((*store)->is_scheduled(done));
  OutboxEntry stale = entry(a.case_number, 0, 0, "");  // a copy from before the retry
  EXPECT_FALSE((*store)->is_scheduled(stale));
  EXPECT_TRUE((*store)->is_scheduled(retry));
  Case d = make_case("portal", "m-4");
  std::vector<CommitItem> more = {item(&d)};
  ASSERT_OK((*store)->commit(more, kNov23));
  EXPECT_EQ(scheduled_cases(**store, "transfer"),
            (std::vector<std::string>{c.case_number, d.case_number, a.case_number}));
  ASSERT_OK((*store)->record_dead_letter(entry(c.case_number, 10, kNov23, "no"), 0));
  EXPECT_EQ(scheduled_cases(**store, "transfer"),
            (std::vector<std::string>{d.case_number, a.case_number}));
  auto counts = (*store)->count_scheduled();
  ASSERT_OK(counts);
  EXPECT_EQ(*counts,
            (std::map<std::string, std::size_t, std::less<>>{{"mail", 3}, {"transfer", 2}}));
  // A replayed dead letter is scheduled again, due at once.
  OutboxEntry again = entry(c.case_number, 0, 0, "");
  ASSERT_OK((*store)->replay_dead_letter(again));
  EXPECT_EQ(scheduled_cases(**store, "transfer"),
            (std::vector<std::string>{c.case_number, d.case_number, a.case_number}));
}

TEST(Store, RefusesADamagedDatabase) {
  TempDir dir;
  {
    auto store = Store::open(dir.path().string());
    ASSERT_OK(store);
  }
  // Overwrite the manifest with garbage: opening must fail loudly, never start empty.
  for (const auto& f : std::filesystem::directory_iterator(dir.path())) {
    if (f.path().filename().string().rfind("MANIFEST-", 0) == 0) {
      std::ofstream(f.path(), std::ios::binary | std::ios::trunc) << "garbage garbage garbage";
    }
  }
  auto store = Store::open(dir.path().string());
  EXPECT_FALSE(store.is_ok());
}

}  // namespace
}  // namespace ozghub::store
