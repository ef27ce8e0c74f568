// The admin endpoint's TLS context (admin.tls): the server's certificate and key, the hub's TLS
// policy (crypto/tls_policy.hpp, the same as amqps) and, with admin.tls.client_ca, a request for
// a client certificate. The certificate is asked for, not required, so that /livez stays open
// to probes without one; admin_auth.hpp answers 403 to every other request that came without.
// A certificate that is presented and does not verify ends the handshake.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>

#include "common/status.hpp"
#include "config/config.hpp"

namespace ozghub::admin {

Result<std::shared_ptr<boost::asio::ssl::context>> make_admin_tls_context(
    const config::AdminTls& tls);

}  // namespace ozghub::admin
