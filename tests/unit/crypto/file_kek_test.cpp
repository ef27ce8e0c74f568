#include "crypto/file_kek.hpp"

#include <sys/stat.h>

#include "crypto/keyring.hpp"
#include "kek_checks.hpp"
#include "test_support.hpp"

namespace ozghub::crypto {
namespace {

using ozghub::testing::TempDir;

std::string key_file(const TempDir& dir, const char* name, mode_t mode,
                     std::size_t size = kKeyBytes) {
  auto path = (dir.path() / name).string();
  ozghub::testing::write_file(path, std::string(size, 'k'));
  ::chmod(path.c_str(), mode);
  return path;
}

TEST(FileKek, WrapsAndUnwraps) {
  TempDir dir;
  auto kek = open_file_kek("k1", key_file(dir, "k1.key", 0600), false);
  ASSERT_OK(kek);
  expect_round_trip(**kek);
}

TEST(FileKek, AKeyReadableByGroupOrOthersIsRefused) {
  TempDir dir;
  for (mode_t mode : {0644, 0640, 0604, 0660}) {
    auto path = key_file(dir, "k.key", mode);
    auto kek = open_file_kek("k1", path, false);
    ASSERT_FALSE(kek.is_ok());
    EXPECT_NE(kek.status().message().find("accessible by group or others"), std::string::npos)
        << kek.status().message();
    EXPECT_NE(kek.status().message().find("chmod 600 " + path), std::string::npos);
    std::filesystem::remove(path);
  }
  EXPECT_TRUE(open_file_kek("k1", key_file(dir, "ro.key", 0400), false).is_ok());
}

TEST(FileKek, WrongSizeOrMissingIsRefused) {
  TempDir dir;
  auto short_key = open_file_kek("k1", key_file(dir, "short.key", 0600, 16), false);
  ASSERT_FALSE(short_key.is_ok());
  EXPECT_NE(short_key.status().message().find("exactly 32"), std::string::npos);
  auto missing = open_file_kek("k1", (dir.path() / "none.key").string(), false);
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.status().message().find("head -c 32 /dev/urandom"), std::string::npos);
}

TEST(FileKek, CreateIfMissingWritesAPrivateRandomKeyOnce) {
  TempDir dir;
  auto path = (dir.path() / "demo.key").string();
  auto first = open_file_kek("demo", path, true);
  ASSERT_OK(first);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, static_cast<off_t>(kKeyBytes));
  auto dek = DataKey::generate();
  ASSERT_OK(dek);
  auto wrapped = (*first)->wrap(*dek);
  ASSERT_OK(wrapped);
  auto again = open_file_kek("demo", path, true);  // reads the same key, does not replace it
  ASSERT_OK(again);
  ASSERT_OK((*again)->unwrap(*wrapped));
}

TEST(FileKek, AWrappedKeyIsBoundToItsKekId) {
  TempDir dir;
  auto path = key_file(dir, "k.key", 0600);
  auto a = open_file_kek("a", path, false);
  auto b = open_file_kek("b", path, false);
  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_FALSE((*b)->unwrap(expect_round_trip(**a)).is_ok());
}

TEST(Keyring, NewKeysUseTheActiveKekAndUnknownIdsAreClearErrors) {
  auto k1 = DataKey::generate();
  auto k2 = DataKey::generate();
  ASSERT_OK(k1);
  ASSERT_OK(k2);
  Keyring ring({memory_kek("old", *k1), memory_kek("new", *k2)}, "new");
  auto key = ring.new_key();
  ASSERT_OK(key);
  EXPECT_EQ(key->kek_id, "new");
  auto back = ring.unwrap("new", key->wrapped);
  ASSERT_OK(back);
  EXPECT_EQ(back->bytes(), key->dek.bytes());
  auto unknown = ring.unwrap("gone", key->wrapped);
  ASSERT_FALSE(unknown.is_ok());
  EXPECT_EQ(unknown.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("'gone', which is not configured"), std::string::npos);
  EXPECT_FALSE(ring.unwrap("old", key->wrapped).is_ok());
}

TEST(Keyring, NoKekConfiguredIsAnError) {
  auto ring = Keyring::open(config::Encryption{});
  ASSERT_FALSE(ring.is_ok());
  EXPECT_NE(ring.status().message().find("no key-encryption key"), std::string::npos);
}

}  // namespace
}  // namespace ozghub::crypto
