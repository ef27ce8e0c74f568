// A KEK that lives on a PKCS#11 token (an HSM; SoftHSM2 in tests): DEKs are encrypted and
// decrypted by the token with its AES key (CKM_AES_GCM, a random 96-bit IV per wrap, the wrap
// AAD of kek.hpp), so the KEK never leaves the token. The module is loaded with dlopen and
// initialised for multi-threaded use (CKF_OS_LOCKING_OK); the token is found by its label, the
// key by its CKA_LABEL (an AES secret key with CKA_ENCRYPT and CKA_DECRYPT), the user PIN is
// read from a file that only the daemon's user may read (like a key file). Opening wraps and
// unwraps a test key once, so a key the token will not use fails at startup, not per case.
//
// Sessions are pooled: each call takes an idle session (or opens one), so concurrent wraps run
// in parallel as far as the token allows. Several KEKs may share one module; it is initialised
// once and finalised when the last of them goes.
#pragma once

#include <memory>
#include <string>

#include "crypto/kek.hpp"

namespace ozghub::crypto {

struct Pkcs11KeyRef {
  std::string module;    // path of the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so
  std::string token;     // the token's label
  std::string key;       // the AES key's CKA_LABEL
  std::string pin_file;  // the user PIN (trailing newline ignored)
};

Result<std::unique_ptr<Kek>> open_pkcs11_kek(const std::string& id, const Pkcs11KeyRef& ref);

}  // namespace ozghub::crypto
