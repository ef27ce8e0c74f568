#include "crypto/aead.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <climits>
#include <memory>

namespace ozghub::crypto {
namespace {

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

CipherCtx new_ctx() { return {EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free}; }

const unsigned char* u8(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

bool fits_int(std::string_view s) { return s.size() <= static_cast<std::size_t>(INT_MAX); }

}  // namespace

DataKey::~DataKey() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

Result<DataKey> DataKey::generate() {
  DataKey k;
  if (RAND_bytes(k.bytes_.data(), static_cast<int>(k.bytes_.size())) != 1) {
    ERR_clear_error();
    return Status::internal("the random generator failed to produce a data key");
  }
  return k;
}

Result<DataKey> DataKey::from_bytes(std::string_view bytes) {
  if (bytes.size() != kKeyBytes) {
    return Status::invalid_argument("a key must be " + std::to_string(kKeyBytes) + " bytes, not " +
                                    std::to_string(bytes.size()));
  }
  DataKey k;
  std::copy(bytes.begin(), bytes.end(), reinterpret_cast<char*>(k.bytes_.data()));
  return k;
}

void wipe(std::string& s) { OPENSSL_cleanse(s.data(), s.size()); }

Result<std::string> random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    ERR_clear_error();
    return Status::internal("the random generator failed");
  }
  return out;
}

Status gcm_encrypt(const DataKey& key, const unsigned char* nonce, std::string_view aad,
                   std::string_view plaintext, unsigned char* ciphertext, unsigned char* tag) {
  if (!fits_int(plaintext) || !fits_int(aad)) return Status::invalid_argument("message too large");
  CipherCtx ctx = new_ctx();
  int len = 0;
  int fin = 0;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, u8(key.bytes()), nonce) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, u8(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), ciphertext, &len, u8(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), ciphertext + len, &fin) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes), tag) != 1) {
    ERR_clear_error();
    return Status::internal("AES-256-GCM encryption failed");
  }
  return Status::ok();
}

Result<std::string> seal(const DataKey& key, std::string_view aad, std::string_view plaintext) {
  if (!fits_int(plaintext) || !fits_int(aad)) return Status::invalid_argument("message too large");
  auto nonce = random_bytes(kNonceBytes);
  if (!nonce) return nonce.status();
  std::string out = std::move(*nonce);
  out.resize(kNonceBytes + plaintext.size() + kTagBytes);
  auto* ct = reinterpret_cast<unsigned char*>(out.data()) + kNonceBytes;
  if (Status s = gcm_encrypt(key, u8(out), aad, plaintext, ct, ct + plaintext.size()); !s.is_ok()) {
    return s;
  }
  return out;
}

Result<std::string> open(const DataKey& key, std::string_view aad, std::string_view sealed) {
  if (sealed.size() < kSealOverhead || !fits_int(sealed) || !fits_int(aad)) {
    return Status::corruption("sealed record too short");
  }
  std::string_view nonce = sealed.substr(0, kNonceBytes);
  std::string_view ct = sealed.substr(kNonceBytes, sealed.size() - kSealOverhead);
  std::string tag(sealed.substr(sealed.size() - kTagBytes));
  std::string out(ct.size(), '\0');
  CipherCtx ctx = new_ctx();
  int len = 0;
  int fin = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, u8(key.bytes()), u8(nonce)) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, u8(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, u8(ct),
                        static_cast<int>(ct.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes),
                          tag.data()) != 1) {
    wipe(out);
    return Status::internal("AES-256-GCM decryption failed");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &fin) !=
      1) {
    wipe(out);
    return Status::corruption("authentication failed: wrong key, wrong context or altered data");
  }
  return out;
}

}  // namespace ozghub::crypto
