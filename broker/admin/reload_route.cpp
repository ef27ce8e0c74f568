#include "admin/reload_route.hpp"

#include <nlohmann/json.hpp>

namespace ozghub::admin {

Response reload_route(const Request& request, config::Reloader* reloader) {
  using nlohmann::json;
  Response out;
  json body;
  if (request.method != "POST") {
    out.status = 405;
    body = {{"error", "use POST"}};
  } else if (reloader == nullptr) {
    out.status = 503;
    body = {{"error", "the daemon cannot reload yet"}};
  } else if (auto r = reloader->reload(); r.applied) {
    body = {{"applied", true},
            {"changed", r.changed},
            {"restart_required", r.restart_required},
            {"routing", {{"offices", r.offices}, {"responsibilities", r.responsibilities}}},
            {"active_kek", r.active_kek},
            {"log_level", r.log_level}};
  } else {
    out.status = 422;
    body = {{"error", "the configuration is invalid; nothing was applied"},
            {"condition", r.condition},
            {"errors", r.errors}};
  }
  out.body = body.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  return out;
}

}  // namespace ozghub::admin
