#include "admin/status_report.hpp"

#include "admin/throughput.hpp"
#include "test_support.hpp"

namespace ozghub::admin {
namespace {

using nlohmann::json;
using ozghub::testing::TempDir;

constexpr std::int64_t kNow = 1795420800000;  // 2026-11-23T08:00:00Z

class StatusReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::Store::open(dir_.path().string());
    ASSERT_OK(s);
    store_ = std::move(*s);
  }

  // Commits one case for `office` with `channels` deliveries owed; returns its case number.
  std::string commit(const std::string& office, int channels, std::int64_t at_ms) {
    Case c;
    c.office_id = office;
    c.app.message_id = "m-" + std::to_string(++n_);
    c.app.sender = "portal";
    c.app.service_id = "99085001000000";
    c.app.area_id = "150860140140";
    c.app.xml = "<antrag><name>Erika Mustermann</name></antrag>";
    std::vector<store::ChannelRef> refs;
    for (int i = 0; i < channels; ++i) refs.push_back({"transfer", "k" + std::to_string(i)});
    std::vector<store::CommitItem> items(1);
    items[0].case_ = &c;
    items[0].channels = refs;
    EXPECT_TRUE(store_->commit(items, at_ms).is_ok());
    return c.case_number;
  }

  TempDir dir_;
  std::unique_ptr<store::Store> store_;
  int n_ = 0;
};

TEST_F(StatusReportTest, CountsOwedDeliveriesPerOfficeAndFindsTheOldestCase) {
  const std::string first = commit("kreis", 2, kNow - 90000);
  commit("land", 1, kNow - 60000);
  commit("kreis", 2, kNow - 30000);
  StatusReport r;
  ASSERT_OK(scan_backlog(*store_, 100, kNow, r));
  EXPECT_TRUE(r.scan.complete);
  EXPECT_EQ(r.scan.scanned, 5u);
  ASSERT_EQ(r.offices.size(), 2u);
  EXPECT_EQ(r.offices[0].office, "kreis");  // largest backlog first
  EXPECT_EQ(r.offices[0].deliveries, 4u);
  EXPECT_EQ(r.offices[0].cases, 2u);
  EXPECT_EQ(r.offices[1].office, "land");
  EXPECT_EQ(r.offices[1].deliveries, 1u);
  ASSERT_TRUE(r.oldest);
  EXPECT_EQ(r.oldest->case_number, first);
  EXPECT_EQ(r.oldest->office, "kreis");
  EXPECT_EQ(r.oldest->committed_at_ms, kNow - 90000);
  EXPECT_DOUBLE_EQ(r.oldest->age_seconds, 90.0);
  EXPECT_EQ(r.dead_letters, 0u);
}

TEST_F(StatusReportTest, ScanStopsAtItsLimitAndSaysSo) {
  const std::string first = commit("kreis", 2, kNow - 5000);
  commit("land", 1, kNow - 4000);
  StatusReport r;
  ASSERT_OK(scan_backlog(*store_, 2, kNow, r));
  EXPECT_FALSE(r.scan.complete);
  EXPECT_EQ(r.scan.scanned, 2u);
  ASSERT_EQ(r.offices.size(), 1u);
  EXPECT_EQ(r.offices[0].deliveries, 2u);
  ASSERT_TRUE(r.oldest);
  EXPECT_EQ(r.oldest->case_number, first);
}

TEST_F(StatusReportTest, NothingOwedMeansNoOldestCase) {
  StatusReport r;
  ASSERT_OK(scan_backlog(*store_, 100, kNow, r));
  EXPECT_FALSE(r.oldest);
  EXPECT_TRUE(r.offices.empty());
  EXPECT_TRUE(to_json(r)["oldest_undelivered"].is_null());
}

