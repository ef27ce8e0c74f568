// A key-encryption key (KEK): wraps and unwraps the per-case data keys (DEKs). Implementations:
// a key file (file_kek.hpp) and a PKCS#11 token (pkcs11_kek.hpp), where the KEK never leaves
// the token. A wrapped DEK is what the store keeps beside each case; the KEK's id is stored
// with it, so cases wrapped by an older KEK stay readable while that KEK is still configured.
//
// Thread-safety: wrap() and unwrap() may be called from any thread concurrently.
#pragma once

#include <string>
#include <string_view>

#include "common/status.hpp"
#include "crypto/aead.hpp"

namespace ozghub::crypto {

class Kek {
 public:
  virtual ~Kek() = default;
  virtual const std::string& id() const = 0;
  virtual Result<std::string> wrap(const DataKey& dek) const = 0;
  virtual Result<DataKey> unwrap(std::string_view wrapped) const = 0;
};

// The AAD of a wrapped DEK: binds it to the KEK's id and the format, so a wrapped key cannot be
// presented as wrapped by another KEK entry of the same material.
std::string wrap_aad(const std::string& kek_id);

}  // namespace ozghub::crypto
