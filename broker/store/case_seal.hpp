// Encryption at rest of a case record (envelope encryption).
//
// Every case gets its own random 256-bit data key (DEK). The encoded case (record_codec.hpp:
// the XML, the attachments and every other field) is sealed with AES-256-GCM under the DEK,
// with the AAD "ozg-hub case v2" + case number, so a record copied under another case number, or
// from another format, fails to open. The DEK is stored wrapped by a key-encryption key (KEK),
// with the KEK's id, in its own column family: deleting that small record makes the case
// unreadable at once (crypto-shredding), whatever copies of the ciphertext remain.
//
// prepare() does the costly part (a DEK, its wrap by the KEK, which may be a token round trip,
// and the SHA-256 of every payload for the audit trail) on the intake workers; the committer
// only seals, because the AAD needs the case number it assigns.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/application.hpp"
#include "common/status.hpp"
#include "crypto/keyring.hpp"

namespace ozghub::store {

// What the committer needs besides the case: made on a worker thread.
struct PreparedCase {
  crypto::SealingKey key;
  std::string xml_sha256;                      // hex
  std::vector<std::string> attachment_sha256;  // hex, in attachment order
};

Result<PreparedCase> prepare_case(const Case& c, const crypto::Keyring& keys);

// The stored key record: u8 version (1), u8 length + KEK id, the wrapped DEK.
struct KeyRecord {
  std::string kek_id;
  std::string wrapped;
};
std::string encode_key_record(const KeyRecord& k);
Result<KeyRecord> decode_key_record(std::string_view v);

Result<std::string> seal_case(const Case& c, const crypto::DataKey& dek);
Result<Case> open_case(const std::string& case_number, std::string_view sealed,
                       const crypto::DataKey& dek);

}  // namespace ozghub::store
