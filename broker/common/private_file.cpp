#include "common/private_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <system_error>
#include <utility>

namespace ozghub::private_file {
namespace {

std::string errno_text(int e) { return std::error_code(e, std::generic_category()).message(); }

// The descriptor of an opened file, closed on every path.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// Overwrites a buffer that held secret bytes (not optimised away: the writes are volatile).
void scrub(char* p, std::size_t n) {
  volatile char* v = p;
  for (std::size_t i = 0; i < n; ++i) v[i] = 0;
}

Status open_checked(const std::string& what, const std::string& path, Owner owner, int& fd_out,
                    off_t& size_out) {
  // O_NOFOLLOW: a symbolic link is refused, not followed to whatever it points at. O_NONBLOCK:
  // a FIFO put in the secret's place cannot block the open; fstat refuses it below.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    const int e = errno;
    if (e == ELOOP) {
      return Status::invalid_argument(what + " " + path +
                                      " is a symbolic link; configure the file itself");
    }
    if (e == ENOENT) return Status::not_found(what + " " + path + ": " + errno_text(e));
    return Status::io_error(what + " " + path + ": " + errno_text(e));
  }
  Fd guard(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Status::io_error(what + " " + path + ": " + errno_text(errno));
  if (!S_ISREG(st.st_mode)) {
    return Status::invalid_argument(what + " " + path + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Status::invalid_argument(what + " " + path + " is accessible by group or others (mode " +
                                    mode + "); run: chmod 600 " + path);
  }
  if (owner == Owner::kDaemon && st.st_uid != ::geteuid()) {
    return Status::invalid_argument(what + " " + path + " is owned by uid " +
                                    std::to_string(st.st_uid) + ", not by the daemon's user (uid " +
                                    std::to_string(::geteuid()) + ")");
  }
  size_out = st.st_size;
  fd_out = guard.release();
  return Status::ok();
}

}  // namespace

Status check(const std::string& what, const std::string& path, Owner owner) {
  int fd = -1;
  off_t size = 0;
  Status s = open_checked(what, path, owner, fd, size);
  if (fd >= 0) ::close(fd);
  return s;
}

Result<std::string> read(const std::string& what, const std::string& path, std::size_t max_bytes,
                         Owner owner) {
  int raw = -1;
  off_t size = 0;
  if (Status s = open_checked(what, path, owner, raw, size); !s.is_ok()) return s;
  Fd fd(raw);
  const auto too_large = [&] {
    return Status::invalid_argument(what + " " + path + " is larger than " +
                                    std::to_string(max_bytes) + " bytes");
  };
  if (static_cast<std::size_t>(size) > max_bytes) return too_large();
  // Reserved once, so the secret is not left behind in buffers a growing string gives up.
  std::string out;
  out.reserve(max_bytes);
  char buf[4096];
  Status failed;
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      failed = Status::io_error(what + " " + path + ": " + errno_text(errno));
      break;
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > max_bytes) {
      failed = too_large();
      break;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  scrub(buf, sizeof buf);
  if (!failed.is_ok()) {
    scrub(out.data(), out.size());
    return failed;
  }
  return out;
}

Result<std::string> read_line(const std::string& what, const std::string& path, Owner owner) {
  auto text = read(what, path, 4096, owner);
  if (!text) return text;
  std::string& line = *text;
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (line.empty()) return Status::invalid_argument(what + " " + path + " is empty");
  return text;
}

}  // namespace ozghub::private_file
