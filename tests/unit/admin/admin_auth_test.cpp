#include "admin/admin_auth.hpp"

#include <sys/stat.h>

#include "test_support.hpp"

namespace ozghub::admin {
namespace {

constexpr char kToken[] = "0123456789abcdef0123456789abcdef";

TEST(AdminAuth, TokensCompareEqualOnlyWhenIdentical) {
  EXPECT_TRUE(tokens_equal(kToken, kToken));
  EXPECT_FALSE(tokens_equal("0123456789abcdef0123456789abcdeF", kToken));
  EXPECT_FALSE(tokens_equal("0123456789abcdef0123456789abcde", kToken));  // a prefix
  EXPECT_FALSE(tokens_equal(std::string(kToken) + "0", kToken));
  EXPECT_FALSE(tokens_equal("", kToken));
}

TEST(AdminAuth, WithoutAPolicyEverythingIsAllowed) {
  AccessPolicy open;
  EXPECT_EQ(check_access(open, "/metrics", "", false), Access::kAllowed);
  EXPECT_EQ(check_access(open, "/v1/deadletters", "Bearer whatever", false), Access::kAllowed);
}

TEST(AdminAuth, ATokenIsNeededForEverythingButLivez) {
  AccessPolicy policy{kToken, false};
  const std::string good = std::string("Bearer ") + kToken;
  EXPECT_EQ(check_access(policy, "/livez", "", false), Access::kAllowed);
  EXPECT_EQ(check_access(policy, "/livez?verbose", "", false), Access::kAllowed);
  for (const char* target :
       {"/readyz", "/metrics", "/v1/deadletters", "/livez/../metrics", "/livezz", "//livez"}) {
    EXPECT_EQ(check_access(policy, target, "", false), Access::kUnauthorized) << target;
    EXPECT_EQ(check_access(policy, target, good, false), Access::kAllowed) << target;
  }
  EXPECT_EQ(check_access(policy, "/metrics", std::string("bearer  ") + kToken + " ", false),
            Access::kAllowed);  // the scheme is case-insensitive
  for (std::string bad :
       {std::string("Bearer"), std::string("Bearer "), std::string("Basic ") + kToken,
        std::string("Bearer") + kToken, std::string("Bearer x") + kToken, std::string(kToken)}) {
    EXPECT_EQ(check_access(policy, "/metrics", bad, true), Access::kUnauthorized) << bad;
  }
}

TEST(AdminAuth, AClientCertificateIsNeededForEverythingButLivez) {
  AccessPolicy policy{"", true};
  EXPECT_EQ(check_access(policy, "/livez", "", false), Access::kAllowed);
  EXPECT_EQ(check_access(policy, "/metrics", "", false), Access::kForbidden);
  EXPECT_EQ(check_access(policy, "/metrics", "", true), Access::kAllowed);
  AccessPolicy both{kToken, true};
  EXPECT_EQ(check_access(both, "/metrics", std::string("Bearer ") + kToken, false),
            Access::kForbidden);
  EXPECT_EQ(check_access(both, "/metrics", "", true), Access::kUnauthorized);
  EXPECT_EQ(check_access(both, "/metrics", std::string("Bearer ") + kToken, true),
            Access::kAllowed);
}

TEST(AdminAuth, TheTokenFileIsPrivateAndHoldsAStrongToken) {
  ozghub::testing::TempDir dir;
  auto file = [&](const std::string& content, mode_t mode = 0600) {
    auto path = (dir.path() / "token").string();
    std::filesystem::remove(path);
    ozghub::testing::write_file(path, content);
    ::chmod(path.c_str(), mode);
    return path;
  };
  auto token = load_token(file(std::string(kToken) + "\n"));
  ASSERT_OK(token);
  EXPECT_EQ(*token, kToken);
  EXPECT_TRUE(load_token(file("dGhpcyBpcyBhIHRva2VuIQ==")).is_ok());  // base64 with padding
  auto readable = load_token(file(kToken, 0644));
  ASSERT_FALSE(readable.is_ok());
  EXPECT_NE(readable.status().message().find("chmod 600"), std::string::npos);
  for (const char* weak :
       {"short", "has a space in the token", "0123456789abcdef\n2nd line", "=0123456789abcdef"}) {
    auto r = load_token(file(weak));
    ASSERT_FALSE(r.is_ok()) << weak;
    EXPECT_NE(r.status().message().find("openssl rand -hex 32"), std::string::npos);
  }
}

}  // namespace
}  // namespace ozghub::admin
