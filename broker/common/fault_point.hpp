// Fault points: a test-only facility for the crash harness (tests/integration/test_crash.py,
// benchmarks/run_crash.sh). Not a configuration key and not for production use.
//
// Each stage transition of the data path calls fault::hit(Point). The facility is inert unless
// the environment variable OZGHUB_FAULT names a point when the process starts:
//
//   OZGHUB_FAULT=<point>[:<nth hit>]      e.g. OZGHUB_FAULT=commit.after_sync:3
//
// Then the nth time (default: the first) any thread reaches that point, the process logs
// `fault.injected` and sends itself SIGKILL: exactly what `kill -9` does, no destructor, no
// flush. An unknown point name makes the process exit with a message at startup, so a harness
// cannot think it tested a point that does not exist.
//
// Cost when inert: one relaxed atomic load and a branch per call.
// Thread-safety: hit() may be called from any thread.
#pragma once

#include <atomic>
#include <string_view>

namespace ozghub::fault {

// The stage transitions, in the order an application passes them.
enum class Point : int {
  kReceived,               // ingress.received: the AMQP message is taken, nothing decided yet
  kBeforeCommit,           // commit.before: a batch is about to be written
  kAfterCommit,            // commit.after_sync: the synced batch is on disk, nothing settled yet
  kSettled,                // ingress.settled: accepted (and receipt queued) on the connection
  kBeforeAdapter,          // delivery.before_adapter: an adapter is about to be called
  kTempWritten,            // transfer_dir.temp_written: files in the temporary folder, unsynced
  kTempSynced,             // transfer_dir.temp_synced: temporary folder synced, not renamed
  kRenamed,                // transfer_dir.renamed: case folder in place, office folder unsynced
  kBeforeRecordDelivered,  // delivery.before_record_delivered: adapter said delivered
  kBeforeRecordRetry,      // delivery.before_record_retry: a retry is about to be written
  kBeforeDeadLetter,       // delivery.before_dead_letter: a dead letter is about to be written
  kCount
};

std::string_view name(Point p);

namespace detail {
// The armed point, or -1. Set once before main() from OZGHUB_FAULT.
extern std::atomic<int> g_armed;
[[noreturn]] void trigger(Point p);
bool reached(Point p);  // counts the hit; true when it is the one to trigger at
}  // namespace detail

inline void hit(Point p) {
  if (detail::g_armed.load(std::memory_order_relaxed) == static_cast<int>(p)) [[unlikely]] {
    if (detail::reached(p)) detail::trigger(p);
  }
}

}  // namespace ozghub::fault
