// Secrets on disk (KEK files, PKCS#11 PIN files, the admin token): read only from a regular file
// that is no symbolic link, owned by the user the daemon runs as and accessible by nobody else
// (mode 0600 or 0400). The checks are made on the opened file (fstat), so the file read is the
// file checked. Every refusal names `what`, the path and the fix. Thread-safe.
#pragma once

#include <cstddef>
#include <string>

#include "common/status.hpp"

namespace ozghub::private_file {

enum class Owner {
  kDaemon,  // owned by the effective user of this process (the daemon's own secrets)
  kAnyone,  // any owner (ozg-hubctl run by root with the daemon's token file)
};

// Reads the whole file, at most `max_bytes` (a larger file is refused). A missing file is a
// not_found Status.
Result<std::string> read(const std::string& what, const std::string& path,
                         std::size_t max_bytes = 64u * 1024u, Owner owner = Owner::kDaemon);

// A one-line secret (a PIN, a token): the file read as above (at most 4 KiB), its trailing line
// break removed; an empty secret is refused.
Result<std::string> read_line(const std::string& what, const std::string& path,
                              Owner owner = Owner::kDaemon);

// The same checks without reading.
Status check(const std::string& what, const std::string& path, Owner owner = Owner::kDaemon);

}  // namespace ozghub::private_file
