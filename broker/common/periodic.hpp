// A background thread that runs a task every `interval` until stopped: the disk monitor and the
// retention sweeper. The task may ask to run again at once (more work waiting); wake() cuts the
// current wait short.
//
// Thread-safety: start() and stop() from one owning thread; wake() from any thread. The task
// runs on the periodic thread only, never concurrently with itself.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace ozghub {

class Periodic {
 public:
  // Returns true to run again without waiting.
  using Task = std::function<bool()>;

  Periodic() = default;
  ~Periodic() { stop(); }
  Periodic(const Periodic&) = delete;
  Periodic& operator=(const Periodic&) = delete;

  // Runs `task` now and then every `interval` on a new thread called `name` (set_thread_name).
  void start(std::string name, std::chrono::milliseconds interval, Task task);
  // Returns once the thread has finished its current run and ended. Idempotent.
  void stop();
  // The next run starts now rather than at the end of the interval.
  void wake();

 private:
  void run(std::chrono::milliseconds interval, const Task& task);

  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace ozghub
