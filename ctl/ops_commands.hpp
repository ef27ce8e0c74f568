// `ozg-hubctl status`, `route` and `backup`: the operator's view of a running daemon through
// its admin endpoint (GET /v1/status, GET /v1/route, POST /v1/backup; admin/ops_api.hpp).
// Never personal data: the endpoint serves none.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "admin_client.hpp"

namespace ozghub::ctl {

// Each runs the command in `args` (after its name). Exit code: 0 done, 1 failed, 2 usage error,
// 3 daemon unreachable.
int run_status(const AdminClient& client, const std::vector<std::string>& args, std::FILE* out,
               std::FILE* err);
int run_route(const AdminClient& client, const std::vector<std::string>& args, std::FILE* out,
              std::FILE* err);
int run_backup(const AdminClient& client, const std::vector<std::string>& args, std::FILE* out,
               std::FILE* err);

// `s` percent-encoded for a query string (unreserved characters and '/' kept).
std::string url_encode(const std::string& s);

}  // namespace ozghub::ctl
