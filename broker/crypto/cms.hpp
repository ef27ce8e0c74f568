// Encryption for the office: CMS EnvelopedData (RFC 5652) with AES-256-GCM content encryption
// (RFC 5084 AuthEnvelopedData as OpenSSL writes it for GCM) and RSA-OAEP key transport, DER
// encoded, so that `openssl cms -decrypt -inform DER -recip office.pem -inkey office.key` opens it.
// Only OpenSSL 3's CMS API is used; no primitive is written by hand.
//
// Thread-safety: a Recipient is immutable after load and may be shared by all threads;
// encrypt() is reentrant.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.hpp"

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

// Encrypts `plaintext` for `recipient`; returns the DER-encoded CMS structure.
Result<std::string> encrypt(std::string_view plaintext, const Recipient& recipient);

// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

}  // namespace ozghub::crypto
