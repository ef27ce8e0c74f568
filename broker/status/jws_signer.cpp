#include "status/jws_signer.hpp"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>
#include <vector>

#include "common/private_file.hpp"
#include "common/text.hpp"

namespace ozghub::status {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

struct Free {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};

// A BIGNUM parameter of the key, big-endian, at least `width` bytes (0: as long as it is).
std::string bn_param(EVP_PKEY* key, const char* name, int width) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) return {};
  std::unique_ptr<BIGNUM, Free> bn(raw);
  const int n = std::max(width, BN_num_bytes(bn.get()));
  std::string out(static_cast<std::size_t>(n), '\0');
  BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()), n);
  return out;
}

std::string sha256(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(md), n);
}

std::string json_string(std::string_view s) {
  std::string out;
  text::append_json_string(out, s);
  return out;
}

}  // namespace

std::string base64url(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  const auto at = [&](std::size_t k) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[k]));
  };
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (bytes.size() - i == 1) {
    const std::uint32_t v = at(i) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (bytes.size() - i == 2) {
    const std::uint32_t v = (at(i) << 16) | (at(i + 1) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

Result<std::shared_ptr<const JwsSigner>> JwsSigner::load(const std::string& pem_file,
                                                         const std::string& key_id) {
  auto pem = private_file::read("status_events.signing_key", pem_file);
  if (!pem) return pem.status();
  return from_pem(*pem, key_id, "status_events.signing_key " + pem_file);
}

Result<std::shared_ptr<const JwsSigner>> JwsSigner::from_pem(const std::string& pem,
                                                             const std::string& key_id,
                                                             const std::string& what) {
  std::unique_ptr<BIO, Free> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (key == nullptr) {
    return Status::invalid_argument(what + ": not an unencrypted PEM private key");
  }
  std::shared_ptr<JwsSigner> s(new JwsSigner());
  s->key_ = key;
  std::string thumbprint_input;
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {};
    std::size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       &len) != 1 ||
        std::string_view(group) != "prime256v1") {
      return Status::invalid_argument(what + ": an EC key must be on P-256 (ES256)");
    }
    s->ec_ = true;
    s->alg_ = "ES256";
    const std::string x = base64url(bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, 32));
    const std::string y = base64url(bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, 32));
    // RFC 7638: the required members in lexicographic order, no whitespace.
    thumbprint_input = R"({"crv":"P-256","kty":"EC","x":")" + x + R"(","y":")" + y + "\"}";
    s->jwk_ = R"({"kty":"EC","crv":"P-256","x":")" + x + R"(","y":")" + y + "\"";
  } else if (EVP_PKEY_is_a(key, "RSA")) {
    if (EVP_PKEY_get_bits(key) < 3072) {
      return Status::invalid_argument(what + ": an RSA key needs at least 3072 bits (PS256)");
    }
    s->alg_ = "PS256";
    const std::string n = base64url(bn_param(key, OSSL_PKEY_PARAM_RSA_N, 0));
    const std::string e = base64url(bn_param(key, OSSL_PKEY_PARAM_RSA_E, 0));
    thumbprint_input = R"({"e":")" + e + R"(","kty":"RSA","n":")" + n + "\"}";
    s->jwk_ = R"({"kty":"RSA","n":")" + n + R"(","e":")" + e + "\"";
  } else {
    return Status::invalid_argument(what + ": the key must be EC P-256 (ES256) or RSA (PS256)");
  }
  s->kid_ = key_id.empty() ? base64url(sha256(thumbprint_input)) : key_id;
  s->jwk_ += ",\"use\":\"sig\",\"alg\":\"" + s->alg_ + "\",\"kid\":" + json_string(s->kid_) + "}";
  const std::string header = "{\"alg\":\"" + s->alg_ + "\",\"kid\":" + json_string(s->kid_) +
                             ",\"typ\":\"ozghub-status+jwt\"}";
  s->header_b64_ = base64url(header) + ".";
  return std::shared_ptr<const JwsSigner>(std::move(s));
}

JwsSigner::~JwsSigner() { EVP_PKEY_free(key_); }

std::string JwsSigner::jwks() const { return "{\"keys\":[" + jwk_ + "]}"; }

Result<std::string> JwsSigner::sign(std::string_view payload) const {
  std::string out = header_b64_ + base64url(payload);
  std::unique_ptr<EVP_MD_CTX, Free> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key_) != 1) {
    return Status::internal("JWS: cannot start signing");
  }
  if (!ec_ && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
               EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
               EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1)) {
    return Status::internal("JWS: cannot set up RSASSA-PSS");
  }
  const auto* data = reinterpret_cast<const unsigned char*>(out.data());
  std::size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, data, out.size()) != 1) {
    return Status::internal("JWS: signing failed");
  }
  std::vector<unsigned char> sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, data, out.size()) != 1) {
    return Status::internal("JWS: signing failed");
  }
  sig.resize(len);
  std::string signature;
  if (ec_) {
    // OpenSSL gives DER (SEQUENCE of two INTEGERs); JWS wants R || S, 32 bytes each.
    const unsigned char* p = sig.data();
    std::unique_ptr<ECDSA_SIG, Free> ecdsa(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len)));
    if (!ecdsa) return Status::internal("JWS: malformed ECDSA signature");
    signature.assign(64, '\0');
    auto* raw = reinterpret_cast<unsigned char*>(signature.data());
    if (BN_bn2binpad(ECDSA_SIG_get0_r(ecdsa.get()), raw, 32) != 32 ||
        BN_bn2binpad(ECDSA_SIG_get0_s(ecdsa.get()), raw + 32, 32) != 32) {
      return Status::internal("JWS: malformed ECDSA signature");
    }
  } else {
    signature.assign(reinterpret_cast<const char*>(sig.data()), sig.size());
  }
  out += '.';
  out += base64url(signature);
  return out;
}

}  // namespace ozghub::status
