// `ozg-hubctl case CASE [--json]`: a case's audit trail through the daemon's admin endpoint:
// when it was received and committed, its office, area and service, each channel's outcome,
// the SHA-256 of its XML and attachments, and when its payload was deleted. No personal data
// (the audit trail holds none).
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "admin_client.hpp"

namespace ozghub::ctl {

// Runs the command in `args` (after "case"). Exit code: 0 done, 1 failed or not found, 2 usage
// error, 3 daemon unreachable.
int run_case(const AdminClient& client, const std::vector<std::string>& args, std::FILE* out,
             std::FILE* err);

}  // namespace ozghub::ctl
