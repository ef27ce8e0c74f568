#include "admin/status_report.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>

#include "common/text.hpp"

namespace ozghub::admin {
namespace {

using nlohmann::json;

// "2026-12-03T03:10:00.123Z" -> ms since the epoch; 0 when malformed.
std::int64_t parse_iso8601_ms(const std::string& s) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7) {
    return 0;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000 + ms;
}

// When the case was committed, from the first event of its audit trail; 0 when unknown.
std::int64_t committed_at(const store::Store& store, const std::string& case_number) {
  auto trail = store.audit_trail(case_number);
  if (!trail || trail->empty()) return 0;
  json first = json::parse(trail->front(), nullptr, false);
  if (!first.is_object()) return 0;
  return parse_iso8601_ms(first.value("at", std::string()));
}

// Stops a scan at its bound; never leaves this file.
Status limit_reached() { return Status::busy("scan limit reached"); }

}  // namespace

std::string adapter_state(std::size_t backlog, std::uint64_t delivered, std::uint64_t failed) {
  if (failed > 0) return delivered > 0 ? "degraded" : "failing";
  if (delivered > 0) return "ok";
  return backlog > 0 ? "waiting" : "idle";
}

Status scan_backlog(const store::Store& store, std::size_t limit, std::int64_t now_ms,
                    StatusReport& report) {
  report.scan = OutboxScan{0, limit, true};
  std::map<std::string, OfficeBacklog> offices;
  std::string last_case;
  Status s = store.scan_outbox([&](store::OutboxEntry e) {
    if (report.scan.scanned == limit) {
      report.scan.complete = false;
      return limit_reached();
    }
    ++report.scan.scanned;
    if (!report.oldest) report.oldest = OldestCase{e.case_number, e.office_id, 0, 0};
    OfficeBacklog& o = offices[e.office_id];
    o.office = e.office_id;
    ++o.deliveries;
    // An office's channels of one case are adjacent (the outbox is keyed by case, channel).
    if (e.case_number != last_case) ++o.cases;
    last_case = std::move(e.case_number);
    return Status::ok();
  });
  if (!s.is_ok() && report.scan.complete) return s;
  report.offices.clear();
  for (auto& [id, o] : offices) report.offices.push_back(std::move(o));
  std::stable_sort(report.offices.begin(), report.offices.end(),
                   [](const auto& a, const auto& b) { return a.deliveries > b.deliveries; });
  if (report.oldest) {
    report.oldest->committed_at_ms = committed_at(store, report.oldest->case_number);
    if (report.oldest->committed_at_ms > 0) {
      report.oldest->age_seconds =
          std::max<double>(0, static_cast<double>(now_ms - report.oldest->committed_at_ms) / 1000);
    }
  }
  report.dead_letters = 0;
  bool dead_letters_complete = true;
  s = store.scan_dead_letters([&](const store::OutboxEntry&) {
    if (report.dead_letters == limit) {
      dead_letters_complete = false;
      return limit_reached();
    }
    ++report.dead_letters;
    return Status::ok();
  });
  return s.is_ok() || !dead_letters_complete ? Status::ok() : s;
}

json to_json(const StatusReport& r) {
  json stages = json::object();
  for (const auto& s : r.stages) stages[s.stage] = s.waiting;
  json offices = json::array();
  for (const auto& o : r.offices) {
    offices.push_back({{"office", o.office}, {"deliveries", o.deliveries}, {"cases", o.cases}});
  }
  json oldest = nullptr;
  if (r.oldest) {
    oldest = {{"case", r.oldest->case_number},
              {"office", r.oldest->office},
              {"committed_at", r.oldest->committed_at_ms > 0
                                   ? json(text::iso8601_utc_ms(r.oldest->committed_at_ms))
                                   : json(nullptr)},
              {"age_seconds", r.oldest->age_seconds}};
  }
  json adapters = json::array();
  for (const auto& a : r.adapters) {
    adapters.push_back({{"name", a.name},
                        {"type", a.type},
                        {"concurrency", a.concurrency},
                        {"state", a.state},
                        {"backlog", a.backlog},
                        {"backlog_in_memory", a.in_memory},
                        {"delivered", a.delivered},
                        {"failed_attempts", a.failed}});
  }
  json certificates = json::array();
  for (const auto& c : r.certificates) {
    certificates.push_back({{"office", c.office},
                            {"subject", c.subject},
                            {"not_after", text::iso8601_utc_ms(c.not_after_unix * 1000)},
                            {"days_left", c.days_left}});
  }
  return json{
      {"generated_at", text::iso8601_utc_ms(r.generated_at_ms)},
      {"throughput",
       {{"window_seconds", r.window_seconds},
        {"received", r.received},
        {"accepted", r.accepted},
        {"received_per_second", r.received_per_second},
        {"accepted_per_second", r.accepted_per_second}}},
      {"backlog",
       {{"stages", std::move(stages)},
        {"offices", std::move(offices)},
        {"dead_letters", r.dead_letters},
        {"scan",
         {{"entries", r.scan.scanned}, {"limit", r.scan.limit}, {"complete", r.scan.complete}}}}},
      {"oldest_undelivered", std::move(oldest)},
      {"adapters", std::move(adapters)},
      {"certificates", std::move(certificates)},
  };
}

}  // namespace ozghub::admin
