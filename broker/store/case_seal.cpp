#include "store/case_seal.hpp"

#include "crypto/cms.hpp"
#include "store/record_codec.hpp"

namespace ozghub::store {
namespace {

constexpr std::uint8_t kKeyRecordVersion = 1;

std::string case_aad(const std::string& case_number) { return "ozg-hub case v2\n" + case_number; }

}  // namespace

Result<PreparedCase> prepare_case(const Case& c, const crypto::Keyring& keys) {
  auto key = keys.new_key();
  if (!key) return key.status();
  PreparedCase p{std::move(*key), crypto::sha256_hex(c.app.xml), {}};
  p.attachment_sha256.reserve(c.app.attachments.size());
  for (const auto& a : c.app.attachments) p.attachment_sha256.push_back(crypto::sha256_hex(a.data));
  return p;
}

std::string encode_key_record(const KeyRecord& k) {
  std::string v;
  v.push_back(static_cast<char>(kKeyRecordVersion));
  v.push_back(static_cast<char>(k.kek_id.size()));
  v += k.kek_id;
  v += k.wrapped;
  return v;
}

Result<KeyRecord> decode_key_record(std::string_view v) {
  if (v.size() < 2 || static_cast<std::uint8_t>(v[0]) != kKeyRecordVersion ||
      v.size() < 2u + static_cast<std::uint8_t>(v[1])) {
    return Status::corruption("malformed data key record");
  }
  auto n = static_cast<std::uint8_t>(v[1]);
  return KeyRecord{std::string(v.substr(2, n)), std::string(v.substr(2u + n))};
}

Result<std::string> seal_case(const Case& c, const crypto::DataKey& dek) {
  std::string plain = encode_case(c);
  auto sealed = crypto::seal(dek, case_aad(c.case_number), plain);
  crypto::wipe(plain);
  return sealed;
}

Result<Case> open_case(const std::string& case_number, std::string_view sealed,
                       const crypto::DataKey& dek) {
  auto plain = crypto::open(dek, case_aad(case_number), sealed);
  if (!plain) return Status::corruption("case " + case_number + ": " + plain.status().message());
  auto c = decode_case(*plain);
  crypto::wipe(*plain);
  return c;
}

}  // namespace ozghub::store
