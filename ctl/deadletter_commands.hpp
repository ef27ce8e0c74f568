// `ozg-hubctl deadletters ...`: list, show, replay and purge dead letters through the daemon's
// admin endpoint. Prints case numbers, offices, adapters, attempts and error texts; never
// personal data (the endpoint does not serve any).
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "admin_client.hpp"

namespace ozghub::ctl {

// Runs the command in `args` (after "deadletters"). Returns the process exit code:
// 0 done, 1 failed or not found, 2 usage error, 3 daemon unreachable.
int run_deadletters(const AdminClient& client, const std::vector<std::string>& args, std::FILE* in,
                    std::FILE* out, std::FILE* err);

}  // namespace ozghub::ctl
