// Authenticated encryption for data at rest: AES-256-GCM (OpenSSL EVP) with a random 96-bit
// nonce per message and a 128-bit tag. A sealed message is nonce(12) || ciphertext || tag(16).
// The additional authenticated data (AAD) is not stored: the caller rebuilds it from what it
// binds (e.g. the case number), so a record moved to another key or context fails to open.
//
// Thread-safety: every function is reentrant; a DataKey is a value.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.hpp"

namespace ozghub::crypto {

constexpr std::size_t kKeyBytes = 32;  // AES-256
constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;
constexpr std::size_t kSealOverhead = kNonceBytes + kTagBytes;

// A 256-bit key held in memory only; its bytes are wiped when it goes away.
class DataKey {
 public:
  DataKey() = default;
  ~DataKey();
  DataKey(const DataKey& other) = default;
  DataKey& operator=(const DataKey& other) = default;

  // A fresh random key from OpenSSL's CSPRNG.
  static Result<DataKey> generate();
  // Exactly kKeyBytes bytes, else invalid_argument.
  static Result<DataKey> from_bytes(std::string_view bytes);

  std::string_view bytes() const {
    return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
  }

 private:
  std::array<unsigned char, kKeyBytes> bytes_{};
};

// Overwrites a buffer that held key material (OPENSSL_cleanse: not optimised away).
void wipe(std::string& s);

// Random bytes from OpenSSL's CSPRNG.
Result<std::string> random_bytes(std::size_t n);

Result<std::string> seal(const DataKey& key, std::string_view aad, std::string_view plaintext);

// The AES-256-GCM encryption under seal() and the CMS envelopes (cms.hpp): encrypts
// `plaintext` with `nonce` (kNonceBytes) into `ciphertext` (room for plaintext.size() bytes,
// may not overlap it) and writes the kTagBytes tag to `tag`.
Status gcm_encrypt(const DataKey& key, const unsigned char* nonce, std::string_view aad,
                   std::string_view plaintext, unsigned char* ciphertext, unsigned char* tag);
// Fails (corruption) when the message was changed, the AAD differs or the key is wrong; never
// returns unauthenticated bytes.
Result<std::string> open(const DataKey& key, std::string_view aad, std::string_view sealed);

}  // namespace ozghub::crypto
