#include "status/jws_signer.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace ozghub::status {
namespace {

std::string base64url_decode(std::string_view in) {
  std::string b64(in);
  for (char& c : b64) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (b64.size() % 4 != 0) b64 += '=';
  std::string out(b64.size(), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(b64.data()),
                                static_cast<int>(b64.size()));
  out.resize(static_cast<std::size_t>(n) - (in.size() % 4 == 2 ? 2 : in.size() % 4 == 3 ? 1 : 0));
  return out;
}

struct Key {
  EVP_PKEY* key = nullptr;
  ~Key() { EVP_PKEY_free(key); }
  std::string pem() const {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(n));
    BIO_free(bio);
    return out;
  }
};

// Verifies a compact JWS with OpenSSL against `key`'s public half; returns the payload.
std::string verify(const std::string& jws, EVP_PKEY* key, bool ec) {
  const auto dot1 = jws.find('.');
  const auto dot2 = jws.rfind('.');
  EXPECT_NE(dot1, dot2);
  const std::string signing_input = jws.substr(0, dot2);
  std::string sig = base64url_decode(jws.substr(dot2 + 1));
  if (ec) {
    EXPECT_EQ(sig.size(), 64u);  // R || S, not DER
    ECDSA_SIG* s = ECDSA_SIG_new();
    const auto* raw = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG_set0(s, BN_bin2bn(raw, 32, nullptr), BN_bin2bn(raw + 32, 32, nullptr));
    unsigned char* der = nullptr;
    const int n = i2d_ECDSA_SIG(s, &der);
    sig.assign(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
    OPENSSL_free(der);
    ECDSA_SIG_free(s);
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  EXPECT_EQ(EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), nullptr, key), 1);
  if (!ec) {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32);
    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256());
  }
  const int ok = EVP_DigestVerify(
      ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
      reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size());
  EVP_MD_CTX_free(ctx);
  EXPECT_EQ(ok, 1) << "signature does not verify";
  return base64url_decode(jws.substr(dot1 + 1, dot2 - dot1 - 1));
}

nlohmann::json header_of(const std::string& jws) {
  return nlohmann::json::parse(base64url_decode(jws.substr(0, jws.find('.'))));
}

TEST(Base64Url, NoPaddingUrlAlphabet) {
  EXPECT_EQ(base64url(""), "");
  EXPECT_EQ(base64url("f"), "Zg");
  EXPECT_EQ(base64url("fo"), "Zm8");
  EXPECT_EQ(base64url("foo"), "Zm9v");
  EXPECT_EQ(base64url("\xfb\xff"), "-_8");
}

TEST(JwsSigner, Es256SignatureVerifiesWithOpenSsl) {
  Key k;
  k.key = EVP_EC_gen("P-256");
  ASSERT_NE(k.key, nullptr);
  auto signer = JwsSigner::from_pem(k.pem(), "", "test key");
  ASSERT_OK(signer);
  EXPECT_EQ((*signer)->alg(), "ES256");
  const std::string payload = R"({"type":"accepted","seq":1})";
  auto jws = (*signer)->sign(payload);
  ASSERT_OK(jws);
  EXPECT_EQ(verify(*jws, k.key, true), payload);
  auto h = header_of(*jws);
  EXPECT_EQ(h["alg"], "ES256");
  EXPECT_EQ(h["kid"], (*signer)->kid());
  EXPECT_EQ(h["typ"], "ozghub-status+jwt");
  // The default key id is the RFC 7638 thumbprint: SHA-256 of the canonical JWK, 43 characters.
  auto jwk = nlohmann::json::parse((*signer)->jwk());
  const std::string canonical = R"({"crv":"P-256","kty":"EC","x":")" + jwk["x"].get<std::string>() +
                                R"(","y":")" + jwk["y"].get<std::string>() + "\"}";
  unsigned char md[32];
  unsigned int n = 0;
  EVP_Digest(canonical.data(), canonical.size(), md, &n, EVP_sha256(), nullptr);
  EXPECT_EQ((*signer)->kid(), base64url(std::string(reinterpret_cast<char*>(md), n)));
  EXPECT_EQ(nlohmann::json::parse((*signer)->jwks())["keys"][0]["kid"], (*signer)->kid());
}

TEST(JwsSigner, Ps256SignatureVerifiesWithOpenSsl) {
  Key k;
  k.key = EVP_RSA_gen(3072);
  ASSERT_NE(k.key, nullptr);
  auto signer = JwsSigner::from_pem(k.pem(), "hub-2026", "test key");
  ASSERT_OK(signer);
  EXPECT_EQ((*signer)->alg(), "PS256");
  EXPECT_EQ((*signer)->kid(), "hub-2026");
  auto jws = (*signer)->sign("{}");
  ASSERT_OK(jws);
  EXPECT_EQ(verify(*jws, k.key, false), "{}");
  EXPECT_EQ(header_of(*jws)["alg"], "PS256");
}

TEST(JwsSigner, RefusesWeakOrWrongKeys) {
  Key rsa;
  rsa.key = EVP_RSA_gen(2048);
  EXPECT_FALSE(JwsSigner::from_pem(rsa.pem(), "", "k").is_ok());
  Key p384;
  p384.key = EVP_EC_gen("P-384");
  EXPECT_FALSE(JwsSigner::from_pem(p384.pem(), "", "k").is_ok());
  EXPECT_FALSE(JwsSigner::from_pem("not a key", "", "k").is_ok());
}

}  // namespace
}  // namespace ozghub::status
