// The operator's questions to a running daemon, behind the admin endpoint (admin_api.hpp routes
// them here):
//
//   GET  /v1/status                     throughput over the last minute, backlog per stage and
//                                       per office, the oldest undelivered case, adapter
//                                       instances, office certificates (status_report.hpp)
//   GET  /v1/route?area=ARS&service=LEIKA
//                                       which office and channels an application would go to,
//                                       the rule that matched and why (routing/route_explanation)
//   POST /v1/backup?dir=ABSOLUTE_PATH   a RocksDB checkpoint of the store into a directory that
//                                       does not exist yet: {"dir", "sequence", "bytes", ...}
//
// Answers are JSON and carry no personal data (case numbers, office, adapter and area names,
// counts, certificate subjects).
//
// Thread-safety: handle() from any thread; start()/stop() from the owning thread.
#pragma once

#include <optional>
#include <string>

#include "admin/admin_api.hpp"
#include "admin/status_report.hpp"
#include "admin/throughput.hpp"
#include "delivery/adapter_registry.hpp"
#include "delivery/delivery_host.hpp"
#include "delivery/delivery_metrics.hpp"
#include "pipeline/committer.hpp"
#include "pipeline/intake.hpp"
#include "pipeline/routing_state.hpp"
#include "store/store.hpp"

namespace ozghub::admin {

// What the answers are made from; all of it must outlive the OpsApi.
struct OpsSources {
  store::Store& store;
  const pipeline::RoutingState& routing;
  const delivery::DeliveryHost& delivery;
  const delivery::AdapterMap& adapters;
  delivery::DeliveryMetrics& delivery_metrics;
  const pipeline::Intake& intake;
  const pipeline::Committer& committer;
  // Outbox entries one status request reads at most (status_report.hpp).
  std::size_t scan_limit = 100000;
};

class OpsApi {
 public:
  explicit OpsApi(OpsSources sources);
  ~OpsApi() { stop(); }

  // Starts and stops the throughput sampler.
  void start() { throughput_.start(); }
  void stop() { throughput_.stop(); }

  // The answer when `request` is one of the routes above; nullopt for any other path.
  std::optional<Response> handle(const Request& request) const;

  // The status report as of `now_ms` (the JSON of GET /v1/status).
  Result<StatusReport> status(std::int64_t now_ms) const;

 private:
  Response status_response() const;
  Response route(const std::string& query) const;
  Response backup(const std::string& query) const;
  Totals read_totals() const;

  OpsSources src_;
  // Per adapter instance: its delivered and failed-attempt counters (read by the sampler).
  std::map<std::string, delivery::AdapterMetrics, std::less<>> adapter_metrics_;
  Throughput throughput_;
};

}  // namespace ozghub::admin
