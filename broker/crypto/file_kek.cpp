#include "crypto/file_kek.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <system_error>

#include "common/private_file.hpp"

namespace ozghub::crypto {
namespace {

class FileKek final : public Kek {
 public:
  FileKek(std::string id, const DataKey& key)
      : id_(std::move(id)), aad_(wrap_aad(id_)), key_(key) {}
  const std::string& id() const override { return id_; }
  Result<std::string> wrap(const DataKey& dek) const override {
    return seal(key_, aad_, dek.bytes());
  }
  Result<DataKey> unwrap(std::string_view wrapped) const override {
    auto plain = open(key_, aad_, wrapped);
    if (!plain) return plain.status();
    auto k = DataKey::from_bytes(*plain);
    wipe(*plain);
    return k;
  }

 private:
  std::string id_;
  std::string aad_;
  DataKey key_;
};

std::string errno_text() { return std::error_code(errno, std::generic_category()).message(); }

Status create_key_file(const std::string& path) {
  auto key = DataKey::generate();
  if (!key) return key.status();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Status::io_error("cannot create the key file " + path + ": " + errno_text());
  auto bytes = key->bytes();
  bool ok = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return Status::io_error("cannot write the key file " + path + ": " + errno_text());
  }
  return Status::ok();
}

}  // namespace

std::string wrap_aad(const std::string& kek_id) { return "ozg-hub dek v1\n" + kek_id; }

Result<std::unique_ptr<Kek>> open_file_kek(const std::string& id, const std::string& path,
                                           bool create_if_missing) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT || !create_if_missing) {
      return Status::io_error("key-encryption key '" + id + "': cannot read " + path + ": " +
                              errno_text() +
                              (errno == ENOENT ? " (create one with: umask 077; head -c 32 "
                                                 "/dev/urandom > " +
                                                     path + ")"
                                               : ""));
    }
    if (Status s = create_key_file(path); !s.is_ok()) return s;
    if (::stat(path.c_str(), &st) != 0) return Status::io_error(path + ": " + errno_text());
  }
  const std::string what = "key-encryption key '" + id + "' file";
  auto bytes = private_file::read(what, path, 4096);
  if (!bytes) return bytes.status();
  if (bytes->size() != kKeyBytes) {
    const std::size_t n = bytes->size();
    wipe(*bytes);
    return Status::invalid_argument(what + " " + path + " must hold exactly " +
                                    std::to_string(kKeyBytes) + " random bytes, not " +
                                    std::to_string(n));
  }
  auto key = DataKey::from_bytes(*bytes);
  wipe(*bytes);
  if (!key) return key.status();
  return memory_kek(id, *key);
}

std::unique_ptr<Kek> memory_kek(const std::string& id, const DataKey& key) {
  return std::make_unique<FileKek>(id, key);
}

}  // namespace ozghub::crypto
