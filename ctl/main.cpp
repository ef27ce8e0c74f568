// ozg-hubctl: the operator's command line. Talks to a running daemon's admin endpoint.
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "admin_client.hpp"
#include "auth_flags.hpp"
#include "case_commands.hpp"
#include "config/config.hpp"
#include "config_commands.hpp"
#include "deadletter_commands.hpp"
#include "ops_commands.hpp"

namespace {

constexpr char kUsage[] =
    "usage: ozg-hubctl [--admin HOST:PORT | --config FILE] COMMAND ...\n"
    "\n"
    "  --admin HOST:PORT   the daemon's admin endpoint (default 127.0.0.1:9650)\n"
    "  --config FILE       read admin.listen from the daemon's configuration file\n"
    "                      (and admin.token_file and admin.tls, unless the flags below say)\n"
    "  --token-file FILE   bearer token for the admin endpoint (admin.token_file)\n"
    "  --cacert FILE       CAs that verify the endpoint's certificate (HTTPS)\n"
    "  --cert FILE --key FILE  client certificate for an endpoint with admin.tls.client_ca\n"
    "\n"
    "commands:\n"
    "  deadletters list [--json]                      every dead letter\n"
    "  deadletters show CASE [--json]                 one case: metadata and last errors\n"
    "  deadletters replay CASE [--channel N] | --all  deliver again, same case number\n"
    "  deadletters purge CASE [--channel N] [--yes]   delete (asks for confirmation)\n"
    "  case CASE [--json]                             the case's audit trail (no personal data)\n"
    "  reload [--json]                                reload the daemon's configuration (1: the\n"
    "                                                 file is invalid, nothing was applied)\n"
    "  check-config FILE                              validate a configuration file locally\n"
    "  status [--json]                                throughput, backlog, oldest case, adapters,\n"
    "                                                 certificates\n"
    "  route --area ARS --service LEIKA [--json]      which office and channels, and which rule\n"
    "                                                 matched and why (exit 1: would be rejected)\n"
    "  backup DIR [--json]                            RocksDB checkpoint of the store into DIR\n"
    "                                                 (on the daemon's machine; must not exist)\n"
    "\n"
    "exit codes: 0 done, 1 failed or not found, 2 usage, 3 daemon not reachable\n";

}  // namespace

int main(int argc, char** argv) {
  std::string admin = "127.0.0.1:9650";
  std::vector<std::string> rest;
  ozghub::ctl::AuthFlags auth_flags;
  std::optional<ozghub::config::Admin> config_admin;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (ozghub::ctl::take_auth_flag(argc, argv, i, auth_flags)) {
      continue;
    } else if (a == "--admin" && i + 1 < argc) {
      admin = argv[++i];
    } else if (a == "--config" && i + 1 < argc) {
      auto cfg = ozghub::config::load_file(argv[++i]);
      if (!cfg) {
        std::fprintf(stderr, "ozg-hubctl: %s\n", cfg.status().message().c_str());
        return 2;
      }
      admin = cfg->admin.host + ":" + std::to_string(cfg->admin.port);
      config_admin = cfg->admin;
    } else if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else {
      for (; i < argc; ++i) rest.emplace_back(argv[i]);
    }
  }
  if (rest.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  if (rest[0] == "check-config") {
    return ozghub::ctl::run_check_config({rest.begin() + 1, rest.end()}, stderr);
  }
  auto auth = ozghub::ctl::client_auth(auth_flags, config_admin ? &*config_admin : nullptr);
  if (!auth) {
    std::fprintf(stderr, "ozg-hubctl: %s\n", auth.status().message().c_str());
    return 2;
  }
  ozghub::ctl::AdminClient client(admin, *auth);
  if (rest[0] == "deadletters") {
    return ozghub::ctl::run_deadletters(client, {rest.begin() + 1, rest.end()}, stdin, stdout,
                                        stderr);
  }
  if (rest[0] == "case") {
    return ozghub::ctl::run_case(client, {rest.begin() + 1, rest.end()}, stdout, stderr);
  }
  if (rest[0] == "reload") {
    return ozghub::ctl::run_reload(client, {rest.begin() + 1, rest.end()}, stdout, stderr);
  }
  const std::vector<std::string> args(rest.begin() + 1, rest.end());
  if (rest[0] == "status") return ozghub::ctl::run_status(client, args, stdout, stderr);
  if (rest[0] == "route") return ozghub::ctl::run_route(client, args, stdout, stderr);
  if (rest[0] == "backup") return ozghub::ctl::run_backup(client, args, stdout, stderr);
  std::fprintf(stderr, "ozg-hubctl: unknown command '%s'\n%s", rest[0].c_str(), kUsage);
  return 2;
}
