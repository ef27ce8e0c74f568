// The store's polled metrics, declared in one place; refresh() reads them from the store (a few
// RocksDB properties and two seeks), so it runs on a timer, never per message.
//
//   ozghub_store_size_bytes                     live SST files + memtables, all column families
//   ozghub_store_pending_compaction_bytes       RocksDB's estimate of what compaction must rewrite
//   ozghub_oldest_undelivered_case_age_seconds  since the commit of the oldest case still owed a
//                                               delivery (dead letters excluded); 0 when none
//
// Thread-safety: refresh() from one thread at a time; the gauges are read from any thread.
#pragma once

#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <cstdint>

#include "store/store.hpp"

namespace ozghub::store {

class StoreMetrics {
 public:
  // `store` must outlive this.
  StoreMetrics(const Store& store, prometheus::Registry& registry);

  // Reads the store at `now_ms` (UTC) and sets the gauges. A failed read is logged
  // (store.stats_failed) and leaves the age as it was.
  void refresh(std::int64_t now_ms);

 private:
  const Store& store_;
  prometheus::Gauge& size_bytes_;
  prometheus::Gauge& pending_compaction_bytes_;
  prometheus::Gauge& oldest_age_;
};

}  // namespace ozghub::store
