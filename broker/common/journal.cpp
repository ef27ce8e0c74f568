#include "common/journal.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace ozghub::log::journal {
namespace {

constexpr char kDefaultSocket[] = "/run/systemd/journal/socket";
constexpr std::size_t kMaxFieldName = 64;

int priority(Level level) {
  switch (level) {
    case Level::kDebug:
      return 7;
    case Level::kInfo:
      return 6;
    case Level::kWarn:
      return 4;
    case Level::kError:
      return 3;
  }
  return 6;
}

// The socket every line is sent from, and journald's address; made on first use.
struct Endpoint {
  int fd = -1;
  sockaddr_un address{};
  socklen_t address_length = 0;
};

Endpoint make_endpoint(const std::string& path) {
  Endpoint out;
  if (path.size() >= sizeof out.address.sun_path) return out;
  out.address.sun_family = AF_UNIX;
  std::memcpy(out.address.sun_path, path.c_str(), path.size() + 1);
  out.address_length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  out.fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  return out;
}

const Endpoint& journald() {
  static const Endpoint e = [] {
    const char* path = std::getenv("OZGHUB_JOURNAL_SOCKET");
    return make_endpoint(path != nullptr && *path != '\0' ? path : kDefaultSocket);
  }();
  return e;
}

// journald's way for a line larger than a datagram: the line in a sealed memfd, its descriptor
// sent alone.
bool send_in_memfd(const Endpoint& e, const std::string& datagram) {
  int fd = ::memfd_create("ozg-hub-journal", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return false;
  bool ok =
      ::write(fd, datagram.data(), datagram.size()) == static_cast<ssize_t>(datagram.size()) &&
      ::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) == 0;
  if (ok) {
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_name = const_cast<sockaddr_un*>(&e.address);
    msg.msg_namelen = e.address_length;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
    ok = ::sendmsg(e.fd, &msg, MSG_NOSIGNAL) >= 0;
  }
  ::close(fd);
  return ok;
}

bool send_via(const Endpoint& e, const std::string& datagram) {
  if (e.fd < 0) return false;
  if (::sendto(e.fd, datagram.data(), datagram.size(), MSG_NOSIGNAL,
               reinterpret_cast<const sockaddr*>(&e.address), e.address_length) >= 0) {
    return true;
  }
  if (errno == EMSGSIZE || errno == ENOBUFS) return send_in_memfd(e, datagram);
  return false;
}

}  // namespace

std::string message_id(std::string_view event) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  std::string out;
  if (EVP_Digest(event.data(), event.size(), md, &len, EVP_sha256(), nullptr) != 1 || len < 16) {
    return std::string(32, '0');
  }
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 0x0f]);
  }
  return out;
}

std::string field_name(std::string_view key) {
  std::string name = "OZGHUB_";
  for (char ch : key) {
    if (name.size() == kMaxFieldName) break;
    if (ch >= 'a' && ch <= 'z') {
      name.push_back(static_cast<char>(ch - 'a' + 'A'));
    } else if ((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')) {
      name.push_back(ch);
    } else {
      name.push_back('_');
    }
  }
  return name;
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  if (value.find('\n') == std::string_view::npos) {
    out.push_back('=');
    out.append(value);
  } else {
    out.push_back('\n');
    std::uint64_t n = value.size();
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
    out.append(value);
  }
  out.push_back('\n');
}

std::string encode(Level level, std::string_view event, std::initializer_list<Field> fields) {
  std::string message(event);
  for (const auto& [k, v] : fields) {
    message.push_back(' ');
    message.append(k).push_back('=');
    message.append(v);
  }
  std::string out;
  out.reserve(256 + 2 * message.size());
  append_field(out, "MESSAGE", message);
  append_field(out, "PRIORITY", std::to_string(priority(level)));
  append_field(out, "MESSAGE_ID", message_id(event));
  append_field(out, "SYSLOG_IDENTIFIER", "ozg-hub");
  append_field(out, "OZGHUB_EVENT", event);
  for (const auto& [k, v] : fields) append_field(out, field_name(k), v);
  return out;
}

bool send(const std::string& datagram) { return send_via(journald(), datagram); }

bool send_to(const std::string& socket_path, const std::string& datagram) {
  Endpoint e = make_endpoint(socket_path);
  const bool ok = send_via(e, datagram);
  if (e.fd >= 0) ::close(e.fd);
  return ok;
}

bool stderr_is_journal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  unsigned long long dev = 0;
  unsigned long long ino = 0;
  char tail = 0;
  if (std::sscanf(stream, "%llu:%llu%c", &dev, &ino, &tail) != 2) return false;
  struct stat st {};
  if (::fstat(STDERR_FILENO, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev &&
         static_cast<unsigned long long>(st.st_ino) == ino;
}

}  // namespace ozghub::log::journal
