// Signs status events as JWS (RFC 7515) in compact serialization, so a portal can prove what
// the hub reported (as FIT-Connect's security event tokens do):
//
//   BASE64URL({"alg":"ES256","kid":"<key id>","typ":"ozghub-status+jwt"}) "."
//   BASE64URL(<event body, status_event.hpp>) "." BASE64URL(<signature>)
//
// The key is one PEM private key file (status_events.signing_key), read with the checks for
// secrets (common/private_file.hpp): EC P-256 signs ES256 (the signature is R || S, 64 bytes,
// RFC 7518 section 3.4, not DER), RSA of at least 3072 bits signs PS256 (RSASSA-PSS, SHA-256,
// MGF1 with SHA-256, salt of 32 bytes). The key id is configured or, by default, the key's
// RFC 7638 JWK thumbprint (SHA-256, base64url). jwks() gives the public key as a JWK Set for
// the portals' verifiers.
//
// Thread-safety: immutable after load(); sign() from any thread.
#pragma once

#include <openssl/types.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/status.hpp"

namespace ozghub::status {

// RFC 4648 section 5, without padding.
std::string base64url(std::string_view bytes);

class JwsSigner {
 public:
  // `key_id` empty: the RFC 7638 thumbprint. Errors name the file and what is wrong.
  static Result<std::shared_ptr<const JwsSigner>> load(const std::string& pem_file,
                                                       const std::string& key_id);
  // From a PEM text (tests).
  static Result<std::shared_ptr<const JwsSigner>> from_pem(const std::string& pem,
                                                           const std::string& key_id,
                                                           const std::string& what);
  ~JwsSigner();
  JwsSigner(const JwsSigner&) = delete;
  JwsSigner& operator=(const JwsSigner&) = delete;

  // The compact serialization of a JWS over `payload`.
  Result<std::string> sign(std::string_view payload) const;

  const std::string& alg() const { return alg_; }  // "ES256" or "PS256"
  const std::string& kid() const { return kid_; }
  // {"kty":...,"use":"sig","alg":...,"kid":..., public members}
  const std::string& jwk() const { return jwk_; }
  // {"keys":[jwk()]}
  std::string jwks() const;

 private:
  JwsSigner() = default;
  EVP_PKEY* key_ = nullptr;
  bool ec_ = false;
  std::string alg_;
  std::string kid_;
  std::string jwk_;
  std::string header_b64_;  // BASE64URL(header) "."
};

}  // namespace ozghub::status
