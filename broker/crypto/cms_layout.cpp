#include "crypto/cms_layout.hpp"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include <optional>
#include <vector>

#include "crypto/aead.hpp"
#include "crypto/der.hpp"

namespace ozghub::crypto {
namespace {

Status unexpected(const std::string& what) {
  return Status::internal("cms: OpenSSL wrote an AuthEnvelopedData this hub does not know (" +
                          what + ")");
}

// The elements inside `outer`'s content, in order; nothing when one of them is not DER.
std::optional<std::vector<der::Element>> children(std::string_view der, const der::Element& outer) {
  std::vector<der::Element> out;
  for (std::size_t at = outer.content(); at < outer.end();) {
    auto e = der::read(der.substr(0, outer.end()), at);
    if (!e) return std::nullopt;
    out.push_back(*e);
    at = e->end();
  }
  return out;
}

std::string_view element(std::string_view der, const der::Element& e) {
  return der.substr(e.offset, e.end() - e.offset);
}

std::string bytes_of(std::string_view der, const der::Element& e) {
  return std::string(element(der, e));
}

// The DER element (06 len content) of a well-known object identifier, from OpenSSL's table.
std::string oid(int nid) {
  const ASN1_OBJECT* object = OBJ_nid2obj(nid);
  const int len = object == nullptr ? 0 : i2d_ASN1_OBJECT(object, nullptr);
  if (len <= 0) {
    ERR_clear_error();
    return {};
  }
  std::string out(static_cast<std::size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  i2d_ASN1_OBJECT(object, &p);
  return out;
}

// Fail closed: the algorithms the hub promises (DESIGN.md: AES-256-GCM content encryption,
// RSA-OAEP key transport with SHA-256) are what the sample says, not just its shape.
bool is(std::string_view der, const der::Element& e, int nid) {
  const std::string expected = oid(nid);
  return !expected.empty() && element(der, e) == expected;
}

std::size_t count(std::string_view haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = haystack.find(needle); !needle.empty() && at != std::string_view::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

}  // namespace

Result<CmsLayout> learn_cms_layout(std::string_view der, std::size_t wrapped_key_size) {
  auto ci = der::read(der, 0);
  if (!ci || ci->tag != der::kSequence || ci->end() != der.size()) {
    return unexpected("no ContentInfo");
  }
  auto ci_parts = children(der, *ci);
  if (!ci_parts || ci_parts->size() != 2 || (*ci_parts)[0].tag != der::kOid ||
      (*ci_parts)[1].tag != der::kContext0Constructed) {
    return unexpected("ContentInfo");
  }
  auto explicit_parts = children(der, (*ci_parts)[1]);
  if (!explicit_parts || explicit_parts->size() != 1 ||
      (*explicit_parts)[0].tag != der::kSequence) {
    return unexpected("content");
  }
  // version, recipientInfos, authEncryptedContentInfo, mac: no originatorInfo, no attributes.
  auto aed = children(der, (*explicit_parts)[0]);
  if (!aed || aed->size() != 4 || (*aed)[0].tag != der::kInteger || (*aed)[1].tag != der::kSet ||
      (*aed)[2].tag != der::kSequence || (*aed)[3].tag != der::kOctetString) {
    return unexpected("AuthEnvelopedData");
  }
  if ((*aed)[3].length != kTagBytes) return unexpected("tag length");
  if (!is(der, (*ci_parts)[0], NID_id_smime_ct_authEnvelopedData)) {
    return unexpected("content type");
  }

  CmsLayout layout;
  layout.content_type = bytes_of(der, (*ci_parts)[0]);
  layout.version = bytes_of(der, (*aed)[0]);

  // One KeyTransRecipientInfo whose last element is the wrapped key.
  const der::Element& set = (*aed)[1];
  auto infos = children(der, set);
  if (!infos || infos->size() != 1 || (*infos)[0].tag != der::kSequence) {
    return unexpected("recipientInfos");
  }
  auto ktri = children(der, (*infos)[0]);
  // version, rid, keyEncryptionAlgorithm, encryptedKey
  if (!ktri || ktri->size() != 4 || ktri->back().tag != der::kOctetString ||
      ktri->back().length != wrapped_key_size || (*ktri)[2].tag != der::kSequence) {
    return unexpected("KeyTransRecipientInfo");
  }
  // rsaesOaep whose parameters name SHA-256 for the hash and for MGF1 (RFC 4055; absent
  // parameters would mean SHA-1).
  auto key_algorithm = children(der, (*ktri)[2]);
  if (!key_algorithm || key_algorithm->size() != 2 ||
      !is(der, (*key_algorithm)[0], NID_rsaesOaep) ||
      count(element(der, (*key_algorithm)[1]), oid(NID_sha256)) != 2 ||
      count(element(der, (*key_algorithm)[1]), oid(NID_mgf1)) != 1) {
    return unexpected("key transport algorithm");
  }
  layout.recipient_infos = bytes_of(der, set);
  layout.wrapped_key_offset = ktri->back().content() - set.offset;
  layout.wrapped_key_size = wrapped_key_size;

  // contentType, contentEncryptionAlgorithm { OID, GCMParameters { nonce, icvLen } }, content.
  auto eci = children(der, (*aed)[2]);
  if (!eci || eci->size() != 3 || (*eci)[0].tag != der::kOid || (*eci)[1].tag != der::kSequence ||
      (*eci)[2].tag != der::kContext0Primitive) {
    return unexpected("authEncryptedContentInfo");
  }
  auto algorithm = children(der, (*eci)[1]);
  if (!algorithm || algorithm->size() != 2 || (*algorithm)[0].tag != der::kOid ||
      (*algorithm)[1].tag != der::kSequence) {
    return unexpected("contentEncryptionAlgorithm");
  }
  auto gcm = children(der, (*algorithm)[1]);
  if (!gcm || gcm->size() != 2 || (*gcm)[0].tag != der::kOctetString ||
      (*gcm)[0].length != kNonceBytes || (*gcm)[1].tag != der::kInteger || (*gcm)[1].length != 1 ||
      static_cast<unsigned char>(der[(*gcm)[1].content()]) != kTagBytes) {
    return unexpected("GCMParameters");
  }
  if (!is(der, (*eci)[0], NID_pkcs7_data) || !is(der, (*algorithm)[0], NID_aes_256_gcm)) {
    return unexpected("content encryption algorithm");
  }
  layout.encrypted_content_type = bytes_of(der, (*eci)[0]);
  layout.content_algorithm = bytes_of(der, (*eci)[1]);
  layout.nonce_offset = (*gcm)[0].content() - (*eci)[1].offset;
  layout.content_tag = (*eci)[2].tag;
  return layout;
}

}  // namespace ozghub::crypto
