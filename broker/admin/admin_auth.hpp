// Who may use the admin endpoint. /livez is open to everyone (a liveness probe carries no
// credentials); every other request needs what is configured:
//   - admin.token_file: "Authorization: Bearer <token>"; missing or wrong: 401;
//   - admin.tls.client_ca: a client certificate that verified against those CAs; none: 403 (a
//     certificate that does not verify already fails the TLS handshake).
// Tokens are compared in constant time. Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/status.hpp"

namespace ozghub::admin {

struct AccessPolicy {
  std::string token;                // empty: no token needed
  bool client_certificate = false;  // a verified client certificate needed
};

enum class Access { kAllowed, kUnauthorized, kForbidden };

// `authorization` is the request's Authorization header ("" when absent);
// `verified_client_certificate` whether the TLS peer presented a certificate that verified.
Access check_access(const AccessPolicy& policy, std::string_view target,
                    std::string_view authorization, bool verified_client_certificate);

// Whether two tokens are equal, in time that depends on neither's content nor on where they
// differ (both are hashed first, so not on their lengths either).
bool tokens_equal(std::string_view presented, std::string_view expected);

// Reads admin.token_file (common/private_file.hpp: mode 0600, the daemon's own, no symlink):
// one line of at least 16 token characters (RFC 6750: letters, digits, "-._~+/", trailing "=").
Result<std::string> load_token(const std::string& path);

}  // namespace ozghub::admin
