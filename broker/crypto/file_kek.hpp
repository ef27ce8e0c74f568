// A KEK read from a file of exactly 32 random bytes. The file must be a regular file owned by
// the user the daemon runs as, readable by nobody else (mode 0600 or 0400): anything else is
// refused at startup with the fix in the message. DEKs are wrapped with AES-256-GCM (aead.hpp).
//
// `create_if_missing` (for the demo only) writes a new random key with mode 0600 when the file
// does not exist yet; a production configuration leaves it off, so a missing key is an error
// instead of a fresh key that cannot read the existing data.
#pragma once

#include <memory>
#include <string>

#include "crypto/kek.hpp"

namespace ozghub::crypto {

Result<std::unique_ptr<Kek>> open_file_kek(const std::string& id, const std::string& path,
                                           bool create_if_missing);

// The same KEK over key bytes already in memory (tests, and a store opened without a keyring).
std::unique_ptr<Kek> memory_kek(const std::string& id, const DataKey& key);

}  // namespace ozghub::crypto
