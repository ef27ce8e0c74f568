// The PLAIN password file and its check.
#include "ingress/sasl_server.hpp"

#include "test_support.hpp"

namespace ozghub::ingress {
namespace {

// `openssl passwd -6 -salt saltsalt secret` and `-5`.
constexpr char kSha512[] =
    "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq."
    "H91p5hVO1";
constexpr char kSha256[] = "$5$saltsalt$0IyaXrmV7.sGNS6tirgqHLqX/G.FBvgkYA.lpPdS5sA";

TEST(PasswordFile, MatchesCryptHashes) {
  EXPECT_TRUE(password_matches(kSha512, "secret"));
  EXPECT_TRUE(password_matches(kSha256, "secret"));
  EXPECT_FALSE(password_matches(kSha512, "Secret"));
  EXPECT_FALSE(password_matches(kSha512, ""));
  EXPECT_FALSE(password_matches("$6$", "secret"));
  EXPECT_FALSE(password_matches("*", "secret"));
}

TEST(PasswordFile, Loads) {
  ozghub::testing::TempDir dir;
  auto path = dir.path() / "passwords";
  ozghub::testing::write_file(
      path, std::string("# comment\n\nform:") + kSha512 + "\nother:" + kSha256 + "\n");
  auto users = load_password_file(path.string());
  ASSERT_OK(users);
  EXPECT_EQ(users->size(), 2u);
  EXPECT_EQ(users->at("form"), kSha512);
}

TEST(PasswordFile, ErrorsNameTheLine) {
  ozghub::testing::TempDir dir;
  auto path = dir.path() / "passwords";
  ozghub::testing::write_file(path, "# comment\nform:plaintext-password\n");
  auto bad = load_password_file(path.string());
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find(path.string() + ":2: expected 'user:hash'"),
            std::string::npos)
      << bad.status().message();
  ozghub::testing::write_file(path, std::string("a:") + kSha256 + "\na:" + kSha512 + "\n");
  auto twice = load_password_file(path.string());
  ASSERT_FALSE(twice.is_ok());
  EXPECT_NE(twice.status().message().find(":2: the user is listed twice"), std::string::npos);
  ozghub::testing::write_file(path, "# nobody\n");
  EXPECT_FALSE(load_password_file(path.string()).is_ok());
  EXPECT_FALSE(load_password_file((dir.path() / "missing").string()).is_ok());
}

}  // namespace
}  // namespace ozghub::ingress
