// Encryption for the office: CMS EnvelopedData (RFC 5652) with AES-256-GCM content encryption
// (RFC 5084 AuthEnvelopedData as OpenSSL writes it for GCM) and RSA-OAEP key transport, DER
// encoded, so that `openssl cms -decrypt -inform DER -recip office.pem -inkey office.key` opens it.
//
// OpenSSL's CMS API writes one such structure per recipient, when it is loaded; its layout
// (cms_layout.hpp) is then filled for each file with OpenSSL's primitives: RSA-OAEP (SHA-256,
// MGF1-SHA-256) for the key, AES-256-GCM for the content, each nonce and key from OpenSSL's
// CSPRNG. Through the CMS API a file cost 71 us at 8 KiB (this way 55 us) and 2.2 ms at 1 MiB
// (0.42 ms): it encrypts through its BIO chain at a fifth of AES-GCM's speed
// (BM_CmsEncrypt against BM_CmsEncryptWithCmsApi).
//
// Thread-safety: a Recipient is immutable after load and may be shared by all threads;
// encrypt() is reentrant; an Envelope's seal() is const and may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.hpp"
#include "crypto/aead.hpp"

namespace ozghub::crypto {

class Recipient {
 public:
  // Loads a PEM X.509 certificate with an RSA public key (at least 2048 bits). Errors name the
  // file and what is wrong (unreadable, not PEM, not RSA, too small).
  static Result<std::shared_ptr<const Recipient>> from_pem_file(const std::string& path);
  static Result<std::shared_ptr<const Recipient>> from_pem(std::string_view pem);
  ~Recipient();
  Recipient(const Recipient&) = delete;
  Recipient& operator=(const Recipient&) = delete;

  std::int64_t not_after_unix() const;  // certificate expiry, seconds since the epoch
  std::string subject() const;          // e.g. "CN=Stadt Möckern", for operators

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  explicit Recipient(std::unique_ptr<Impl> impl);
  // `origin` names the source (a file path) in error messages.
  static Result<std::shared_ptr<const Recipient>> load(std::string_view pem,
                                                       const std::string& origin);
  std::unique_ptr<Impl> impl_;
};

struct CmsLayout;

// One content-encryption key for the files of one case (its application, attachments): the
// key is wrapped for the recipient once, one RSA operation per case instead of one per file,
// and each seal() encrypts one file under it with a fresh random nonce into a complete
// structure that decrypts on its own. GCM's nonces are 96 random bits per file; NIST SP
// 800-38D allows 2^32 of them per key, and a case has a few hundred files at most. The files of one
// case go to one office, which can open all of them with the same private key anyway: sharing the
// key between them gives nobody anything. Do not keep an Envelope beyond one case.
//
// Owns its key (DataKey: wiped when it goes away) and shares the recipient's layout: it does not
// depend on the Recipient staying alive.
class Envelope {
 public:
  static Result<Envelope> create(const Recipient& recipient);
  Envelope(Envelope&&) noexcept = default;
  Envelope& operator=(Envelope&&) noexcept = default;
  Envelope(const Envelope&) = delete;
  Envelope& operator=(const Envelope&) = delete;

  // The DER-encoded ContentInfo of `plaintext` encrypted under this envelope's key. Not on a
  // moved-from Envelope.
  Result<std::string> seal(std::string_view plaintext) const;

 private:
  Envelope() = default;
  std::shared_ptr<const CmsLayout> layout_;
  DataKey key_;                  // the content-encryption key
  std::string recipient_infos_;  // the layout's, with this key wrapped in it
};

// One file for `recipient` under a key of its own (Envelope::create(recipient)->seal()).
Result<std::string> encrypt(std::string_view plaintext, const Recipient& recipient);

namespace detail {
// The same structure written by OpenSSL's CMS API alone (what the layout is learned from):
// the baseline tests and benchmarks compare encrypt() with.
Result<std::string> encrypt_with_cms_api(std::string_view plaintext, const Recipient& recipient);
}  // namespace detail

// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

}  // namespace ozghub::crypto
