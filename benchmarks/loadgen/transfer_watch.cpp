#include "transfer_watch.hpp"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>

namespace loadgen {
namespace {

constexpr uint32_t kCaseEvents = IN_CREATE | IN_MOVED_TO | IN_ONLYDIR;

bool counts(const std::string& name) { return !name.empty() && name[0] != '.'; }

}  // namespace

TransferWatch::TransferWatch(std::filesystem::path root) : root_(std::move(root)) {
  std::error_code ec;
  std::filesystem::create_directories(root_, ec);
  fd_ = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (fd_ < 0) {
    std::cerr << "inotify_init1: " << std::strerror(errno) << "\n";
    std::exit(2);
  }
  std::lock_guard lock(mutex_);
  root_wd_ = ::inotify_add_watch(fd_, root_.c_str(), kCaseEvents);
  if (root_wd_ < 0) {
    std::cerr << "cannot watch " << root_ << ": " << std::strerror(errno) << "\n";
    std::exit(2);
  }
  rescan();
  before_ = static_cast<long>(cases_.size());
  thread_ = std::thread([this] { run(); });
}

TransferWatch::~TransferWatch() {
  stop_ = true;
  thread_.join();
  ::close(fd_);
}

long TransferWatch::delivered() const {
  std::lock_guard lock(mutex_);
  return static_cast<long>(cases_.size()) - before_;
}

long TransferWatch::wait_for(long n, std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  changed_.wait_until(lock, deadline,
                      [&] { return static_cast<long>(cases_.size()) - before_ >= n; });
  return static_cast<long>(cases_.size()) - before_;
}

void TransferWatch::run() {
  alignas(inotify_event) char buf[64 * 1024];
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    ssize_t len = ::read(fd_, buf, sizeof buf);
    if (len <= 0) continue;
    std::lock_guard lock(mutex_);
    for (ssize_t off = 0; off < len;) {
      const auto* e = reinterpret_cast<const inotify_event*>(buf + off);
      off += static_cast<ssize_t>(sizeof(inotify_event) + e->len);
      if (e->mask & IN_Q_OVERFLOW) {
        rescan();
        continue;
      }
      if (e->len == 0 || !(e->mask & IN_ISDIR)) continue;
      std::string name = e->name;
      if (e->wd == root_wd_) {
        if (counts(name)) watch_office(name);
      } else if (auto it = offices_.find(e->wd); it != offices_.end()) {
        add_case(it->second, name);
      }
    }
    changed_.notify_all();
  }
}

void TransferWatch::watch_office(const std::string& office) {
  int wd = ::inotify_add_watch(fd_, (root_ / office).c_str(), kCaseEvents);
  if (wd < 0) return;
  offices_[wd] = office;
  // Cases renamed into place before the watch existed.
  std::error_code ec;
  for (const auto& c : std::filesystem::directory_iterator(root_ / office, ec)) {
    add_case(office, c.path().filename().string());
  }
}

void TransferWatch::rescan() {
  std::error_code ec;
  for (const auto& office : std::filesystem::directory_iterator(root_, ec)) {
    const std::string name = office.path().filename().string();
    if (office.is_directory() && counts(name)) watch_office(name);
  }
}

void TransferWatch::add_case(const std::string& office, const std::string& name) {
  if (counts(name)) cases_.insert(office + "/" + name);
}

}  // namespace loadgen
