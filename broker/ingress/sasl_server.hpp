// The hub's SASL server: EXTERNAL (the TLS client certificate), PLAIN (user and password from
// a password file, only over TLS) and ANONYMOUS (only in dev_mode).
//
// Debian's Proton is built without Cyrus SASL; its built-in server knows only ANONYMOUS and
// EXTERNAL and would offer ANONYMOUS always. Proton's SASL extension point
// (proton/sasl_plugin.h, pnx_sasl_set_default_implementation) lets the hub supply its own
// server; installed once, before the container listens, it serves every transport.
// The same implementation does the client side of the broker connectors' outgoing connections
// (sasl_client.hpp).
//
// The password file holds one "user:hash" line per PLAIN user (comments start with '#'); the
// hash is a crypt(3) string such as `openssl passwd -6` or `mkpasswd -m yescrypt` make. It is
// read once, at startup.
//
// Thread-safety: the callbacks run on the AMQP event loop thread only.
#pragma once

#include <map>
#include <string>

#include "common/status.hpp"
#include "config/config.hpp"

namespace ozghub::ingress {

// Reads a password file: user -> crypt hash. Errors name the file and line.
Result<std::map<std::string, std::string>> load_password_file(const std::string& path);

// Whether `password` matches the crypt(3) `hash`, in constant time after hashing.
bool password_matches(const std::string& hash, const std::string& password);

// Installs the hub's SASL server for every Proton transport of this process. Call once, before
// the container listens.
Status install_sasl_server(const config::AmqpSecurity& security);

}  // namespace ozghub::ingress
