// `ozg-hubctl reload` and `ozg-hubctl check-config FILE`.
//
// reload: POST /v1/reload on the daemon's admin endpoint (config/reloader.hpp); prints what was
// applied and which changed keys need a restart, or every error of a file that was not applied.
// check-config: validates a file locally, with exactly the output of `ozg-hub --check-config`
// (it runs the ozg-hub next to ozg-hubctl, or the one on PATH: one validator, not two).
//
// Exit codes: 0 done (reloaded / valid), 1 failed (invalid, nothing applied), 2 usage,
// 3 daemon unreachable.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "admin_client.hpp"

namespace ozghub::ctl {

// `args`: what follows "reload" ([--json]).
int run_reload(const AdminClient& client, const std::vector<std::string>& args, std::FILE* out,
               std::FILE* err);

// `args`: what follows "check-config" (FILE).
int run_check_config(const std::vector<std::string>& args, std::FILE* err);

}  // namespace ozghub::ctl
