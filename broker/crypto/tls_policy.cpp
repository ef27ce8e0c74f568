#include "crypto/tls_policy.hpp"

#include <string>

namespace ozghub::crypto {

const char* const kTls12Ciphers =
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256";

const char* const kTls13Suites =
    "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:TLS_AES_128_CCM_SHA256";
const char* const kGroups = "P-384:P-256:P-521";

Status apply_tls_policy(SSL_CTX* ctx) {
  if (ctx == nullptr) return Status::internal("TLS: no SSL context");
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
    return Status::internal("TLS: cannot restrict the protocols to TLS 1.2 and 1.3");
  }
  if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) {
    return Status::internal("TLS: cannot set the cipher suites");
  }
  if (SSL_CTX_set_ciphersuites(ctx, kTls13Suites) != 1) {
    return Status::internal("TLS: cannot set the TLS 1.3 cipher suites");
  }
  if (SSL_CTX_set1_groups_list(ctx, kGroups) != 1) {
    return Status::internal("TLS: cannot restrict the key exchange groups");
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  return Status::ok();
}

}  // namespace ozghub::crypto
