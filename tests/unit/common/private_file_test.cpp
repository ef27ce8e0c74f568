#include "common/private_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include "test_support.hpp"

namespace ozghub::private_file {
namespace {

using ozghub::testing::TempDir;

std::string secret(const TempDir& dir, const char* name, const std::string& content,
                   mode_t mode = 0600) {
  auto path = (dir.path() / name).string();
  ozghub::testing::write_file(path, content);
  ::chmod(path.c_str(), mode);
  return path;
}

bool mentions(const Status& s, const std::string& text) {
  return s.message().find(text) != std::string::npos;
}

TEST(PrivateFile, ReadsAFileOnlyItsOwnerCanRead) {
  TempDir dir;
  auto r = read("secret", secret(dir, "s", "abc\n"));
  ASSERT_OK(r);
  EXPECT_EQ(*r, "abc\n");
  EXPECT_TRUE(read("secret", secret(dir, "ro", "x", 0400)).is_ok());
}

TEST(PrivateFile, AFileGroupOrOthersCanAccessIsRefusedWithTheFix) {
  TempDir dir;
  for (mode_t mode : {0644, 0640, 0604, 0660, 0601}) {
    auto path = secret(dir, "s", "abc", mode);
    auto r = read("admin token file", path);
    ASSERT_FALSE(r.is_ok()) << std::oct << mode;
    EXPECT_TRUE(mentions(r.status(), "admin token file " + path + " is accessible by group"))
        << r.status().message();
    EXPECT_TRUE(mentions(r.status(), "chmod 600 " + path));
    EXPECT_FALSE(check("s", path).is_ok());
    std::filesystem::remove(path);
  }
}

TEST(PrivateFile, ASymbolicLinkIsRefusedNotFollowed) {
  TempDir dir;
  auto target = secret(dir, "target", "abc");
  auto link = (dir.path() / "link").string();
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  auto r = read("secret", link);
  ASSERT_FALSE(r.is_ok());
  EXPECT_TRUE(mentions(r.status(), "symbolic link")) << r.status().message();
  EXPECT_FALSE(check("secret", link).is_ok());
}

TEST(PrivateFile, OnlyRegularFilesAreRead) {
  TempDir dir;
  auto fifo = (dir.path() / "fifo").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto r = read("secret", fifo);  // must not block on a FIFO nobody writes to
  ASSERT_FALSE(r.is_ok());
  EXPECT_TRUE(mentions(r.status(), "not a regular file")) << r.status().message();
  auto sub = dir.path() / "sub";
  std::filesystem::create_directory(sub);
  ::chmod(sub.c_str(), 0700);
  EXPECT_FALSE(read("secret", sub.string()).is_ok());
}

TEST(PrivateFile, MissingAndOversizedFilesAreRefused) {
  TempDir dir;
  auto missing = read("secret", (dir.path() / "none").string());
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
  auto big = read("secret", secret(dir, "big", std::string(100, 'x')), 99);
  ASSERT_FALSE(big.is_ok());
  EXPECT_TRUE(mentions(big.status(), "larger than 99 bytes")) << big.status().message();
  EXPECT_TRUE(read("secret", secret(dir, "fits", std::string(99, 'x')), 99).is_ok());
}

TEST(PrivateFile, AFileOfAnotherUserIsTheDaemonsOnlyWhenAnyOwnerIsAllowed) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give the file to another user";
  TempDir dir;
  auto path = secret(dir, "s", "abc");
  ASSERT_EQ(::chown(path.c_str(), 65534, 65534), 0);
  auto r = read("secret", path);
  ASSERT_FALSE(r.is_ok());
  EXPECT_TRUE(mentions(r.status(), "owned by uid 65534")) << r.status().message();
  EXPECT_TRUE(read("secret", path, 1024, Owner::kAnyone).is_ok());
}

TEST(PrivateFile, ReadLineDropsTheLineBreakAndRefusesAnEmptySecret) {
  TempDir dir;
  auto r = read_line("PIN file", secret(dir, "pin", "1234\r\n"));
  ASSERT_OK(r);
  EXPECT_EQ(*r, "1234");
  auto empty = read_line("PIN file", secret(dir, "empty", "\n"));
  ASSERT_FALSE(empty.is_ok());
  EXPECT_TRUE(mentions(empty.status(), "is empty"));
}

}  // namespace
}  // namespace ozghub::private_file
