#include "store/case_number.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>

namespace ozghub::store {

std::uint32_t utc_date(std::int64_t unix_ms) {
  std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return static_cast<std::uint32_t>((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 +
                                    tm.tm_mday);
}

Result<CaseNumberGenerator> CaseNumberGenerator::restore(std::string_view state) {
  CaseNumberGenerator g;
  if (state.empty()) return g;
  auto colon = state.find(':');
  if (colon == std::string_view::npos) return Status::corruption("case number state malformed");
  auto d = state.substr(0, colon);
  auto s = state.substr(colon + 1);
  auto r1 = std::from_chars(d.data(), d.data() + d.size(), g.date_);
  auto r2 = std::from_chars(s.data(), s.data() + s.size(), g.seq_);
  if (r1.ec != std::errc() || r2.ec != std::errc() || r1.ptr != d.data() + d.size() ||
      r2.ptr != s.data() + s.size()) {
    return Status::corruption("case number state malformed");
  }
  return g;
}

std::string CaseNumberGenerator::next(std::int64_t now_ms) {
  std::uint32_t today = utc_date(now_ms);
  if (today > date_) {
    date_ = today;
    seq_ = 0;
  }
  ++seq_;
  char buf[32];
  if (instance_ >= 0) {
    std::snprintf(buf, sizeof buf, "%08u%d%011llu", date_, instance_,
                  static_cast<unsigned long long>(seq_));
  } else {
    std::snprintf(buf, sizeof buf, "%08u%012llu", date_, static_cast<unsigned long long>(seq_));
  }
  return buf;
}

void CaseNumberGenerator::skip_after_restore(std::int64_t now_ms) {
  // With an instance digit the sequence has 11 digits: half a million a second (still fifty
  // times what a hub commits) keeps even the clock-went-back floor below 10^11.
  const std::uint64_t kPerSecond = instance_ >= 0 ? 500'000 : 1'000'000;
  std::uint32_t today = utc_date(now_ms);
  if (today > date_) {
    date_ = today;
    seq_ = 0;
  }
  auto floor = static_cast<std::uint64_t>((now_ms / 1000) % 86400 + 1) * kPerSecond;
  // The clock went back to an earlier day: numbers continue under the later date, beyond
  // anything a whole day there can have used.
  if (date_ > today) floor += 86400 * kPerSecond;
  seq_ = std::max(seq_, floor);
}

std::string CaseNumberGenerator::state() const {
  return std::to_string(date_) + ":" + std::to_string(seq_);
}

}  // namespace ozghub::store
