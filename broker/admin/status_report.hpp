// What `GET /v1/status` answers (`ozg-hubctl status`): throughput over the last minute, the
// backlog of each pipeline stage and of each office, the oldest undelivered case, the adapter
// instances and the office certificates. Case numbers, office and adapter names, counts and
// certificate subjects; never personal data.
//
// The per-office backlog and the oldest case come from one scan of the store's outbox, bounded
// by `limit` entries (StatusReport::scan says whether it covered everything): the outbox is
// ordered by case number, so the oldest undelivered case is always its first entry, and with a
// backlog beyond the limit the per-office counts are lower bounds. At the default limit of
// 100,000 entries a scan reads a few MiB and takes tens of milliseconds.
//
// Thread-safety: plain data and free functions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.hpp"
#include "store/store.hpp"

namespace ozghub::admin {

struct StageBacklog {
  std::string stage;    // intake, commit, delivery
  std::size_t waiting;  // applications (intake, commit) or deliveries (delivery) waiting
};

struct OfficeBacklog {
  std::string office;
  std::size_t deliveries = 0;  // owed deliveries (outbox entries), all channels
  std::size_t cases = 0;       // distinct cases among them
};

struct OldestCase {
  std::string case_number;
  std::string office;
  std::int64_t committed_at_ms = 0;  // 0 when its audit trail could not be read
  double age_seconds = 0;
};

struct OutboxScan {
  std::size_t scanned = 0;  // outbox entries read
  std::size_t limit = 0;
  bool complete = true;  // false: stopped at `limit`, the office counts are lower bounds
};

struct AdapterStatus {
  std::string name;
  std::string type;
  int concurrency = 0;          // deliveries it runs at once
  std::size_t backlog = 0;      // deliveries waiting (due or backing off)
  std::size_t in_memory = 0;    // of those, held in memory
  std::uint64_t delivered = 0;  // in the throughput window
  std::uint64_t failed = 0;     // attempts that failed (retry or dead letter), same window
  std::string state;            // adapter_state()
};

struct CertificateStatus {
  std::string office;
  std::string subject;
  std::int64_t not_after_unix = 0;
  double days_left = 0;  // negative once expired
};

struct StatusReport {
  std::int64_t generated_at_ms = 0;
  double window_seconds = 0;  // what the rates and the adapters' counts cover
  std::uint64_t received = 0, accepted = 0;
  double received_per_second = 0, accepted_per_second = 0;
  std::vector<StageBacklog> stages;
  std::vector<OfficeBacklog> offices;  // offices with a backlog, largest first
  OutboxScan scan;
  std::size_t dead_letters = 0;  // counted up to scan.limit as well
  std::optional<OldestCase> oldest;
  std::vector<AdapterStatus> adapters;
  std::vector<CertificateStatus> certificates;  // soonest expiry first
};

// An adapter instance's state from its recent outcomes: "idle" (nothing owed, nothing done),
// "ok" (delivered, nothing failed), "degraded" (both), "failing" (only failures), "waiting"
// (backlog but no attempt in the window: backing off).
std::string adapter_state(std::size_t backlog, std::uint64_t delivered, std::uint64_t failed);

// Scans the outbox (at most `limit` entries) and the dead letters (same bound): fills offices,
// scan, oldest (its age against `now_ms`) and dead_letters.
Status scan_backlog(const store::Store& store, std::size_t limit, std::int64_t now_ms,
                    StatusReport& report);

nlohmann::json to_json(const StatusReport& report);

}  // namespace ozghub::admin
