#include "store/store_metrics.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "common/metric_builders.hpp"

namespace ozghub::store {
StoreMetrics::StoreMetrics(const Store& store, prometheus::Registry& registry)
    : store_(store),
      size_bytes_(single_gauge(registry, "ozghub_store_size_bytes",
                               "Bytes of the store's live files and memtables")),
      pending_compaction_bytes_(single_gauge(registry, "ozghub_store_pending_compaction_bytes",
                                             "Bytes the store's compaction still has to rewrite")),
      oldest_age_(
          single_gauge(registry, "ozghub_oldest_undelivered_case_age_seconds",
                       "Seconds since the oldest case still owed a delivery was committed")) {}

void StoreMetrics::refresh(std::int64_t now_ms) {
  const Store::SizeStats size = store_.size_stats();
  size_bytes_.Set(static_cast<double>(size.bytes));
  pending_compaction_bytes_.Set(static_cast<double>(size.pending_compaction_bytes));
  auto oldest = store_.oldest_owed_commit_ms();
  if (!oldest) {
    log::warn("store.stats_failed", {{"error", oldest.status().message()}});
    return;
  }
  const std::int64_t age_ms = *oldest ? std::max<std::int64_t>(0, now_ms - **oldest) : 0;
  oldest_age_.Set(static_cast<double>(age_ms) / 1000.0);
}

}  // namespace ozghub::store
