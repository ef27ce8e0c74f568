#include "common/journal.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <map>

#include "test_support.hpp"

namespace ozghub::log::journal {
namespace {

// journald's side of the protocol: the fields of one datagram, in order.
std::vector<std::pair<std::string, std::string>> decode(const std::string& d) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t i = 0;
  while (i < d.size()) {
    auto nl = d.find('\n', i);
    EXPECT_NE(nl, std::string::npos);
    if (nl == std::string::npos) break;
    auto eq = d.find('=', i);
    if (eq != std::string::npos && eq < nl) {
      out.emplace_back(d.substr(i, eq - i), d.substr(eq + 1, nl - eq - 1));
      i = nl + 1;
      continue;
    }
    std::string name = d.substr(i, nl - i);
    std::uint64_t n = 0;
    for (int b = 0; b < 8; ++b) {
      n |= static_cast<std::uint64_t>(static_cast<unsigned char>(d[nl + 1 + b])) << (8 * b);
    }
    out.emplace_back(name, d.substr(nl + 9, n));
    EXPECT_EQ(d[nl + 9 + n], '\n');
    i = nl + 9 + n + 1;
  }
  return out;
}

std::map<std::string, std::string> as_map(const std::string& d) {
  std::map<std::string, std::string> m;
  for (auto& [k, v] : decode(d)) m[k] = v;
  return m;
}

TEST(Journal, PlainValuesAreNameEqualsValueLines) {
  std::string out;
  append_field(out, "PRIORITY", "6");
  append_field(out, "OZGHUB_ERROR", "a=b c");
  EXPECT_EQ(out, "PRIORITY=6\nOZGHUB_ERROR=a=b c\n");
}

TEST(Journal, AValueWithALineBreakIsLengthPrefixed) {
  std::string out;
  append_field(out, "MESSAGE", "two\nlines");
  const std::string want =
      std::string("MESSAGE\n") + std::string("\x09\0\0\0\0\0\0\0", 8) + "two\nlines\n";
  EXPECT_EQ(out, want);
  append_field(out, "X", "");
  EXPECT_EQ(decode(out).back(), std::make_pair(std::string("X"), std::string()));
}

TEST(Journal, FieldNamesAreUpperCaseInJournaldsAlphabet) {
  EXPECT_EQ(field_name("address"), "OZGHUB_ADDRESS");
  EXPECT_EQ(field_name("recovered_deliveries"), "OZGHUB_RECOVERED_DELIVERIES");
  EXPECT_EQ(field_name("kek-id.2"), "OZGHUB_KEK_ID_2");
  EXPECT_EQ(field_name(std::string(100, 'a')).size(), 64u);
}

TEST(Journal, MessageIdsAreStable128BitIdsPerEvent) {
  // The first 16 bytes of SHA-256("hub.started"): a value operators may have in their queries.
  EXPECT_EQ(message_id("hub.started"), "5020432e1b04f472dcf4cb0093c260de");
  EXPECT_EQ(message_id("admin.listening"), message_id("admin.listening"));
  EXPECT_NE(message_id("admin.listening"), message_id("hub.started"));
  EXPECT_EQ(message_id("x").size(), 32u);
}

TEST(Journal, ALineCarriesMessagePriorityIdEventAndItsFields) {
  auto m = as_map(encode(Level::kWarn, "admin.denied", {{"status", "401"}, {"path", "/x\ny"}}));
  EXPECT_EQ(m["MESSAGE"], "admin.denied status=401 path=/x\ny");
  EXPECT_EQ(m["PRIORITY"], "4");
  EXPECT_EQ(m["MESSAGE_ID"], message_id("admin.denied"));
  EXPECT_EQ(m["OZGHUB_EVENT"], "admin.denied");
  EXPECT_EQ(m["OZGHUB_STATUS"], "401");
  EXPECT_EQ(m["OZGHUB_PATH"], "/x\ny");
  EXPECT_EQ(m["SYSLOG_IDENTIFIER"], "ozg-hub");
  EXPECT_EQ(as_map(encode(Level::kError, "e", {}))["PRIORITY"], "3");
  EXPECT_EQ(as_map(encode(Level::kInfo, "e", {}))["PRIORITY"], "6");
  EXPECT_EQ(as_map(encode(Level::kDebug, "e", {}))["PRIORITY"], "7");
}

// A datagram socket in the role of journald.
class FakeJournald {
 public:
  explicit FakeJournald(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    int big = 8 << 20;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~FakeJournald() { ::close(fd_); }

  // One datagram, or the content of the memfd it passed.
  std::string receive() {
    std::string buf(1 << 20, '\0');
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    iovec iov{buf.data(), buf.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(fd_, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0) return "";
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    if (c == nullptr || c->cmsg_type != SCM_RIGHTS) return buf.substr(0, n);
    int memfd = -1;
    std::memcpy(&memfd, CMSG_DATA(c), sizeof memfd);
    struct stat st {};
    ::fstat(memfd, &st);
    std::string data(st.st_size, '\0');
    EXPECT_EQ(::pread(memfd, data.data(), data.size(), 0), st.st_size);
    ::close(memfd);
    return data;
  }

 private:
  std::string path_;
  int fd_ = -1;
};

TEST(Journal, LinesReachTheSocketAndHugeOnesGoThroughAMemfd) {
  ozghub::testing::TempDir dir;
  const std::string path = (dir.path() / "journal").string();
  FakeJournald journald(path);
  ASSERT_TRUE(send_to(path, encode(Level::kInfo, "t.small", {{"n", "1"}})));
  EXPECT_EQ(as_map(journald.receive())["OZGHUB_N"], "1");
  const std::string huge(4 << 20, 'x');  // more than any datagram
  ASSERT_TRUE(send_to(path, encode(Level::kInfo, "t.huge", {{"blob", huge}})));
  auto m = as_map(journald.receive());
  EXPECT_EQ(m["OZGHUB_EVENT"], "t.huge");
  EXPECT_EQ(m["OZGHUB_BLOB"], huge);
  EXPECT_FALSE(send_to((dir.path() / "nobody").string(), "MESSAGE=x\n"));
}

}  // namespace
}  // namespace ozghub::log::journal
