// The hub's one TLS policy, for every listener that speaks TLS (amqps, the admin endpoint), after
// BSI TR-02102-2:
//   - TLS 1.2 and TLS 1.3 only;
//   - TLS 1.2 only with ECDHE key exchange (forward secrecy) and AES-GCM (AEAD);
//   - TLS 1.3 only with AES-GCM and AES-CCM suites (not ChaCha20, which the TR does not list);
//   - ephemeral key exchange only over the NIST curves P-256, P-384 and P-521 (not X25519,
//     which the TR does not list).
// Not configurable. The integration tests test_amqp_security and test_admin_auth prove it with
// `openssl s_client`.
#pragma once

#include <openssl/ssl.h>

#include "common/status.hpp"

namespace ozghub::crypto {

// The TLS 1.2 cipher list (OpenSSL names).
extern const char* const kTls12Ciphers;
// The TLS 1.3 suites and the key exchange groups (OpenSSL names).
extern const char* const kTls13Suites;
extern const char* const kGroups;

// Applies the policy to a server or client context: the protocol range, both cipher lists and
// the groups. Also turns off renegotiation and compression.
Status apply_tls_policy(SSL_CTX* ctx);

}  // namespace ozghub::crypto
