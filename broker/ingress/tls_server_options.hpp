// The amqps listener's TLS settings: the server's certificate, client certificates (mutual TLS)
// and the hub's fixed protocol and cipher policy (BSI TR-02102-2):
//   - TLS 1.2 and TLS 1.3 only;
//   - TLS 1.2 only with ECDHE key exchange (forward secrecy) and AES-GCM (AEAD);
//   - TLS 1.3 with OpenSSL's suites (all AEAD with ephemeral key exchange).
//
// Proton's C++ API cannot set protocols or ciphers; its C API can, on the pn_ssl_domain_t that a
// proton::ssl_server_options owns (pn_ssl_domain_set_protocols, pn_ssl_domain_set_ciphers).
// That domain is reached once, at startup, through the options object's implementation, whose
// layout (a pointer to the domain first) is Proton's internal: the build accepts only the
// Proton version it was checked with, and the integration test test_amqp_security proves with
// `openssl s_client` that the policy is in force. TLS 1.3 suites and ECDHE groups stay
// OpenSSL's defaults: Proton has no call for them.
#pragma once

#include <proton/ssl.hpp>
#include <string>

#include "common/status.hpp"
#include "config/config.hpp"

namespace ozghub::ingress {

// The TLS 1.2 cipher list applied to the listener (OpenSSL names).
extern const char* const kTls12Ciphers;

// Builds the listener's TLS options with the policy applied. Requires client certificates from
// tls.client_ca when it is set.
Result<proton::ssl_server_options> make_tls_server_options(const config::AmqpTls& tls);

}  // namespace ozghub::ingress
