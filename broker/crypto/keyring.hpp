// The key-encryption keys the hub knows, by id, and which one is active: new cases get a fresh
// data key (DEK) wrapped by the active KEK; a stored DEK is unwrapped by the KEK whose id was
// stored with it. Rotation: configure a new KEK, make it active, reload (SIGHUP); the store's
// sweeper re-wraps the old DEKs in the background and `ozghub_store_data_keys{kek}` shows when
// the old KEK holds none and can be removed from the configuration.
//
// Thread-safety: a Keyring is immutable; KeyringState swaps the current one under a lock, so a
// reload never disturbs a wrap or unwrap in progress.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/current.hpp"
#include "config/config.hpp"
#include "crypto/kek.hpp"

namespace ozghub::crypto {

// A case's data key as the store needs it: the key itself (memory only) and its wrapped form.
struct SealingKey {
  DataKey dek;
  std::string kek_id;
  std::string wrapped;
};

class Keyring {
 public:
  // Opens every configured KEK (files checked, tokens logged in). Errors name each failing KEK.
  static Result<std::shared_ptr<const Keyring>> open(const config::Encryption& config);
  Keyring(std::vector<std::shared_ptr<const Kek>> keks, const std::string& active);

  const std::string& active_id() const { return active_->id(); }
  std::vector<std::string> ids() const;

  // A fresh random DEK wrapped by the active KEK.
  Result<SealingKey> new_key() const;
  Result<std::string> wrap(const DataKey& dek) const { return active_->wrap(dek); }
  // invalid_argument naming the id when no such KEK is configured.
  Result<DataKey> unwrap(const std::string& kek_id, std::string_view wrapped) const;

 private:
  std::map<std::string, std::shared_ptr<const Kek>, std::less<>> keks_;
  std::shared_ptr<const Kek> active_;
};

class KeyringState : public Current<Keyring> {
 public:
  using Current::Current;
};

}  // namespace ozghub::crypto
