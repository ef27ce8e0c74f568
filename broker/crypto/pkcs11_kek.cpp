#include "crypto/pkcs11_kek.hpp"

#include <dlfcn.h>
#include <p11-kit/pkcs11.h>

#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "common/private_file.hpp"

namespace ozghub::crypto {
namespace {

std::string rv_text(CK_RV rv) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "CKR 0x%08lx", static_cast<unsigned long>(rv));
  return buf;
}

// One loaded and initialised module, shared by every KEK that names the same path.
struct Module {
  void* handle = nullptr;
  CK_FUNCTION_LIST_PTR f = nullptr;
  bool finalize = false;  // we initialised it
  ~Module() {
    if (finalize) f->C_Finalize(nullptr);
    if (handle != nullptr) ::dlclose(handle);
  }
};

Result<std::shared_ptr<Module>> load_module(const std::string& path) {
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<Module>> loaded;
  std::lock_guard lock(mutex);
  if (auto m = loaded[path].lock()) return m;
  auto m = std::make_shared<Module>();
  m->handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (m->handle == nullptr) {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): glibc keeps dlerror per thread; under our mutex
    const char* why = ::dlerror();
    return Status::io_error("cannot load the PKCS#11 module " + path + ": " +
                            (why != nullptr ? why : "dlopen failed"));
  }
  auto get = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(m->handle, "C_GetFunctionList"));
  if (get == nullptr || get(&m->f) != CKR_OK || m->f == nullptr) {
    return Status::invalid_argument(path + " is not a PKCS#11 module (no C_GetFunctionList)");
  }
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  CK_RV rv = m->f->C_Initialize(&args);
  if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
    return Status::io_error("PKCS#11 module " + path + ": C_Initialize failed: " + rv_text(rv));
  }
  m->finalize = rv == CKR_OK;
  loaded[path] = m;
  return m;
}

