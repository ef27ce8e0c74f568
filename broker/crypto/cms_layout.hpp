// What an AuthEnvelopedData (RFC 5083) for one recipient looks like, learned once per
// recipient from a structure OpenSSL's CMS API wrote, so that every file after it can be
// written without that API: only the wrapped key, the nonce, the ciphertext and the tag change
// from one file to the next, and the lengths around them.
//
//   ContentInfo ::= SEQUENCE { contentType OID (authEnvelopedData), content [0] EXPLICIT
//     AuthEnvelopedData ::= SEQUENCE {
//       version INTEGER, recipientInfos SET { KeyTransRecipientInfo { ..., encryptedKey } },
//       authEncryptedContentInfo SEQUENCE { contentType OID (data),
//         contentEncryptionAlgorithm SEQUENCE { aes256-GCM, GCMParameters { nonce, 16 } },
//         encryptedContent [0] IMPLICIT OCTET STRING },
//       mac OCTET STRING } }
//
// Thread-safety: a CmsLayout is an immutable value.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.hpp"

namespace ozghub::crypto {

struct CmsLayout {
  std::string content_type;            // the ContentInfo's OID element (authEnvelopedData)
  std::string version;                 // AuthEnvelopedData's version element
  std::string recipient_infos;         // the SET element as written, with some wrapped key in it
  std::size_t wrapped_key_offset;      // of the encryptedKey's content within recipient_infos
  std::size_t wrapped_key_size;        // the RSA modulus size: every wrapped key has this length
  std::string encrypted_content_type;  // the OID element (data)
  std::string content_algorithm;       // AlgorithmIdentifier element, with some nonce in it
  std::size_t nonce_offset;            // of the nonce's content within content_algorithm
  unsigned char content_tag;           // the encryptedContent's tag
};

// Learns the layout from `der`, an AuthEnvelopedData ContentInfo for one key-transport
// recipient whose RSA modulus is `wrapped_key_size` bytes, with RSA-OAEP (SHA-256, MGF1 with
// SHA-256), AES-256-GCM, a 12-byte nonce, a 16-byte tag and no authenticated or
// unauthenticated attributes. Anything else is refused
// (internal error naming what differs): then this OpenSSL writes something we do not know.
Result<CmsLayout> learn_cms_layout(std::string_view der, std::size_t wrapped_key_size);

}  // namespace ozghub::crypto
