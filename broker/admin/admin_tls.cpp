#include "admin/admin_tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "crypto/tls_policy.hpp"

namespace ozghub::admin {
namespace {

namespace ssl = boost::asio::ssl;

// OpenSSL's reason for the last failure, for the startup error.
std::string openssl_error() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

}  // namespace

Result<std::shared_ptr<ssl::context>> make_admin_tls_context(const config::AdminTls& tls) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* ctx = context->native_handle();
  if (Status s = crypto::apply_tls_policy(ctx); !s.is_ok()) return s;
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(ctx, tls.certificate.c_str()) != 1) {
    return Status::invalid_argument("admin.tls.certificate " + tls.certificate + ": " +
                                    openssl_error());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, tls.key.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    return Status::invalid_argument("admin.tls.key " + tls.key + ": " + openssl_error());
  }
  if (!tls.client_ca.empty()) {
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.client_ca.c_str());
    if (names == nullptr ||
        SSL_CTX_load_verify_locations(ctx, tls.client_ca.c_str(), nullptr) != 1) {
      if (names != nullptr) sk_X509_NAME_pop_free(names, X509_NAME_free);
      return Status::invalid_argument("admin.tls.client_ca " + tls.client_ca + ": " +
                                      openssl_error());
    }
    SSL_CTX_set_client_CA_list(ctx, names);  // takes ownership
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    // A resumed session keeps the verified certificate of the first handshake; OpenSSL refuses
    // resumption with client verification unless the context has a session id context.
    static const unsigned char kSessionContext[] = "ozg-hub admin";
    SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  }
  return context;
}

}  // namespace ozghub::admin
