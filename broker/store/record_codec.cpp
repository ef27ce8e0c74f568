#include "store/record_codec.hpp"

#include <cstdint>
#include <cstring>

namespace ozghub::store {
namespace {

constexpr std::uint8_t kVersion = 1;

void put_u32(std::string& out, std::uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out.append(b, 4);
}

void put_i64(std::string& out, std::int64_t sv) {
  auto v = static_cast<std::uint64_t>(sv);
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out.append(b, 8);
}

void put_str(std::string& out, std::string_view s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

class Cursor {
 public:
  explicit Cursor(std::string_view in) : in_(in) {}
  bool u8(std::uint8_t& v) {
    if (in_.size() < 1) return false;
    v = static_cast<std::uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }
  bool u32(std::uint32_t& v) {
    if (in_.size() < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) v |= std::uint32_t{static_cast<std::uint8_t>(in_[i])} << (8 * i);
    in_.remove_prefix(4);
    return true;
  }
  bool i64(std::int64_t& sv) {
    if (in_.size() < 8) return false;
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= std::uint64_t{static_cast<std::uint8_t>(in_[i])} << (8 * i);
    in_.remove_prefix(8);
    sv = static_cast<std::int64_t>(v);
    return true;
  }
  bool str(std::string& s) {
    std::uint32_t n = 0;
    if (!u32(n) || in_.size() < n) return false;
    s.assign(in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  bool at_end() const { return in_.empty(); }

 private:
  std::string_view in_;
};

}  // namespace

std::string encode_case(const Case& c) {
  const Application& a = c.app;
  std::size_t size = 64 + c.case_number.size() + c.office_id.size() + a.message_id.size() +
                     a.sender.size() + a.area_id.size() + a.service_id.size() + a.schema.size() +
                     a.xml.size();
  for (const auto& at : a.attachments)
    size += 12 + at.name.size() + at.content_type.size() + at.data.size();
  std::string out;
  out.reserve(size);
  out.push_back(static_cast<char>(kVersion));
  put_str(out, c.case_number);
  put_str(out, c.office_id);
  put_str(out, a.message_id);
  put_str(out, a.sender);
  put_str(out, a.area_id);
  put_str(out, a.service_id);
  put_str(out, a.schema);
  put_str(out, a.xml);
  put_u32(out, static_cast<std::uint32_t>(a.attachments.size()));
  for (const auto& at : a.attachments) {
    put_str(out, at.name);
    put_str(out, at.content_type);
    put_str(out, at.data);
  }
  put_i64(out, a.received_at_ms);
  return out;
}

Result<Case> decode_case(std::string_view record) {
  Cursor in(record);
  std::uint8_t version = 0;
  if (!in.u8(version)) return Status::corruption("case record is empty");
  if (version != kVersion) {
    return Status::corruption("case record has unknown version " + std::to_string(version));
  }
  Case c;
  Application& a = c.app;
  std::uint32_t n = 0;
  bool ok = in.str(c.case_number) && in.str(c.office_id) && in.str(a.message_id) &&
            in.str(a.sender) && in.str(a.area_id) && in.str(a.service_id) && in.str(a.schema) &&
            in.str(a.xml) && in.u32(n);
  if (ok && n > record.size()) ok = false;  // each attachment takes at least 12 bytes
  for (std::uint32_t i = 0; ok && i < n; ++i) {
    Attachment at;
    ok = in.str(at.name) && in.str(at.content_type) && in.str(at.data);
    if (ok) a.attachments.push_back(std::move(at));
  }
  ok = ok && in.i64(a.received_at_ms) && in.at_end();
  if (!ok) return Status::corruption("case record is truncated or malformed");
  return c;
}

}  // namespace ozghub::store
