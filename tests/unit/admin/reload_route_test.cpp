#include "admin/reload_route.hpp"

#include "test_support.hpp"

namespace ozghub::admin {
namespace {

// The reload itself is tested in config/reloader_test.cpp and with a running daemon in
// integration/test_config_reload.py; here the route's own answers.
TEST(ReloadRoute, OnlyPost) {
  Response r = reload_route({"GET", "/v1/reload"}, nullptr);
  EXPECT_EQ(r.status, 405);
  EXPECT_NE(r.body.find("use POST"), std::string::npos);
}

TEST(ReloadRoute, UnavailableWithoutAReloader) {
  Response r = reload_route({"POST", "/v1/reload"}, nullptr);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.content_type, "application/json");
}

}  // namespace
}  // namespace ozghub::admin
