// Checks a TLS server's certificate and key against the hub's minimum strength (BSI TR-02102-2):
// RSA of at least 3072 bits, or an EC key of at least 256 bits. Used when the configuration
// loads, so `--check-config` refuses a weak key before the daemon ever listens.
#pragma once

#include <string>

namespace ozghub::crypto {

// Returns an empty string when `certificate_file` (PEM, the server's certificate first) and
// `key_file` (PEM, unencrypted) are readable, match and are strong enough; otherwise what is
// wrong, for a person.
std::string check_server_key(const std::string& certificate_file, const std::string& key_file);

}  // namespace ozghub::crypto
