#include "ingress/tls_server_options.hpp"

#include <openssl/ssl.h>
#include <proton/ssl.h>
#include <proton/version.h>

#include <exception>

#include "crypto/tls_policy.hpp"

namespace ozghub::ingress {

namespace {

constexpr char kProtocols[] = "TLSv1.2 TLSv1.3";

// Reads the private `impl_` of proton::ssl_server_options and ssl_client_options. An explicit
// instantiation may name a private member ([temp.spec.general]); the friend function hands its
// pointer out.
struct ServerImpl {
  friend constexpr auto impl_member(ServerImpl);
};
struct ClientImpl {
  friend constexpr auto impl_member(ClientImpl);
};
template <typename Tag, auto Member>
struct ExposeImpl {
  friend constexpr auto impl_member(Tag) { return Member; }
};
template struct ExposeImpl<ServerImpl, &proton::ssl_server_options::impl_>;
template struct ExposeImpl<ClientImpl, &proton::ssl_client_options::impl_>;

// The layout below is Proton's, not a promise: a Proton this was not checked with fails the
// build here instead of misbehaving at run time (re-check cpp/src/ssl_options_impl.hpp, then
// allow the version; test_amqp_security proves the policy). Checked with Debian 12's 0.37.
static_assert(PN_VERSION_MAJOR == 0 && PN_VERSION_MINOR == 37,
              "check proton::ssl_server_options::impl's layout for this Proton version");
static_assert(sizeof(proton::ssl_server_options) == sizeof(void*),
              "proton::ssl_server_options is expected to hold only its impl_ pointer");
static_assert(sizeof(proton::ssl_client_options) == sizeof(void*),
              "proton::ssl_client_options is expected to hold only its impl_ pointer");

template <typename Tag, typename Options>
pn_ssl_domain_t* domain_of(Options& options) {
  auto* impl = options.*impl_member(Tag{});
  if (impl == nullptr) return nullptr;
  // Proton's ssl_options_impl: { pn_ssl_domain_t* pn_domain_; int refcount_; }.
  return *reinterpret_cast<pn_ssl_domain_t**>(impl);
}

// Proton's OpenSSL pn_ssl_domain_t starts with its SSL_CTX* (ssl/openssl.c; the same version
// check applies). Every connection's SSL object is made from it, so what is set here holds for
// all of them; Proton itself only sets the TLS 1.2 cipher list and the protocol range.
SSL_CTX* ssl_ctx_of(pn_ssl_domain_t* domain) { return *reinterpret_cast<SSL_CTX**>(domain); }

Status apply_policy(pn_ssl_domain_t* domain) {
  if (domain == nullptr) return Status::internal("TLS: Proton created no SSL domain");
  if (pn_ssl_domain_set_protocols(domain, kProtocols) != 0) {
    return Status::internal(std::string("TLS: cannot restrict the protocols to ") + kProtocols);
  }
  if (pn_ssl_domain_set_ciphers(domain, crypto::kTls12Ciphers) != 0) {
    return Status::internal("TLS: cannot set the cipher suites");
  }
  // The rest of the policy (TLS 1.3 suites, groups) has no Proton call: set on the SSL_CTX,
  // with the same protocol range and TLS 1.2 list Proton was just given.
  return crypto::apply_tls_policy(ssl_ctx_of(domain));
}

}  // namespace

Result<proton::ssl_server_options> make_tls_server_options(const config::AmqpTls& tls) {
  try {
    proton::ssl_certificate cert(tls.certificate, tls.key);
    proton::ssl_server_options options =
        tls.client_ca.empty() ? proton::ssl_server_options(cert)
                              : proton::ssl_server_options(cert, tls.client_ca, tls.client_ca,
                                                           proton::ssl::VERIFY_PEER);
    if (Status s = apply_policy(domain_of<ServerImpl>(options)); !s.is_ok()) return s;
    return options;
  } catch (const std::exception& e) {
    return Status::invalid_argument(std::string("TLS (amqp.tls at ") + tls.origin +
                                    "): " + e.what());
  }
}

Result<proton::ssl_client_options> make_tls_client_options(const std::string& ca,
                                                           const std::string& certificate,
                                                           const std::string& key) {
  try {
    proton::ssl_client_options options =
        certificate.empty() ? proton::ssl_client_options(ca, proton::ssl::VERIFY_PEER_NAME)
                            : proton::ssl_client_options(proton::ssl_certificate(certificate, key),
                                                         ca, proton::ssl::VERIFY_PEER_NAME);
    if (Status s = apply_policy(domain_of<ClientImpl>(options)); !s.is_ok()) return s;
    return options;
  } catch (const std::exception& e) {
    return Status::invalid_argument(std::string("TLS: ") + e.what());
  }
}

}  // namespace ozghub::ingress
