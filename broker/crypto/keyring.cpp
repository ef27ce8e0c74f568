#include "crypto/keyring.hpp"

#include "crypto/file_kek.hpp"
#include "crypto/pkcs11_kek.hpp"

namespace ozghub::crypto {

Keyring::Keyring(std::vector<std::shared_ptr<const Kek>> keks, const std::string& active) {
  for (auto& k : keks) keks_.emplace(k->id(), std::move(k));
  active_ = keks_.at(active);
}

Result<std::shared_ptr<const Keyring>> Keyring::open(const config::Encryption& config) {
  if (config.keks.empty()) {
    return Status::invalid_argument(
        "encryption.keks: no key-encryption key is configured; cases are only stored encrypted "
        "(see config/ozg-hub.example.yaml)");
  }
  std::vector<std::shared_ptr<const Kek>> keks;
  std::string errors;
  for (const auto& c : config.keks) {
    Result<std::unique_ptr<Kek>> k =
        c.type == "file" ? open_file_kek(c.id, c.path, c.create_if_missing)
                         : open_pkcs11_kek(c.id, {c.module, c.token, c.key, c.pin_file});
    if (!k) {
      errors += (errors.empty() ? "" : "\n  ") + c.origin + ": " + k.status().message();
      continue;
    }
    keks.emplace_back(std::move(*k));
  }
  if (!errors.empty()) return Status::invalid_argument(errors);
  return std::make_shared<const Keyring>(std::move(keks), config.active_kek);
}

std::vector<std::string> Keyring::ids() const {
  std::vector<std::string> out;
  for (const auto& [id, k] : keks_) out.push_back(id);
  return out;
}

Result<SealingKey> Keyring::new_key() const {
  auto dek = DataKey::generate();
  if (!dek) return dek.status();
  auto wrapped = active_->wrap(*dek);
  if (!wrapped) return wrapped.status();
  return SealingKey{*dek, active_->id(), std::move(*wrapped)};
}

Result<DataKey> Keyring::unwrap(const std::string& kek_id, std::string_view wrapped) const {
  auto k = keks_.find(kek_id);
  if (k == keks_.end()) {
    return Status::invalid_argument("the data key is wrapped by key-encryption key '" + kek_id +
                                    "', which is not configured (encryption.keks)");
  }
  return k->second->unwrap(wrapped);
}

}  // namespace ozghub::crypto