TEST(StatusReportJson, HasEveryFieldTheCliPrints) {
  StatusReport r;
  r.generated_at_ms = kNow;
  r.window_seconds = 60;
  r.received = 120;
  r.accepted = 118;
  r.received_per_second = 2;
  r.accepted_per_second = 118.0 / 60;
  r.stages = {{"intake", 3}, {"commit", 1}, {"delivery", 7}};
  r.offices = {{"kreis", 7, 4}};
  r.scan = {7, 100000, true};
  r.dead_letters = 2;
  r.oldest = OldestCase{"20261123000000000001", "kreis", kNow - 42000, 42};
  r.adapters = {{"transfer", "transfer_dir", 4, 7, 7, 10, 0, "ok"}};
  r.certificates = {{"moeckern", "CN=Stadt Möckern", 1826956800, 365.0}};
  const json j = to_json(r);
  EXPECT_EQ(j["generated_at"], "2026-11-23T08:00:00.000Z");
  EXPECT_EQ(j["throughput"]["received"], 120);
  EXPECT_EQ(j["throughput"]["accepted"], 118);
  EXPECT_DOUBLE_EQ(j["throughput"]["received_per_second"].get<double>(), 2.0);
  EXPECT_EQ(j["throughput"]["window_seconds"], 60.0);
  EXPECT_EQ(j["backlog"]["stages"], (json{{"intake", 3}, {"commit", 1}, {"delivery", 7}}));
  EXPECT_EQ(j["backlog"]["offices"][0],
            (json{{"office", "kreis"}, {"deliveries", 7}, {"cases", 4}}));
  EXPECT_EQ(j["backlog"]["dead_letters"], 2);
  EXPECT_EQ(j["backlog"]["scan"], (json{{"entries", 7}, {"limit", 100000}, {"complete", true}}));
  EXPECT_EQ(j["oldest_undelivered"]["case"], "20261123000000000001");
  EXPECT_EQ(j["oldest_undelivered"]["committed_at"], "2026-11-23T07:59:18.000Z");
  EXPECT_EQ(j["oldest_undelivered"]["age_seconds"], 42.0);
  EXPECT_EQ(j["adapters"][0]["name"], "transfer");
  EXPECT_EQ(j["adapters"][0]["type"], "transfer_dir");
  EXPECT_EQ(j["adapters"][0]["state"], "ok");
  EXPECT_EQ(j["adapters"][0]["concurrency"], 4);
  EXPECT_EQ(j["adapters"][0]["backlog"], 7);
  EXPECT_EQ(j["adapters"][0]["delivered"], 10);
  EXPECT_EQ(j["adapters"][0]["failed_attempts"], 0);
  EXPECT_EQ(j["certificates"][0]["office"], "moeckern");
  EXPECT_EQ(j["certificates"][0]["subject"], "CN=Stadt Möckern");
  EXPECT_EQ(j["certificates"][0]["not_after"], "2027-11-23T08:00:00.000Z");
  EXPECT_EQ(j["certificates"][0]["days_left"], 365.0);
  // No personal data can be in it: the report has no field that holds any.
  EXPECT_EQ(j.dump().find("Mustermann"), std::string::npos);
}

TEST(AdapterState, FollowsRecentOutcomes) {
  EXPECT_EQ(adapter_state(0, 0, 0), "idle");
  EXPECT_EQ(adapter_state(5, 0, 0), "waiting");
  EXPECT_EQ(adapter_state(5, 3, 0), "ok");
  EXPECT_EQ(adapter_state(5, 3, 1), "degraded");
  EXPECT_EQ(adapter_state(5, 0, 4), "failing");
}

TEST(Throughput, RatesOverTheWindow) {
  std::uint64_t received = 0;
  Throughput t([&] { return Totals{{"received", received}}; }, std::chrono::seconds(10));
  EXPECT_EQ(t.last(0).seconds, 0);  // no sample yet
  for (int s = 0; s <= 30; ++s) {
    t.sample(s * 1000);
    if (s < 30) received += s >= 20 ? 10 : 5;  // 5/s, then 10/s from second 20 on
  }
  // Samples older than the window are gone: the last 10 s at 10/s.
  Window w = t.last(30000);
  EXPECT_DOUBLE_EQ(w.seconds, 10.0);
  EXPECT_EQ(w.count("received"), 100u);
  EXPECT_DOUBLE_EQ(w.per_second("received"), 10.0);
  EXPECT_EQ(w.count("absent"), 0u);
  EXPECT_EQ(w.per_second("absent"), 0.0);
}

}  // namespace
}  // namespace ozghub::admin
