// What the pipeline says about a submission, and where it says it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/condition.hpp"

namespace ozghub::pipeline {

struct Verdict {
  bool accepted = false;
  std::string case_number;  // accepted: the (possibly earlier) case number
  std::string office_id;    // accepted: the responsible office
  Rejection rejection{Condition::kInternalError, {}};  // not accepted
};

// The origin of submissions (an AMQP connection). The pipeline hands each submission's verdict
// back to its origin, in batches.
//
// Thread-safety: settle() is called from pipeline threads, concurrently; it must only hand the
// verdicts over (e.g. to the connection's work queue), never block on the network. An origin
// that is gone (connection closed) drops the verdicts: the sender will redeliver, and
// idempotency makes that harmless.
class Origin {
 public:
  virtual ~Origin() = default;
  virtual void settle(std::vector<std::pair<std::uint64_t, Verdict>> verdicts) = 0;
};

// Gathers verdicts per origin so each origin is handed one batch, not one call per submission.
class VerdictBatch {
 public:
  void add(const std::shared_ptr<Origin>& origin, std::uint64_t id, Verdict v) {
    if (!origin) return;
    auto& slot = by_origin_[origin.get()];
    slot.first = origin;
    slot.second.emplace_back(id, std::move(v));
  }
  void flush() {
    for (auto& [raw, entry] : by_origin_) entry.first->settle(std::move(entry.second));
    by_origin_.clear();
  }

 private:
  std::map<Origin*,
           std::pair<std::shared_ptr<Origin>, std::vector<std::pair<std::uint64_t, Verdict>>>>
      by_origin_;
};

}  // namespace ozghub::pipeline
