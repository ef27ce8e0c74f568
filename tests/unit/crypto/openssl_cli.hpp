// Runs the real `openssl` command line, the tool an office uses to open what the hub wrote.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "test_support.hpp"

namespace ozghub::testing {

inline std::filesystem::path demo_cert() {
  return source_dir() / "config/demo-certs/moeckern-buergeramt.pem";
}
inline std::filesystem::path demo_key() {
  return source_dir() / "config/demo-certs/moeckern-buergeramt.key";
}

// Runs a shell command with stdout and stderr going to `log`; returns the exit status.
inline int run_command(const std::string& command, const std::filesystem::path& log) {
  const int rc = std::system((command + " >'" + log.string() + "' 2>&1").c_str());
  return rc == -1 ? -1 : WEXITSTATUS(rc);
}

// `openssl cms -decrypt` of a DER file with the demo office's key pair; "" on success, else
// openssl's output.
inline std::string openssl_decrypt(const std::filesystem::path& in,
                                   const std::filesystem::path& out) {
  const auto log = out.string() + ".log";
  const int rc = run_command("openssl cms -decrypt -inform DER -in '" + in.string() + "' -recip '" +
                                 demo_cert().string() + "' -inkey '" + demo_key().string() +
                                 "' -out '" + out.string() + "'",
                             log);
  return rc == 0 ? std::string() : "openssl exit " + std::to_string(rc) + ": " + read_file(log);
}

}  // namespace ozghub::testing