std::string trimmed_label(const unsigned char* label, std::size_t n) {
  std::string s(reinterpret_cast<const char*>(label), n);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

Result<std::string> read_pin(const std::string& path) {
  return private_file::read_line("PIN file", path);
}

class Pkcs11Kek final : public Kek {
 public:
  Pkcs11Kek(std::string id, std::shared_ptr<Module> m, CK_SLOT_ID slot, std::string what)
      : id_(std::move(id)),
        aad_(wrap_aad(id_)),
        m_(std::move(m)),
        slot_(slot),
        what_(std::move(what)) {}
  ~Pkcs11Kek() override {
    for (auto s : idle_) m_->f->C_CloseSession(s);
    if (login_session_) m_->f->C_CloseSession(*login_session_);
  }
  Pkcs11Kek(const Pkcs11Kek&) = delete;
  Pkcs11Kek& operator=(const Pkcs11Kek&) = delete;

  const std::string& id() const override { return id_; }

  Status open(const std::string& pin, const std::string& key_label) {
    // This session stays open, unused, while the KEK lives: the login belongs to the token's
    // sessions, and closing the last one would log out and invalidate the key's handle.
    auto s = take();
    if (!s) return s.status();
    login_session_ = *s;
    CK_RV rv = m_->f->C_Login(
        *s, CKU_USER, reinterpret_cast<CK_UTF8CHAR_PTR>(const_cast<char*>(pin.data())), pin.size());
    if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
      return Status::invalid_argument(what_ + ": login failed (" + rv_text(rv) +
                                      "); check the PIN file");
    }
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_ATTRIBUTE tmpl[] = {
        {CKA_CLASS, &cls, sizeof cls},
        {CKA_LABEL, const_cast<char*>(key_label.data()), key_label.size()},
    };
    CK_OBJECT_HANDLE found[2];
    CK_ULONG count = 0;
    rv = m_->f->C_FindObjectsInit(*s, tmpl, 2);
    if (rv == CKR_OK) rv = m_->f->C_FindObjects(*s, found, 2, &count);
    m_->f->C_FindObjectsFinal(*s);
    if (rv != CKR_OK) return Status::io_error(what_ + ": searching the key failed: " + rv_text(rv));
    if (count == 0) return Status::not_found(what_ + ": no secret key with that label");
    if (count > 1) return Status::invalid_argument(what_ + ": more than one key with that label");
    key_ = found[0];
    // A key the token will not use for this (wrong type, no CKA_ENCRYPT) fails now.
    auto probe = DataKey::generate();
    if (!probe) return probe.status();
    auto wrapped = wrap(*probe);
    if (!wrapped) return wrapped.status();
    auto back = unwrap(*wrapped);
    if (!back) return back.status();
    if (back->bytes() != probe->bytes()) return Status::internal(what_ + ": self-test failed");
    return Status::ok();
  }

  Result<std::string> wrap(const DataKey& dek) const override {
    auto iv = random_bytes(kNonceBytes);
    if (!iv) return iv.status();
    std::string out = *iv;
    out.resize(kNonceBytes + kKeyBytes + kTagBytes);
    CK_ULONG len = kKeyBytes + kTagBytes;
    auto dek_bytes = dek.bytes();
    Status st = run(*iv, [&](CK_SESSION_HANDLE s, CK_MECHANISM* mech) {
      CK_RV rv = m_->f->C_EncryptInit(s, mech, key_);
      if (rv != CKR_OK) return rv;
      return m_->f->C_Encrypt(s, reinterpret_cast<CK_BYTE_PTR>(const_cast<char*>(dek_bytes.data())),
                              dek_bytes.size(),
                              reinterpret_cast<CK_BYTE_PTR>(out.data()) + kNonceBytes, &len);
    });
    if (!st.is_ok())
      return Status::internal(what_ + ": wrapping a data key failed: " + st.message());
    if (len != kKeyBytes + kTagBytes) return Status::internal(what_ + ": unexpected wrap length");
    return out;
  }

  Result<DataKey> unwrap(std::string_view wrapped) const override {
    if (wrapped.size() != kNonceBytes + kKeyBytes + kTagBytes) {
      return Status::corruption("wrapped data key has the wrong length");
    }
    std::string iv(wrapped.substr(0, kNonceBytes));
    std::string in(wrapped.substr(kNonceBytes));
    std::string out(kKeyBytes + kTagBytes, '\0');
    CK_ULONG len = out.size();
    Status st = run(iv, [&](CK_SESSION_HANDLE s, CK_MECHANISM* mech) {
      CK_RV rv = m_->f->C_DecryptInit(s, mech, key_);
      if (rv != CKR_OK) return rv;
      return m_->f->C_Decrypt(s, reinterpret_cast<CK_BYTE_PTR>(in.data()), in.size(),
                              reinterpret_cast<CK_BYTE_PTR>(out.data()), &len);
    });
    if (!st.is_ok()) {
      std::string text = what_ + ": unwrapping a data key failed: " + st.message();
      // Only the token's verdict on the data (the GCM tag did not verify) says the record is
      // damaged; anything else (session, device, login) is the token's trouble and may pass.
      return st.code() == Status::Code::kCorruption ? Status::corruption(std::move(text))
                                                    : Status::unavailable(std::move(text));
    }
    out.resize(len);
    auto k = DataKey::from_bytes(out);
    wipe(out);
    return k;
  }

  Result<CK_SESSION_HANDLE> take() const {
    {
      std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        auto s = idle_.back();
        idle_.pop_back();
        return s;
      }
    }
    CK_SESSION_HANDLE s = 0;
    CK_RV rv = m_->f->C_OpenSession(slot_, CKF_SERIAL_SESSION, nullptr, nullptr, &s);
    if (rv != CKR_OK) return Status::io_error(what_ + ": cannot open a session: " + rv_text(rv));
    return s;
  }
  void give(CK_SESSION_HANDLE s) const {
    std::lock_guard lock(mutex_);
    idle_.push_back(s);
  }

 private:
  // Runs one GCM operation on a pooled session. A session whose operation failed is closed, not
  // pooled: it may still have the operation active.
  template <typename Op>
  Status run(std::string& iv, Op op) const {
    auto s = take();
    if (!s) return s.status();
    std::string aad = aad_;
    CK_GCM_PARAMS gcm{};
    gcm.pIv = reinterpret_cast<CK_BYTE_PTR>(iv.data());
    gcm.ulIvLen = iv.size();
    gcm.ulIvBits = iv.size() * 8;
    gcm.pAAD = reinterpret_cast<CK_BYTE_PTR>(aad.data());
    gcm.ulAADLen = aad.size();
    gcm.ulTagBits = kTagBytes * 8;
    CK_MECHANISM mech{CKM_AES_GCM, &gcm, sizeof gcm};
    CK_RV rv = op(*s, &mech);
    if (rv != CKR_OK) {
      m_->f->C_CloseSession(*s);
      return rejects_data(rv) ? Status::corruption(rv_text(rv)) : Status::unavailable(rv_text(rv));
    }
    give(*s);
    return Status::ok();
  }

  // The token refused the input itself (for GCM: the tag did not verify), not the operation.
  static bool rejects_data(CK_RV rv) {
    return rv == CKR_ENCRYPTED_DATA_INVALID || rv == CKR_ENCRYPTED_DATA_LEN_RANGE ||
           rv == CKR_DATA_INVALID || rv == CKR_DATA_LEN_RANGE;
  }

  std::string id_;
  std::string aad_;
  std::shared_ptr<Module> m_;
  CK_SLOT_ID slot_;
  std::string what_;
  CK_OBJECT_HANDLE key_ = 0;
  std::optional<CK_SESSION_HANDLE> login_session_;
  mutable std::mutex mutex_;
  mutable std::vector<CK_SESSION_HANDLE> idle_;
};

}  // namespace

Result<std::unique_ptr<Kek>> open_pkcs11_kek(const std::string& id, const Pkcs11KeyRef& ref) {
  const std::string what =
      "key-encryption key '" + id + "' (PKCS#11 token '" + ref.token + "', key '" + ref.key + "')";
  auto pin = read_pin(ref.pin_file);
  if (!pin) return Status::invalid_argument(what + ": " + pin.status().message());
  auto m = load_module(ref.module);
  if (!m) return Status(m.status());
  CK_ULONG n = 0;
  CK_RV rv = (*m)->f->C_GetSlotList(CK_TRUE, nullptr, &n);
  std::vector<CK_SLOT_ID> slots(n);
  if (rv == CKR_OK && n > 0) rv = (*m)->f->C_GetSlotList(CK_TRUE, slots.data(), &n);
  if (rv != CKR_OK) return Status::io_error(what + ": C_GetSlotList failed: " + rv_text(rv));
  slots.resize(n);
  std::optional<CK_SLOT_ID> slot;
  for (auto sl : slots) {
    CK_TOKEN_INFO info{};
    if ((*m)->f->C_GetTokenInfo(sl, &info) != CKR_OK) continue;
    if (trimmed_label(info.label, sizeof info.label) == ref.token) {
      slot = sl;
      break;
    }
  }
  if (!slot) return Status::not_found(what + ": no token with that label in " + ref.module);
  auto kek = std::make_unique<Pkcs11Kek>(id, *m, *slot, what);
  Status s = kek->open(*pin, ref.key);
  wipe(*pin);
  if (!s.is_ok()) return s;
  return std::unique_ptr<Kek>(std::move(kek));
}

}  // namespace ozghub::crypto
