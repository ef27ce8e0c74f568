// The amqps listener's TLS settings: the server's certificate, client certificates (mutual TLS)
// and the hub's fixed protocol and cipher policy (crypto/tls_policy.hpp, BSI TR-02102-2).
//
// Proton's C++ API cannot set protocols or ciphers; its C API can, on the pn_ssl_domain_t that a
// proton::ssl_server_options owns (pn_ssl_domain_set_protocols, pn_ssl_domain_set_ciphers).
// That domain is reached once, at startup, through the options object's implementation, whose
// layout (a pointer to the domain first) is Proton's internal: the build accepts only the
// Proton version it was checked with, and the integration test test_amqp_security proves with
// `openssl s_client` that the policy is in force. TLS 1.3 suites and key exchange groups have no
// Proton call at all: they are set on the domain's SSL_CTX, reached the same way.
#pragma once

#include <proton/ssl.hpp>
#include <string>

#include "common/status.hpp"
#include "config/config.hpp"

namespace ozghub::ingress {

// Builds the listener's TLS options with the policy applied. Requires client certificates from
// tls.client_ca when it is set.
Result<proton::ssl_server_options> make_tls_server_options(const config::AmqpTls& tls);

// A broker connector's TLS settings, with the same policy: the broker's certificate must chain to
// `ca` and name the URL's host; `certificate` and `key` (may be empty) are the hub's own.
Result<proton::ssl_client_options> make_tls_client_options(const std::string& ca,
                                                           const std::string& certificate,
                                                           const std::string& key);

}  // namespace ozghub::ingress
