#include "crypto/der.hpp"

#include <cstdint>

namespace ozghub::crypto::der {

std::optional<Element> read(std::string_view der, std::size_t offset) {
  if (offset > der.size() || der.size() - offset < 2) return std::nullopt;
  const auto octet = [&der](std::size_t i) { return static_cast<unsigned char>(der[i]); };
  Element e;
  e.offset = offset;
  e.tag = octet(offset);
  if ((e.tag & 0x1F) == 0x1F) return std::nullopt;  // high tag number form
  const unsigned char first = octet(offset + 1);
  if (first < 0x80) {
    e.header = 2;
    e.length = first;
  } else {
    const std::size_t n = first & 0x7F;
    // 0x80 is the indefinite length (BER only); more than 4 octets is beyond what we write.
    if (n == 0 || n > 4 || der.size() - offset - 2 < n) return std::nullopt;
    std::uint64_t length = 0;
    for (std::size_t i = 0; i < n; ++i) length = (length << 8) | octet(offset + 2 + i);
    if (length < 0x80 || octet(offset + 2) == 0) return std::nullopt;  // not the minimal form
    e.header = 2 + n;
    e.length = static_cast<std::size_t>(length);
  }
  if (e.length > der.size() - offset - e.header) return std::nullopt;
  return e;
}

std::size_t header_size(std::size_t length) {
  if (length < 0x80) return 2;
  std::size_t n = 0;
  for (std::size_t l = length; l > 0; l >>= 8) ++n;
  return 2 + n;
}

void append_header(std::string& out, unsigned char tag, std::size_t length) {
  out.push_back(static_cast<char>(tag));
  if (length < 0x80) {
    out.push_back(static_cast<char>(length));
    return;
  }
  const std::size_t n = header_size(length) - 2;
  out.push_back(static_cast<char>(0x80 | n));
  for (std::size_t i = n; i-- > 0;) out.push_back(static_cast<char>((length >> (8 * i)) & 0xFF));
}

}  // namespace ozghub::crypto::der
