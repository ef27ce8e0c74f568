#include "ingress/sasl_server.hpp"

#include <crypt.h>
#include <openssl/crypto.h>
#include <proton/sasl_plugin.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>

#include "common/log.hpp"
#include "ingress/sasl_client.hpp"

namespace ozghub::ingress {
namespace {

constexpr char kAnonymous[] = "ANONYMOUS";
constexpr char kExternal[] = "EXTERNAL";
constexpr char kPlain[] = "PLAIN";

struct Settings {
  bool dev_mode = false;
  bool external = false;
  bool plain = false;
  std::map<std::string, std::string> passwords;
};

// Set once by install_sasl_server() before any transport exists; read on the event loop.
const Settings* settings = nullptr;

// list_mechanisms must return a string that outlives the transport: one per combination.
const char* mechanism_list(bool external, bool plain, bool anonymous) {
  static const std::array<std::string, 8> lists = [] {
    std::array<std::string, 8> out;
    for (unsigned i = 0; i < out.size(); ++i) {
      std::string s;
      if ((i & 1u) != 0) s += std::string(kExternal) + " ";
      if ((i & 2u) != 0) s += std::string(kPlain) + " ";
      if ((i & 4u) != 0) s += std::string(kAnonymous) + " ";
      if (!s.empty()) s.pop_back();
      out[i] = s;
    }
    return out;
  }();
  const unsigned i = (external ? 1u : 0u) | (plain ? 2u : 0u) | (anonymous ? 4u : 0u);
  return lists[i].c_str();
}

// Mechanisms offered on this transport: EXTERNAL only with a verified client certificate, PLAIN
// only over TLS, ANONYMOUS only in dev_mode. Proton filters them further by the listener's
// allowed mechanisms.
const char* list_mechanisms(pn_transport_t* t) {
  const bool encrypted = pnx_sasl_is_transport_encrypted(t);
  return mechanism_list(settings->external && pnx_sasl_get_external_username(t) != nullptr,
                        settings->plain && encrypted, settings->dev_mode);
}

bool init_server(pn_transport_t* t) {
  pnx_sasl_set_desired_state(t, SASL_POSTED_MECHANISMS);
  return true;
}

void login_failed(pn_transport_t* t, const char* mechanism, const char* why) {
  log::info("amqp.login_failed", {{"mechanism", mechanism}, {"reason", why}});
  pnx_sasl_set_failed(t);
}

// PLAIN's message: authzid NUL authcid NUL password (RFC 4616).
void plain_login(pn_transport_t* t, const pn_bytes_t& recv) {
  if (!pnx_sasl_is_transport_encrypted(t)) {
    return login_failed(t, kPlain, "not over TLS");
  }
  std::string msg(recv.start == nullptr ? "" : std::string(recv.start, recv.size));
  const auto first = msg.find('\0');
  const auto second = first == std::string::npos ? first : msg.find('\0', first + 1);
  if (second == std::string::npos) return login_failed(t, kPlain, "malformed");
  std::string authzid = msg.substr(0, first);
  std::string user = msg.substr(first + 1, second - first - 1);
  std::string password = msg.substr(second + 1);
  OPENSSL_cleanse(msg.data(), msg.size());
  if (!authzid.empty() && authzid != user) return login_failed(t, kPlain, "authzid differs");
  auto it = settings->passwords.find(user);
  // An unknown user costs a hash too, so timing does not tell which users exist.
  const std::string& hash =
      it != settings->passwords.end() ? it->second : settings->passwords.begin()->second;
  const bool ok = password_matches(hash, password) && it != settings->passwords.end();
  OPENSSL_cleanse(password.data(), password.size());
  if (!ok) return login_failed(t, kPlain, "wrong user or password");
  // Proton keeps the pointer, not a copy: the name lives in the transport's context until
  // free_context.
  char* name = strdup(user.c_str());
  if (name == nullptr) return login_failed(t, kPlain, "out of memory");
  pnx_sasl_set_context(t, name);
  pnx_sasl_set_succeeded(t, name, nullptr);
}

void process_init(pn_transport_t* t, const char* mechanism, const pn_bytes_t* recv) {
  if (std::strcmp(mechanism, kExternal) == 0 && settings->external) {
    const char* subject = pnx_sasl_get_external_username(t);
    if (subject == nullptr) {
      login_failed(t, kExternal, "no client certificate");
    } else {
      pnx_sasl_set_succeeded(t, subject, nullptr);
    }
  } else if (std::strcmp(mechanism, kPlain) == 0 && settings->plain) {
    plain_login(t, *recv);
  } else if (std::strcmp(mechanism, kAnonymous) == 0 && settings->dev_mode) {
    pnx_sasl_set_succeeded(t, "anonymous", nullptr);
  } else {
    login_failed(t, "other", "mechanism not offered");
  }
  pnx_sasl_set_desired_state(t, SASL_POSTED_OUTCOME);
}

// No mechanism here uses challenges: a response is a protocol error.
void process_response(pn_transport_t* t, const pn_bytes_t*) {
  login_failed(t, "other", "unexpected response");
  pnx_sasl_set_desired_state(t, SASL_POSTED_OUTCOME);
}

void free_context(pn_transport_t* t) { std::free(pnx_sasl_get_context(t)); }
void prepare_write(pn_transport_t*) {}
void process_challenge(pn_transport_t*, const pn_bytes_t*) {}
void process_outcome(pn_transport_t*, const pn_bytes_t*) {}
bool can_encrypt(pn_transport_t*) { return false; }
ssize_t max_encrypt_size(pn_transport_t*) { return 0; }
ssize_t no_layer(pn_transport_t*, pn_bytes_t, pn_bytes_t*) { return 0; }

const pnx_sasl_implementation kImplementation = {
    // The client side serves the broker connectors' outgoing connections (sasl_client.hpp).
    free_context,      list_mechanisms, init_server,      sasl_client_init,
    prepare_write,     process_init,    process_response, sasl_client_mechanisms,
    process_challenge, process_outcome, can_encrypt,      max_encrypt_size,
    no_layer,          no_layer};

}  // namespace

Result<std::map<std::string, std::string>> load_password_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::io_error(path + ": cannot read the password file");
  std::map<std::string, std::string> out;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty() || line[0] == '#') continue;
    const auto colon = line.find(':');
    const std::string where = path + ":" + std::to_string(n) + ": ";
    if (colon == 0 || colon == std::string::npos || line.size() < colon + 2 ||
        line[colon + 1] != '$') {
      return Status::invalid_argument(where +
                                      "expected 'user:hash' with a crypt(3) hash such "
                                      "as `openssl passwd -6` makes");
    }
    if (!out.emplace(line.substr(0, colon), line.substr(colon + 1)).second) {
      return Status::invalid_argument(where + "the user is listed twice");
    }
  }
  if (out.empty()) return Status::invalid_argument(path + ": no users");
  return out;
}

bool password_matches(const std::string& hash, const std::string& password) {
  auto data = std::make_unique<crypt_data>();
  const char* computed = crypt_r(password.c_str(), hash.c_str(), data.get());
  const bool ok = computed != nullptr && computed[0] != '*' &&
                  std::strlen(computed) == hash.size() &&
                  CRYPTO_memcmp(computed, hash.data(), hash.size()) == 0;
  OPENSSL_cleanse(data.get(), sizeof(crypt_data));
  return ok;
}

Status install_sasl_server(const config::AmqpSecurity& security) {
  static Settings installed;
  installed.dev_mode = security.dev_mode;
  installed.external = security.tls.enabled && security.external;
  installed.plain = security.tls.enabled && security.plain;
  if (installed.plain) {
    auto passwords = load_password_file(security.password_file);
    if (!passwords) return passwords.status();
    installed.passwords = std::move(*passwords);
  }
  settings = &installed;
  pnx_sasl_set_default_implementation(&kImplementation);
  return Status::ok();
}

}  // namespace ozghub::ingress
