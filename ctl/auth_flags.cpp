#include "auth_flags.hpp"

#include "common/private_file.hpp"

namespace ozghub::ctl {

bool take_auth_flag(int argc, char** argv, int& i, AuthFlags& flags) {
  if (i + 1 >= argc) return false;
  const std::string a = argv[i];
  std::string* target = a == "--token-file" ? &flags.token_file
                        : a == "--cacert"   ? &flags.cacert
                        : a == "--cert"     ? &flags.cert
                        : a == "--key"      ? &flags.key
                                            : nullptr;
  if (target == nullptr) return false;
  *target = argv[++i];
  return true;
}

Result<ClientAuth> client_auth(const AuthFlags& flags, const config::Admin* config) {
  ClientAuth auth;
  std::string token_file = flags.token_file;
  if (token_file.empty() && config != nullptr) token_file = config->token_file;
  if (!token_file.empty()) {
    // The operator (often root) need not be the daemon's user; the file must still be private.
    auto token = private_file::read_line("token file", token_file, private_file::Owner::kAnyone);
    if (!token) return token.status();
    auth.token = std::move(*token);
  }
  auth.cacert = flags.cacert;
  auth.certificate = flags.cert;
  auth.key = flags.key;
  auth.tls = !flags.cacert.empty() || !flags.cert.empty() || !flags.key.empty();
  if (config != nullptr && config->tls.enabled) {
    auth.tls = true;
    if (auth.cacert.empty()) auth.pinned_certificate = config->tls.certificate;
  }
  if (auth.certificate.empty() != auth.key.empty()) {
    return Status::invalid_argument("--cert and --key go together");
  }
  return auth;
}

}  // namespace ozghub::ctl
