// Case numbers (Vorgangsnummern): 20 digits, the UTC date YYYYMMDD followed by a 12-digit
// sequence that starts at 1 each day. Unique per hub: the generator's state is persisted in the
// same synced write batch as the cases that used it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.hpp"

namespace ozghub::store {

class CaseNumberGenerator {
 public:
  // `state` is what state() returned last time, or empty for a new hub.
  static Result<CaseNumberGenerator> restore(std::string_view state);

  // The next case number for a commit at `now_ms` (UTC milliseconds since the epoch). If the
  // clock went back to an earlier day, the sequence continues under the later date already used,
  // so numbers never repeat.
  std::string next(std::int64_t now_ms);
  // After a restore from a backup: the daemon that ran on after the backup may have issued
  // numbers that this state does not know, and their cases may be at the offices already. Skips
  // past anything it can have issued today (at most a million a second): the sequence continues
  // past the seconds since midnight UTC (this one
  // included) times 10^6. A later restore skips further.
  void skip_after_restore(std::int64_t now_ms);
  // Serialised state to persist with the batch: "YYYYMMDD:sequence".
  std::string state() const;
  // Scale-out (config case_numbers.instance): hubs that deliver to the same offices each put
  // their own digit 0-9 after the date, then an 11-digit sequence, so two hubs never issue the
  // same number. -1 (the default): a 12-digit sequence. Not part of state(): the configuration
  // sets it at every start.
  void set_instance(int instance) { instance_ = instance; }

 private:
  int instance_ = -1;
  std::uint32_t date_ = 0;  // YYYYMMDD of the last number issued
  std::uint64_t seq_ = 0;   // last sequence issued on that date
};

// YYYYMMDD of a UTC timestamp.
std::uint32_t utc_date(std::int64_t unix_ms);

}  // namespace ozghub::store
