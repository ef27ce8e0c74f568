// The glue of GET /v1/status, GET /v1/route and POST /v1/backup, through AdminApi as the server
// calls it (the answers' content: status_report_test, route_explanation_test, test_ops_cli.py).
#include "admin/ops_api.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace ozghub::admin {
namespace {

using nlohmann::json;
using ozghub::testing::TempDir;

class OpsApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::Store::open((dir_.path() / "store").string());
    ASSERT_OK(s);
    store_ = std::move(*s);
    host_ = std::make_unique<delivery::DeliveryHost>(*store_, routing_, adapters_,
                                                     config::RetryPolicy{}, metrics_);
    committer_ = std::make_unique<pipeline::Committer>(*store_, *host_, 100);
    intake_ = std::make_unique<pipeline::Intake>(config::Limits{}, nullptr, routing_, *committer_);
    ops_ = std::make_unique<OpsApi>(
        OpsSources{*store_, routing_, *host_, adapters_, metrics_, *intake_, *committer_});
    api_ = std::make_unique<AdminApi>(registry_, *host_, *store_);
    api_->attach(*ops_);
  }

  Response call(std::string method, std::string target) {
    return api_->handle({std::move(method), std::move(target)});
  }

  TempDir dir_;
  std::unique_ptr<store::Store> store_;
  pipeline::RoutingState routing_;  // nothing loaded
  delivery::AdapterMap adapters_;
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  delivery::DeliveryMetrics metrics_{*registry_};
  std::unique_ptr<delivery::DeliveryHost> host_;
  std::unique_ptr<pipeline::Committer> committer_;
  std::unique_ptr<pipeline::Intake> intake_;
  std::unique_ptr<OpsApi> ops_;
  std::unique_ptr<AdminApi> api_;
};

TEST_F(OpsApiTest, StatusOfAnIdleHub) {
  auto r = call("GET", "/v1/status");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = json::parse(r.body);
  EXPECT_EQ(j["backlog"]["stages"], (json{{"intake", 0}, {"commit", 0}, {"delivery", 0}}));
  EXPECT_TRUE(j["oldest_undelivered"].is_null());
  EXPECT_EQ(j["throughput"]["window_seconds"], 0.0);  // not sampled yet
  EXPECT_EQ(call("POST", "/v1/status").status, 405);
}

TEST_F(OpsApiTest, RouteNeedsBothParametersAndADirectory) {
  EXPECT_EQ(call("GET", "/v1/route?area=15").status, 400);
  EXPECT_EQ(call("GET", "/v1/route?service=99085001000000").status, 400);
  EXPECT_EQ(call("GET", "/v1/route?area=15&service=99085001000000").status, 503);
  EXPECT_EQ(call("POST", "/v1/route?area=15&service=99085001000000").status, 405);
}

TEST_F(OpsApiTest, BackupIntoAPercentEncodedDirectory) {
  const auto target = dir_.path() / "backup 1&2";
  std::string encoded;
  for (char c : target.string()) {
    if (c == ' ') {
      encoded += "%20";
    } else if (c == '&') {
      encoded += "%26";
    } else {
      encoded += c;
    }
  }
  auto r = call("POST", "/v1/backup?dir=" + encoded);
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = json::parse(r.body);
  EXPECT_EQ(j["dir"], target.string());
  EXPECT_TRUE(j["hard_links"]);
  EXPECT_TRUE(std::filesystem::exists(target / "CURRENT"));
  auto again = call("POST", "/v1/backup?dir=" + encoded);
  EXPECT_EQ(again.status, 400);
  EXPECT_NE(again.body.find("exists already"), std::string::npos);
  EXPECT_EQ(call("POST", "/v1/backup").status, 400);
  EXPECT_EQ(call("POST", "/v1/backup?dir=%2").status, 400);  // malformed escape
  EXPECT_EQ(call("GET", "/v1/backup?dir=" + encoded).status, 405);
}

}  // namespace
}  // namespace ozghub::admin
