// The PKCS#11 KEK against SoftHSM2 (Debian's softhsm2): a token initialised with softhsm2-util in
// a temporary token directory, its AES key made with pkcs11-tool (opensc), as an operator would.
#include "crypto/pkcs11_kek.hpp"

#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <thread>

#include "kek_checks.hpp"
#include "test_support.hpp"

namespace ozghub::crypto {
namespace {

using ozghub::testing::TempDir;

constexpr char kModule[] = "/usr/lib/softhsm/libsofthsm2.so";
constexpr char kToken[] = "ozg-hub-test";
constexpr char kPin[] = "5678";

class Pkcs11Kek : public ::testing::Test {
 protected:
  // One token for the whole suite: SoftHSM reads SOFTHSM2_CONF once per process.
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    auto tokens = dir_->path() / "tokens";
    std::filesystem::create_directories(tokens);
    auto conf = dir_->path() / "softhsm2.conf";
    ozghub::testing::write_file(conf, "directories.tokendir = " + tokens.string() +
                                          "\nobjectstore.backend = file\nlog.level = ERROR\n");
    ::setenv("SOFTHSM2_CONF", conf.c_str(), 1);
    pin_file_ = (dir_->path() / "pin").string();
    ozghub::testing::write_file(pin_file_, std::string(kPin) + "\n");
    ::chmod(pin_file_.c_str(), 0600);
    const std::string init = std::string("softhsm2-util --init-token --free --label ") + kToken +
                             " --so-pin 1234 --pin " + kPin + " >/dev/null";
    ASSERT_EQ(std::system(init.c_str()), 0) << init;
    for (const char* label : {"kek-a", "kek-b"}) {
      const std::string keygen = std::string("pkcs11-tool --module ") + kModule +
                                 " --token-label " + kToken + " --login --pin " + kPin +
                                 " --keygen --key-type AES:32 --label " + label + " >/dev/null";
      ASSERT_EQ(std::system(keygen.c_str()), 0) << keygen;
    }
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  static Pkcs11KeyRef ref(const char* key) { return {kModule, kToken, key, pin_file_}; }

  static TempDir* dir_;
  static std::string pin_file_;
};

TempDir* Pkcs11Kek::dir_ = nullptr;
std::string Pkcs11Kek::pin_file_;

TEST_F(Pkcs11Kek, WrapsAndUnwrapsOnTheToken) {
  auto kek = open_pkcs11_kek("hsm-a", ref("kek-a"));
  ASSERT_OK(kek);
  EXPECT_EQ(expect_round_trip(**kek).size(), kNonceBytes + kKeyBytes + kTagBytes);
}

TEST_F(Pkcs11Kek, AnotherTokenKeyOrATamperedWrapCannotUnwrap) {
  auto a = open_pkcs11_kek("hsm-a", ref("kek-a"));
  auto b = open_pkcs11_kek("hsm-b", ref("kek-b"));
  ASSERT_OK(a);
  ASSERT_OK(b);
  const std::string wrapped = expect_round_trip(**a);
  ASSERT_FALSE(wrapped.empty());
  EXPECT_FALSE((*b)->unwrap(wrapped).is_ok());
  std::string bad = wrapped;
  bad[kNonceBytes] = static_cast<char>(bad[kNonceBytes] ^ 1);
  EXPECT_FALSE((*a)->unwrap(bad).is_ok());
  // The failed operations closed their sessions; the KEK still works.
  ASSERT_OK((*a)->unwrap(wrapped));
}

TEST_F(Pkcs11Kek, ConcurrentWrapsUseTheirOwnSessions) {
  auto kek = open_pkcs11_kek("hsm-a", ref("kek-a"));
  ASSERT_OK(kek);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto dek = DataKey::generate();
        auto w = (*kek)->wrap(*dek);
        auto back = w ? (*kek)->unwrap(*w) : Result<DataKey>(w.status());
        if (!back || back->bytes() != dek->bytes()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(Pkcs11Kek, WrongPinMissingKeyOrTokenAreClearErrors) {
  auto wrong_pin = (dir_->path() / "wrong-pin").string();
  ozghub::testing::write_file(wrong_pin, "0000");
  ::chmod(wrong_pin.c_str(), 0600);
  auto r = open_pkcs11_kek("hsm", {kModule, kToken, "kek-a", wrong_pin});
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("login failed"), std::string::npos) << r.status().message();

  r = open_pkcs11_kek("hsm", ref("no-such-key"));
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("no secret key with that label"), std::string::npos);

  r = open_pkcs11_kek("hsm", {kModule, "no-such-token", "kek-a", pin_file_});
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("no token with that label"), std::string::npos);

  ::chmod(wrong_pin.c_str(), 0644);
  r = open_pkcs11_kek("hsm", {kModule, kToken, "kek-a", wrong_pin});
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("accessible by group or others"), std::string::npos);
}

}  // namespace
}  // namespace ozghub::crypto
