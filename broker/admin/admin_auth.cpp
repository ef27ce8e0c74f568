#include "admin/admin_auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cctype>

#include "common/private_file.hpp"

namespace ozghub::admin {
namespace {

constexpr std::size_t kMinTokenLength = 16;

bool is_token_char(char ch) {
  return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '.' || ch == '_' ||
         ch == '~' || ch == '+' || ch == '/';
}

// RFC 6750's b64token: token characters, then any number of "=".
bool is_b64token(std::string_view t) {
  std::size_t i = 0;
  while (i < t.size() && is_token_char(t[i])) ++i;
  if (i == 0) return false;
  while (i < t.size() && t[i] == '=') ++i;
  return i == t.size();
}

bool sha256(std::string_view data, unsigned char (&md)[EVP_MAX_MD_SIZE]) {
  unsigned int len = 0;
  return EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) == 1 && len == 32;
}

// The credentials of "Bearer <token>" (the scheme is case-insensitive); "" when it is not one.
std::string_view bearer_token(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size()) return {};
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return {};
  }
  std::string_view rest = authorization.substr(kScheme.size());
  if (rest.front() != ' ') return {};
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
  return rest;
}

}  // namespace

bool tokens_equal(std::string_view presented, std::string_view expected) {
  unsigned char a[EVP_MAX_MD_SIZE];
  unsigned char b[EVP_MAX_MD_SIZE];
  if (!sha256(presented, a) || !sha256(expected, b)) return false;
  return CRYPTO_memcmp(a, b, 32) == 0;
}

Access check_access(const AccessPolicy& policy, std::string_view target,
                    std::string_view authorization, bool verified_client_certificate) {
  // The same path the API routes on (admin_api.cpp): the target up to its query.
  if (target.substr(0, target.find('?')) == "/livez") return Access::kAllowed;
  if (policy.client_certificate && !verified_client_certificate) return Access::kForbidden;
  if (!policy.token.empty()) {
    std::string_view presented = bearer_token(authorization);
    if (presented.empty() || !tokens_equal(presented, policy.token)) return Access::kUnauthorized;
  }
  return Access::kAllowed;
}

Result<std::string> load_token(const std::string& path) {
  auto token = private_file::read_line("admin token file", path);
  if (!token) return token;
  if (token->size() < kMinTokenLength || !is_b64token(*token)) {
    return Status::invalid_argument(
        "admin token file " + path + " must hold one line of at least " +
        std::to_string(kMinTokenLength) +
        " characters (letters, digits, -._~+/); make one with: openssl rand -hex 32");
  }
  return token;
}

}  // namespace ozghub::admin
