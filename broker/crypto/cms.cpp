#include "crypto/cms.hpp"

#include <fcntl.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <ctime>

namespace ozghub::crypto {

namespace {

constexpr int kMinRsaBits = 2048;
constexpr std::size_t kMaxPemBytes = 1 << 20;

struct BioFree {
  void operator()(BIO* b) const { BIO_free_all(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct CmsFree {
  void operator()(CMS_ContentInfo* c) const { CMS_ContentInfo_free(c); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using CmsPtr = std::unique_ptr<CMS_ContentInfo, CmsFree>;

// OpenSSL keeps errors in a per-thread queue; a failure we report must not leave entries behind
// that a later, unrelated call on the same worker thread would mistake for its own.
std::string take_openssl_error() {
  const unsigned long code = ERR_peek_last_error();
  std::string text;
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    text = buf;
  }
  ERR_clear_error();
  return text.empty() ? std::string("unknown OpenSSL error") : text;
}

std::int64_t to_unix(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  // timegm() is not standard C++; <chrono>'s civil-date arithmetic is, and needs no TZ state.
  using namespace std::chrono;
  const year_month_day ymd{year{tm.tm_year + 1900}, month{static_cast<unsigned>(tm.tm_mon + 1)},
                           day{static_cast<unsigned>(tm.tm_mday)}};
  const auto since_epoch = sys_days{ymd}.time_since_epoch() + hours{tm.tm_hour} +
                           minutes{tm.tm_min} + seconds{tm.tm_sec};
  return duration_cast<seconds>(since_epoch).count();
}

std::string rfc2253_subject(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return {};
  // Operators read this: keep UTF-8 ("Möckern") rather than RFC 2253's "\C3\B6" escapes.
  const unsigned long flags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
  if (X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, flags) < 0) {
    ERR_clear_error();
    return {};
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

Status bad_certificate(const std::string& origin, const std::string& problem) {
  return Status::invalid_argument("certificate " + origin + ": " + problem);
}

}  // namespace

struct Recipient::Impl {
  X509Ptr cert;
  std::int64_t not_after = 0;
  std::string subject;
};

Recipient::Recipient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Recipient::~Recipient() = default;

std::int64_t Recipient::not_after_unix() const { return impl_->not_after; }
std::string Recipient::subject() const { return impl_->subject; }

Result<std::shared_ptr<const Recipient>> Recipient::from_pem_file(const std::string& path) {
  const auto unreadable = [&path](int err) {
    return Status::io_error("certificate " + path + ": unreadable: " + std::strerror(err));
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return unreadable(errno);
  std::string content;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;  // e.g. EISDIR: open() succeeds on a directory, read() does not
      ::close(fd);
      return unreadable(err);
    }
    if (n == 0) break;
    content.append(buf, static_cast<std::size_t>(n));
    if (content.size() > kMaxPemBytes) {
      ::close(fd);
      return bad_certificate(path, "not a PEM certificate (larger than 1 MiB)");
    }
  }
  ::close(fd);
  return load(content, path);
}

Result<std::shared_ptr<const Recipient>> Recipient::from_pem(std::string_view pem) {
  return load(pem, "(in memory)");
}

Result<std::shared_ptr<const Recipient>> Recipient::load(std::string_view pem,
                                                         const std::string& origin) {
  ERR_clear_error();
  if (pem.size() > INT_MAX) return bad_certificate(origin, "not a PEM certificate (too large)");
  BioPtr bio(BIO_new_mem_buf(pem.empty() ? "" : pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Status::internal("certificate " + origin + ": " + take_openssl_error());
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    ERR_clear_error();
    return bad_certificate(origin, "not a PEM certificate");
  }
  EVP_PKEY* key = X509_get0_pubkey(cert.get());
  if (key == nullptr) {
    ERR_clear_error();
    return bad_certificate(origin, "public key unreadable");
  }
  // RSA-PSS keys are restricted to signatures and cannot do OAEP key transport.
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
    const char* type = EVP_PKEY_get0_type_name(key);
    return bad_certificate(origin, std::string("not an RSA key (") + (type ? type : "unknown") +
                                       "); RSA-OAEP key transport needs RSA");
  }
  const int bits = EVP_PKEY_get_bits(key);
  if (bits < kMinRsaBits) {
    return bad_certificate(origin, "RSA key of " + std::to_string(bits) +
                                       " bits is smaller than the minimum of " +
                                       std::to_string(kMinRsaBits));
  }
  auto impl = std::make_unique<Impl>();
  impl->not_after = to_unix(X509_get0_notAfter(cert.get()));
  impl->subject = rfc2253_subject(cert.get());
  impl->cert = std::move(cert);
  return std::shared_ptr<const Recipient>(new Recipient(std::move(impl)));
}

Result<std::string> encrypt(std::string_view plaintext, const Recipient& recipient) {
  if (plaintext.size() > INT_MAX) return Status::invalid_argument("cms: input too large");
  // CMS_BINARY everywhere: without it CMS_final canonicalises line endings as for S/MIME text.
  constexpr unsigned int kFlags = CMS_BINARY;
  const auto fail = [](const char* step) {
    return Status::internal(std::string("cms: ") + step + " failed: " + take_openssl_error());
  };

  BioPtr in(BIO_new_mem_buf(plaintext.empty() ? "" : plaintext.data(),
                            static_cast<int>(plaintext.size())));
  if (!in) return fail("BIO_new_mem_buf");
  // An AEAD cipher makes CMS_encrypt build AuthEnvelopedData (RFC 5083/5084). CMS_PARTIAL defers
  // CMS_final so the recipient can be added with its OAEP parameters first.
  CmsPtr cms(CMS_encrypt(nullptr, nullptr, EVP_aes_256_gcm(), kFlags | CMS_PARTIAL));
  if (!cms) return fail("CMS_encrypt");
  // CMS_KEY_PARAM creates the key-transport context now instead of at CMS_final, so its padding
  // can still be changed; the AlgorithmIdentifier (rsaesOaep with SHA-256 parameters) is then
  // derived from that context.
  CMS_RecipientInfo* ri =
      CMS_add1_recipient_cert(cms.get(), recipient.impl().cert.get(), kFlags | CMS_KEY_PARAM);
  if (ri == nullptr) return fail("CMS_add1_recipient_cert");
  EVP_PKEY_CTX* pctx = CMS_RecipientInfo_get0_pkey_ctx(ri);
  if (pctx == nullptr) return fail("CMS_RecipientInfo_get0_pkey_ctx");
  // SHA-256 for OAEP and MGF1 matches FIT-Connect's RSA-OAEP-256 rather than the SHA-1 default.
  if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(pctx, EVP_sha256()) <= 0 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) <= 0) {
    return fail("setting RSA-OAEP parameters");
  }
  if (CMS_final(cms.get(), in.get(), nullptr, kFlags) != 1) return fail("CMS_final");

  // DER straight into the result: the same bytes as i2d_CMS_bio into a memory BIO, without
  // growing and clearing the BIO's buffer and copying it once more (~15% for 1 MiB).
  const int len = i2d_CMS_ContentInfo(cms.get(), nullptr);
  if (len <= 0) return fail("i2d_CMS_ContentInfo");
  std::string der(static_cast<std::size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_CMS_ContentInfo(cms.get(), &p) != len) return fail("i2d_CMS_ContentInfo");
  return der;
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (EVP_Digest(data.empty() ? "" : data.data(), data.size(), md, &md_len, EVP_sha256(),
                 nullptr) != 1) {
    // Only a broken OpenSSL installation gets here; an empty hash never matches a real one.
    ERR_clear_error();
    return {};
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(static_cast<std::size_t>(md_len) * 2, '\0');
  for (unsigned int i = 0; i < md_len; ++i) {
    hex[2 * i] = kHex[md[i] >> 4];
    hex[2 * i + 1] = kHex[md[i] & 0x0f];
  }
  return hex;
}

}  // namespace ozghub::crypto
