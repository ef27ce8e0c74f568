#include "common/fault_point.hpp"

#include <signal.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/log.hpp"

namespace ozghub::fault {
namespace {

constexpr std::array<std::string_view, static_cast<std::size_t>(Point::kCount)> kNames = {
    "ingress.received",
    "commit.before",
    "commit.after_sync",
    "ingress.settled",
    "delivery.before_adapter",
    "transfer_dir.temp_written",
    "transfer_dir.temp_synced",
    "transfer_dir.renamed",
    "delivery.before_record_delivered",
    "delivery.before_record_retry",
    "delivery.before_dead_letter",
};

std::atomic<long> g_hits{0};
long g_nth = 1;

// Reads OZGHUB_FAULT before main(): fault points may be reached by any thread main() starts.
int arm_from_environment() noexcept {
  // Before main(): no other thread exists yet.
  const char* spec = std::getenv("OZGHUB_FAULT");  // NOLINT(concurrency-mt-unsafe)
  if (spec == nullptr || *spec == '\0') return -1;
  std::string_view s(spec);
  std::string_view point = s.substr(0, s.find(':'));
  if (point.size() < s.size()) {
    const std::string count(s.substr(point.size() + 1));
    char* end = nullptr;
    g_nth = std::strtol(count.c_str(), &end, 10);
    if (count.empty() || *end != '\0' || g_nth < 1) {
      std::fprintf(stderr, "ozg-hub: OZGHUB_FAULT: '%s' is not a positive hit count\n",
                   count.c_str());
      std::_Exit(2);
    }
  }
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == point) return static_cast<int>(i);
  }
  std::fprintf(stderr, "ozg-hub: OZGHUB_FAULT: unknown fault point '%.*s'\n",
               static_cast<int>(point.size()), point.data());
  std::_Exit(2);
}

}  // namespace

std::string_view name(Point p) { return kNames.at(static_cast<std::size_t>(p)); }

namespace detail {

std::atomic<int> g_armed{arm_from_environment()};

bool reached(Point /*p*/) { return g_hits.fetch_add(1, std::memory_order_relaxed) + 1 == g_nth; }

void trigger(Point p) {
  log::warn("fault.injected", {{"point", name(p)}, {"hit", std::to_string(g_nth)}});
  std::fflush(stderr);
  ::kill(::getpid(), SIGKILL);
  for (;;) ::pause();  // SIGKILL is never blocked; this only keeps the compiler's promise
}

}  // namespace detail
}  // namespace ozghub::fault
