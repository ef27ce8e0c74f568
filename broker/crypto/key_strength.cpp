#include "crypto/key_strength.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <memory>

namespace ozghub::crypto {
namespace {

constexpr int kMinRsaBits = 3072;
constexpr int kMinEcBits = 256;

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;
using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using Cert = std::unique_ptr<X509, decltype(&X509_free)>;

}  // namespace

std::string check_server_key(const std::string& certificate_file, const std::string& key_file) {
  File cf(std::fopen(certificate_file.c_str(), "rb"));
  if (!cf) return "cannot read the certificate " + certificate_file;
  Cert cert(PEM_read_X509(cf.get(), nullptr, nullptr, nullptr), X509_free);
  if (!cert) return certificate_file + " holds no PEM certificate";
  File kf(std::fopen(key_file.c_str(), "rb"));
  if (!kf) return "cannot read the key " + key_file;
  Key key(PEM_read_PrivateKey(kf.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  if (!key) return key_file + " holds no unencrypted PEM private key";
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return "the key " + key_file + " does not belong to the certificate " + certificate_file;
  }
  const int bits = EVP_PKEY_get_bits(key.get());
  switch (EVP_PKEY_get_base_id(key.get())) {
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS:
      if (bits < kMinRsaBits) {
        return "the server key is RSA with " + std::to_string(bits) + " bits; at least " +
               std::to_string(kMinRsaBits) + " are required (BSI TR-02102-2)";
      }
      return {};
    case EVP_PKEY_EC:
      if (bits < kMinEcBits) {
        return "the server key is EC with " + std::to_string(bits) + " bits; at least " +
               std::to_string(kMinEcBits) + " are required";
      }
      return {};
    default:
      return "the server key must be RSA (at least 3072 bits) or EC";
  }
}

}  // namespace ozghub::crypto
