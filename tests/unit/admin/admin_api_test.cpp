#include "admin/admin_api.hpp"

#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace ozghub::admin {
namespace {

using nlohmann::json;
using ozghub::testing::TempDir;

class AdminApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::Store::open(dir_.path().string());
    ASSERT_OK(s);
    store_ = std::move(*s);
    host_ = std::make_unique<delivery::DeliveryHost>(*store_, routing_, adapters_,
                                                     config::RetryPolicy{}, metrics_);
    api_ = std::make_unique<AdminApi>(registry_, *host_, *store_);
  }

  // Commits one case and parks its delivery as a dead letter; returns the case number.
  std::string dead_case() {
    Case c;
    c.office_id = "amt";
    c.app.message_id = "m-" + std::to_string(++n_);
    c.app.sender = "portal";
    c.app.service_id = "99085001000000";
    c.app.area_id = "150860140140";
    c.app.xml = "<antrag><name>Erika Mustermann</name></antrag>";
    c.app.attachments = {{"Ausweis_Mustermann.pdf", "application/pdf", "%PDF"}};
    std::vector<store::ChannelRef> channels = {{"mail", "k"}};
    std::vector<store::CommitItem> items(1);
    items[0].case_ = &c;
    items[0].channels = channels;
    EXPECT_TRUE(store_->commit(items, 1795420800000).is_ok());
    store::OutboxEntry e;
    e.case_number = c.case_number;
    e.office_id = "amt";
    e.adapter = "mail";
    e.attempts = 10;
    e.due_ms = 1795420800000;
    e.last_error = "SMTP 550 after RCPT";
    EXPECT_TRUE(store_->record_dead_letter(e, 0).is_ok());
    return c.case_number;
  }

  Response call(std::string method, std::string target) {
    return api_->handle({std::move(method), std::move(target)});
  }

  TempDir dir_;
  std::unique_ptr<store::Store> store_;
  pipeline::RoutingState routing_;
  delivery::AdapterMap adapters_;
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  delivery::DeliveryMetrics metrics_{*registry_};
  std::unique_ptr<delivery::DeliveryHost> host_;
  std::unique_ptr<AdminApi> api_;
  int n_ = 0;
};

TEST_F(AdminApiTest, LivezReadyzAndMetrics) {
  EXPECT_EQ(call("GET", "/livez").status, 200);
  EXPECT_EQ(call("GET", "/readyz").status, 503);
  EXPECT_EQ(call("GET", "/readyz").body, "not ready: starting\n");
  api_->readiness().set("starting", false);
  EXPECT_EQ(call("GET", "/readyz").status, 200);
  EXPECT_EQ(call("GET", "/readyz").body, "ready\n");
  api_->readiness().set("stopping", true);
  api_->readiness().set("disk_low", true);
  EXPECT_EQ(call("GET", "/readyz").status, 503);
  EXPECT_EQ(call("GET", "/readyz").body, "not ready: disk_low stopping\n");
  api_->readiness().set("stopping", false);
  EXPECT_EQ(call("GET", "/readyz").body, "not ready: disk_low\n");
  auto m = call("GET", "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("ozghub_dead_letters 0"), std::string::npos) << m.body;
  EXPECT_EQ(call("POST", "/metrics").status, 405);
  EXPECT_EQ(call("GET", "/nothing").status, 404);
}

TEST_F(AdminApiTest, ListsAndShowsDeadLettersWithoutPersonalData) {
  const std::string c = dead_case();
  auto list = call("GET", "/v1/deadletters");
  ASSERT_EQ(list.status, 200) << list.body;
  auto j = json::parse(list.body);
  ASSERT_EQ(j["dead_letters"].size(), 1u);
  EXPECT_EQ(j["dead_letters"][0]["case"], c);
  EXPECT_EQ(j["dead_letters"][0]["adapter"], "mail");
  EXPECT_EQ(j["dead_letters"][0]["last_error"], "SMTP 550 after RCPT");
  EXPECT_EQ(j["dead_letters"][0]["dead_since"], "2026-11-23T08:00:00.000Z");

  auto show = call("GET", "/v1/deadletters/" + c);
  ASSERT_EQ(show.status, 200) << show.body;
  auto s = json::parse(show.body);
  EXPECT_EQ(s["service_id"], "99085001000000");
  EXPECT_EQ(s["attachments"], 1);
  EXPECT_EQ(show.body.find("Mustermann"), std::string::npos) << show.body;
  EXPECT_EQ(list.body.find("Mustermann"), std::string::npos) << list.body;
}

TEST_F(AdminApiTest, ReplayAndPurgeAnswerNotFoundAndBadRequests) {
  const std::string a = dead_case(), b = dead_case();
  EXPECT_EQ(call("GET", "/v1/deadletters/123").status, 400);
  EXPECT_EQ(call("GET", "/v1/deadletters/20261123000000000099").status, 404);
  EXPECT_EQ(call("POST", "/v1/deadletters/" + a + "/replay?channel=x").status, 400);
  EXPECT_EQ(call("POST", "/v1/deadletters/" + a + "/replay?channel=4").status, 404);
  EXPECT_EQ(call("GET", "/v1/deadletters/" + a + "/replay").status, 405);
  EXPECT_EQ(call("PUT", "/v1/deadletters/" + a).status, 405);

  // No lane for adapter "mail" here: the replayed delivery is parked again at once, which is
  // what the daemon does for an adapter instance the configuration lost.
  auto r = call("POST", "/v1/deadletters/" + a + "/replay?channel=0");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["replayed"], 1);
  auto again = json::parse(call("GET", "/v1/deadletters/" + a).body);
  EXPECT_EQ(again["dead_letters"][0]["last_error"], "adapter instance 'mail' is not configured");
  EXPECT_EQ(again["dead_letters"][0]["attempts"], 0);

  auto p = call("DELETE", "/v1/deadletters/" + b);
  ASSERT_EQ(p.status, 200) << p.body;
  EXPECT_EQ(json::parse(p.body)["purged"], 1);
  EXPECT_EQ(call("DELETE", "/v1/deadletters/" + b).status, 404);
  EXPECT_EQ(json::parse(call("GET", "/v1/deadletters").body)["dead_letters"].size(), 1u);
}

}  // namespace
}  // namespace ozghub::admin
