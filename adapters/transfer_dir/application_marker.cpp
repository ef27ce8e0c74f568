#include "transfer_dir/application_marker.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "crypto/cms.hpp"

namespace ozghub::adapters {
namespace {

bool exists_at(int dirfd, const std::string& name, int& err) {
  struct stat st {};
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return true;
  err = errno == ENOENT ? 0 : errno;
  return false;
}

}  // namespace

std::string application_marker_name(std::string_view sender, std::string_view message_id) {
  std::string key;
  key.reserve(sender.size() + 1 + message_id.size());
  key.append(sender);
  key.push_back('\0');
  key.append(message_id);
  return crypto::sha256_hex(key);
}

std::optional<ClaimError> claim_application(int office_fd, int markers_fd,
                                            const std::string& marker,
                                            const std::string& case_number,
                                            std::string_view temp_prefix, ApplicationClaim& out) {
  if (::symlinkat(case_number.c_str(), markers_fd, marker.c_str()) == 0) {
    out = ApplicationClaim::kNewlyOwned;
    return std::nullopt;
  }
  if (errno != EEXIST) return ClaimError{"create application marker", errno};
  char target[64];
  const ssize_t n = ::readlinkat(markers_fd, marker.c_str(), target, sizeof target);
  if (n < 0) return ClaimError{"read application marker", errno};
  const std::string owner(target, static_cast<std::size_t>(n));
  if (owner == case_number) {
    out = ApplicationClaim::kOwned;
    return std::nullopt;
  }
  int err = 0;
  if (exists_at(office_fd, owner, err)) {
    out = ApplicationClaim::kDeliveredByOther;
    return std::nullopt;
  }
  if (err != 0) return ClaimError{"stat the owner's case folder", err};
  if (exists_at(office_fd, std::string(temp_prefix) + owner, err)) {
    out = ApplicationClaim::kPendingByOther;
    return std::nullopt;
  }
  if (err != 0) return ClaimError{"stat the owner's temporary folder", err};
  out = ApplicationClaim::kDeliveredByOther;
  return std::nullopt;
}

}  // namespace ozghub::adapters
