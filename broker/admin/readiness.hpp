// What /readyz answers: ready while no named condition holds (e.g. "starting", "stopping",
// "disk_low"). Components raise and clear their own condition; /readyz names those that hold.
//
// Thread-safe.
#pragma once

#include <mutex>
#include <set>
#include <string>
#include <string_view>

namespace ozghub::admin {

class Readiness {
 public:
  // Starts not ready: "starting" holds until cleared.
  Readiness();

  // Raises (`holds` true) or clears a condition that makes the hub not ready.
  void set(std::string_view condition, bool holds);
  // The conditions that hold now, in name order; empty: ready.
  std::set<std::string, std::less<>> conditions() const;

 private:
  mutable std::mutex mutex_;
  std::set<std::string, std::less<>> holding_;
};

}  // namespace ozghub::admin
