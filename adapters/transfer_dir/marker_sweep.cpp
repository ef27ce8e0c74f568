#include "transfer_dir/marker_sweep.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ozghub::adapters {
namespace {

Status io_error(const char* operation) {
  return Status::io_error(std::string(operation) + ": " + std::strerror(errno));
}

}  // namespace

bool is_marker_name(std::string_view name) {
  if (name.size() != 64) return false;
  for (const char c : name) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Result<MarkerSweep> remove_markers_older_than(const std::string& markers_dir,
                                              std::int64_t cutoff_unix_s) {
  const int fd = ::open(markers_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return MarkerSweep{};
    return io_error("open application markers folder");
  }
  DIR* dir = ::fdopendir(fd);  // owns fd from here on
  if (dir == nullptr) {
    const Status s = io_error("read application markers folder");
    ::close(fd);
    return s;
  }
  MarkerSweep sweep;
  Status failed;
  errno = 0;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string_view name(entry->d_name);
    if (!is_marker_name(name)) continue;
    struct stat st {};
    if (::fstatat(fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT) failed = io_error("stat application marker");
      errno = 0;
      continue;
    }
    if (!S_ISLNK(st.st_mode)) continue;
    if (st.st_mtim.tv_sec >= cutoff_unix_s) {
      ++sweep.kept;
    } else if (::unlinkat(fd, entry->d_name, 0) == 0) {
      ++sweep.removed;
    } else if (errno != ENOENT) {  // ENOENT: another hub removed it first
      failed = io_error("remove application marker");
    }
    errno = 0;
  }
  if (errno != 0) failed = io_error("read application markers folder");
  ::closedir(dir);
  if (!failed.is_ok()) return failed;
  return sweep;
}

}  // namespace ozghub::adapters
