// Counts the case folders that appear in a transfer directory (<root>/<office>/<case>/) while
// the load generator sends, with inotify: the watch costs nothing between events, so it takes no
// CPU from the hub it measures on a small machine (a polling scan of 20,000 folders every few
// milliseconds would). Names beginning with a dot are the adapter's temporary folders and do not
// count; a folder counts once, when it is renamed into place.
//
// Thread-safe: a background thread reads the events; delivered() and wait_for() may be called
// from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace loadgen {

class TransferWatch {
 public:
  // Starts watching `root` (created when missing); folders already there are not counted.
  explicit TransferWatch(std::filesystem::path root);
  ~TransferWatch();
  TransferWatch(const TransferWatch&) = delete;
  TransferWatch& operator=(const TransferWatch&) = delete;

  // Case folders that appeared since the start.
  long delivered() const;
  // Blocks until `n` folders appeared or the deadline passed; returns delivered().
  long wait_for(long n, std::chrono::steady_clock::time_point deadline);

 private:
  void run();
  void watch_office(const std::string& office);  // mutex_ held
  void rescan();                                 // mutex_ held: after a queue overflow
  void add_case(const std::string& office, const std::string& name);  // mutex_ held

  std::filesystem::path root_;
  int fd_ = -1;
  int root_wd_ = -1;
  std::map<int, std::string> offices_;  // watch descriptor -> office folder name
  std::set<std::string> cases_;         // "office/case"
  long before_ = 0;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace loadgen
