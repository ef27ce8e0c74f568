// The admin endpoint's requests and answers, without the HTTP transport (admin_server.hpp), so
// that every route is testable without a socket.
//
//   GET    /livez                              200 "ok" while the process serves requests
//   GET    /readyz                             200 "ready" once started (store recovered, routing
//                                              loaded, adapters and lanes running); 503 "not
//                                              ready: " and the conditions that hold (starting,
//                                              stopping, disk_low; readiness.hpp)
//   GET    /metrics                            Prometheus text format
//   GET    /v1/deadletters                     every dead letter (metadata, last error)
//   GET    /v1/deadletters/CASE                one case's dead letters and the case's metadata
//   POST   /v1/deadletters/CASE/replay[?channel=N]   back into delivery, same case number
//   POST   /v1/deadletters/replay-all
//   DELETE /v1/deadletters/CASE[?channel=N]    purge
//   POST   /v1/reload                          reload the configuration (reload_route.hpp)
//   GET    /v1/status, /v1/route, POST /v1/backup   ops_api.hpp, once attach()ed
//   GET    /v1/cases/CASE/audit                the case's audit trail: {"case", "payload":
//                                              "stored" | "deleted", "events": [...]}
//                                              (store/audit_trail.hpp; no personal data)
//
// Answers are JSON ({"error": "..."} on failure, with 400, 404, 405 or 500). They never carry
// personal data: no XML, no attachment names, no rejection descriptions; case numbers, office
// and adapter names, service and area ids, sizes, counts and error texts free of personal data.
//
// Thread-safety: handle() may be called from any thread; it uses only thread-safe components.
#pragma once

#include <prometheus/registry.h>

#include <memory>
#include <string>

#include "admin/readiness.hpp"
#include "delivery/delivery_host.hpp"
#include "store/store.hpp"

namespace ozghub::config {
class Reloader;
}

namespace ozghub::admin {

class OpsApi;

struct Request {
  std::string method;  // "GET", "POST", "DELETE", ...
  std::string target;  // path and query, e.g. "/v1/deadletters/2026...?channel=1"
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

class AdminApi {
 public:
  // All three must outlive the AdminApi.
  AdminApi(std::shared_ptr<prometheus::Registry> metrics, delivery::DeliveryHost& delivery,
           store::Store& store);

  Response handle(const Request& request) const;

  // Enables POST /v1/reload. Call before serving; `reloader` must outlive the AdminApi.
  void set_reloader(config::Reloader* reloader) { reloader_ = reloader; }

  // What /readyz answers. Any thread.
  Readiness& readiness() { return readiness_; }
  // Serves the routes of `ops` too (before the server starts; `ops` must outlive this).
  void attach(const OpsApi& ops) { ops_ = &ops; }

 private:
  Response metrics() const;
  Response list_dead_letters() const;
  Response show_dead_letters(const std::string& case_number) const;
  Response replay(const std::string& case_number, const std::string& query) const;
  Response replay_all() const;
  Response purge(const std::string& case_number, const std::string& query) const;
  Response audit(const std::string& case_number) const;

  Readiness readiness_;
  const OpsApi* ops_ = nullptr;
  std::shared_ptr<prometheus::Registry> metrics_;
  delivery::DeliveryHost& delivery_;
  store::Store& store_;
  config::Reloader* reloader_ = nullptr;
};

}  // namespace ozghub::admin
