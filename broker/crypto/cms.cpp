#include "crypto/cms.hpp"

#include <fcntl.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <ctime>

#include "crypto/cms_layout.hpp"
#include "crypto/der.hpp"

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

struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;

Status fail(const char* step) {
  return Status::internal(std::string("cms: ") + step + " failed: " + take_openssl_error());
}

// SHA-256 for OAEP and MGF1 matches FIT-Connect's RSA-OAEP-256 rather than the SHA-1 default.
// The one place these parameters are chosen: the layout OpenSSL writes and every key wrapped
// into it later use them.
bool set_oaep_sha256(EVP_PKEY_CTX* ctx) {
  return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) > 0 &&
         EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) > 0 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) > 0;
}

// `plaintext` encrypted for `cert` by OpenSSL's CMS API: the structure the layout is learned
// from.
Result<std::string> openssl_envelope(std::string_view plaintext, X509* cert) {
  // CMS_BINARY everywhere: without it CMS_final canonicalises line endings as for S/MIME text.
  constexpr unsigned int kFlags = CMS_BINARY;
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
  CMS_RecipientInfo* ri = CMS_add1_recipient_cert(cms.get(), cert, kFlags | CMS_KEY_PARAM);
  if (ri == nullptr) return fail("CMS_add1_recipient_cert");
  EVP_PKEY_CTX* pctx = CMS_RecipientInfo_get0_pkey_ctx(ri);
  if (pctx == nullptr) return fail("CMS_RecipientInfo_get0_pkey_ctx");
  if (!set_oaep_sha256(pctx)) return fail("setting RSA-OAEP parameters");
  if (CMS_final(cms.get(), in.get(), nullptr, kFlags) != 1) return fail("CMS_final");
  const int len = i2d_CMS_ContentInfo(cms.get(), nullptr);
  if (len <= 0) return fail("i2d_CMS_ContentInfo");
  std::string der(static_cast<std::size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_CMS_ContentInfo(cms.get(), &p) != len) return fail("i2d_CMS_ContentInfo");
  return der;
}

}  // namespace

struct Recipient::Impl {
  X509Ptr cert;
  std::int64_t not_after = 0;
  std::string subject;
  std::shared_ptr<const CmsLayout> layout;
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
  // The structure OpenSSL writes for this certificate, learned once (one byte of content).
  auto sample = openssl_envelope("x", cert.get());
  if (!sample) return sample.status();
  auto layout = learn_cms_layout(*sample, static_cast<std::size_t>(EVP_PKEY_get_size(key)));
  if (!layout) return layout.status();
  auto impl = std::make_unique<Impl>();
  impl->layout = std::make_shared<const CmsLayout>(std::move(*layout));
  impl->not_after = to_unix(X509_get0_notAfter(cert.get()));
  impl->subject = rfc2253_subject(cert.get());
  impl->cert = std::move(cert);
  return std::shared_ptr<const Recipient>(new Recipient(std::move(impl)));
}

Result<Envelope> Envelope::create(const Recipient& recipient) {
  const Recipient::Impl& r = recipient.impl();
  auto key = DataKey::generate();
  if (!key) return key.status();
  Envelope e;
  e.layout_ = r.layout;
  e.key_ = *key;  // DataKey copies (and wipes each copy)
  e.recipient_infos_ = r.layout->recipient_infos;
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, X509_get0_pubkey(r.cert.get()), nullptr));
  auto* wrapped =
      reinterpret_cast<unsigned char*>(e.recipient_infos_.data()) + r.layout->wrapped_key_offset;
  std::size_t wrapped_size = r.layout->wrapped_key_size;
  const std::string_view k = e.key_.bytes();
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) <= 0 || !set_oaep_sha256(ctx.get()) ||
      EVP_PKEY_encrypt(ctx.get(), wrapped, &wrapped_size,
                       reinterpret_cast<const unsigned char*>(k.data()), k.size()) <= 0) {
    return fail("RSA-OAEP key transport");
  }
  // RSA output is always the modulus size; anything else would not fit the layout.
  if (wrapped_size != r.layout->wrapped_key_size) return fail("RSA-OAEP output size");
  return e;
}

Result<std::string> Envelope::seal(std::string_view plaintext) const {
  using der::append_header;
  using der::header_size;
  const CmsLayout& l = *layout_;
  const std::size_t n = plaintext.size();
  // OpenSSL's EVP interface takes int lengths; refused before anything is allocated for it.
  if (n > INT_MAX) return Status::invalid_argument("cms: input too large");
  const std::size_t mac = header_size(kTagBytes) + kTagBytes;
  const std::size_t eci =
      l.encrypted_content_type.size() + l.content_algorithm.size() + header_size(n) + n;
  const std::size_t aed = l.version.size() + recipient_infos_.size() + header_size(eci) + eci + mac;
  const std::size_t content = header_size(aed) + aed;
  const std::size_t info = l.content_type.size() + header_size(content) + content;

  std::string out;
  out.reserve(header_size(info) + info);
  append_header(out, der::kSequence, info);
  out += l.content_type;
  append_header(out, der::kContext0Constructed, content);
  append_header(out, der::kSequence, aed);
  out += l.version;
  out += recipient_infos_;
  append_header(out, der::kSequence, eci);
  out += l.encrypted_content_type;
  const std::size_t nonce_at = out.size() + l.nonce_offset;
  out += l.content_algorithm;
  append_header(out, l.content_tag, n);
  const std::size_t ciphertext_at = out.size();
  out.resize(out.size() + n);
  append_header(out, der::kOctetString, kTagBytes);
  const std::size_t tag_at = out.size();
  out.resize(out.size() + kTagBytes);

  auto* bytes = reinterpret_cast<unsigned char*>(out.data());
  if (RAND_bytes(bytes + nonce_at, static_cast<int>(kNonceBytes)) != 1) {
    return fail("generating a nonce");
  }
  // No authenticated attributes: RFC 5083's additional data is then empty.
  if (Status s =
          gcm_encrypt(key_, bytes + nonce_at, {}, plaintext, bytes + ciphertext_at, bytes + tag_at);
      !s.is_ok()) {
    return Status::internal("cms: " + s.message());
  }
  return out;
}

Result<std::string> encrypt(std::string_view plaintext, const Recipient& recipient) {
  auto envelope = Envelope::create(recipient);
  if (!envelope) return envelope.status();
  return envelope->seal(plaintext);
}

namespace detail {
Result<std::string> encrypt_with_cms_api(std::string_view plaintext, const Recipient& recipient) {
  if (plaintext.size() > INT_MAX) return Status::invalid_argument("cms: input too large");
  return openssl_envelope(plaintext, recipient.impl().cert.get());
}
}  // namespace detail

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
