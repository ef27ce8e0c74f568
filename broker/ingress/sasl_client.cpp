#include "ingress/sasl_client.hpp"

#include <proton/sasl_plugin.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace ozghub::ingress {
namespace {

bool offers(std::string_view offered, std::string_view mechanism) {
  for (std::size_t pos = 0; pos < offered.size();) {
    std::size_t end = offered.find(' ', pos);
    if (end == std::string_view::npos) end = offered.size();
    if (offered.substr(pos, end - pos) == mechanism) return true;
    pos = end + 1;
  }
  return false;
}

// Posts `response` as the initial response; the copy lives in the transport's SASL context,
// which the implementation's free callback releases.
bool post_init(pn_transport_t* t, const char* mechanism, std::string_view response) {
  char* copy = static_cast<char*>(std::malloc(response.size() + 1));
  if (copy == nullptr) return false;
  std::memcpy(copy, response.data(), response.size());
  copy[response.size()] = '\0';
  std::free(pnx_sasl_get_context(t));
  pnx_sasl_set_context(t, copy);
  pnx_sasl_set_selected_mechanism(t, mechanism);
  pnx_sasl_set_bytes_out(t, pn_bytes(response.size(), copy));
  pnx_sasl_set_desired_state(t, SASL_POSTED_INIT);
  return true;
}

}  // namespace

bool sasl_client_init(pn_transport_t*) { return true; }

bool sasl_client_mechanisms(pn_transport_t* t, const char* offered_c) {
  const std::string_view offered = offered_c == nullptr ? "" : offered_c;
  if (offers(offered, "EXTERNAL")) return post_init(t, "EXTERNAL", "");
  const char* user = pnx_sasl_get_username(t);
  const char* password = pnx_sasl_get_password(t);
  if (offers(offered, "PLAIN") && pnx_sasl_is_transport_encrypted(t) && user != nullptr &&
      password != nullptr) {
    // RFC 4616: authzid NUL authcid NUL password (no authzid).
    std::string message;
    message.push_back('\0');
    message += user;
    message.push_back('\0');
    message += password;
    const bool posted = post_init(t, "PLAIN", message);
    std::memset(message.data(), 0, message.size());
    pnx_sasl_clear_password(t);
    return posted;
  }
  if (offers(offered, "ANONYMOUS")) return post_init(t, "ANONYMOUS", "ozg-hub");
  return false;
}

}  // namespace ozghub::ingress
