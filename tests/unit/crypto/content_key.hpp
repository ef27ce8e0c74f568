// The content-encryption key inside a CMS file the hub wrote, unwrapped with the demo office's
// private key: lets tests check which files share a key, which openssl's CLI does not show.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>
#include <string>

#include "crypto/cms_layout.hpp"
#include "crypto/openssl_cli.hpp"

namespace ozghub::testing {

// "" when the file is not what the hub writes or the key does not unwrap.
inline std::string unwrap_content_key(const std::string& der) {
  std::unique_ptr<FILE, decltype(&std::fclose)> f(std::fopen(demo_key().c_str(), "r"),
                                                  &std::fclose);
  if (!f) return {};
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_PrivateKey(f.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  if (!key) return {};
  const auto modulus = static_cast<std::size_t>(EVP_PKEY_get_size(key.get()));
  auto layout = crypto::learn_cms_layout(der, modulus);
  if (!layout.is_ok()) return {};
  const auto* wrapped = reinterpret_cast<const unsigned char*>(layout->recipient_infos.data()) +
                        layout->wrapped_key_offset;
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr), &EVP_PKEY_CTX_free);
  std::string out(modulus, '\0');
  std::size_t out_len = out.size();
  if (!ctx || EVP_PKEY_decrypt_init(ctx.get()) <= 0 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) <= 0 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_sha256()) <= 0 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), EVP_sha256()) <= 0 ||
      EVP_PKEY_decrypt(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &out_len, wrapped,
                       layout->wrapped_key_size) <= 0) {
    return {};
  }
  out.resize(out_len);
  return out;
}

}  // namespace ozghub::testing
