// ozg-hubctl's flags for a protected admin endpoint (broker/admin/admin_auth.hpp):
//   --token-file FILE   the bearer token (one line; not readable by group or others)
//   --cacert FILE       CAs that verify the endpoint's certificate (HTTPS)
//   --cert FILE --key FILE   a client certificate (mutual TLS)
// With --config FILE, whatever the daemon's own admin section tells is used where no flag says
// otherwise: admin.token_file, and HTTPS with admin.tls.certificate trusted as the server's
// certificate (pinned).
#pragma once

#include <string>

#include "admin_client.hpp"
#include "common/status.hpp"
#include "config/config.hpp"

namespace ozghub::ctl {

struct AuthFlags {
  std::string token_file;
  std::string cacert;
  std::string cert;
  std::string key;
};

// When argv[i] is one of the flags above and has a value: stores it, moves i to the value and
// returns true.
bool take_auth_flag(int argc, char** argv, int& i, AuthFlags& flags);

// The client's credentials from the flags and, where a flag is absent, `config` (null without
// --config). A token file that cannot be read, or is readable by group or others, is an error.
Result<ClientAuth> client_auth(const AuthFlags& flags, const config::Admin* config);

}  // namespace ozghub::ctl
