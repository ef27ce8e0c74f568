// POST /v1/reload: runs the configuration reload (config/reloader.hpp) and answers what it did.
//
//   200 {"applied": true, "changed": [keys], "restart_required": [keys],
//        "routing": {"offices": N, "responsibilities": N}, "active_kek": ID, "log_level": L}
//   422 {"error": "...", "condition": C, "errors": ["file:line: text", ...]}: nothing applied
//   405 for another method; 503 when the daemon has no reloader (yet).
#pragma once

#include "admin/admin_api.hpp"
#include "config/reloader.hpp"

namespace ozghub::admin {

Response reload_route(const Request& request, config::Reloader* reloader);

}  // namespace ozghub::admin
