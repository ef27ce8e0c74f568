// The few DER (X.690) primitives the CMS envelopes need: reading one tag-length-value header
// and writing one. Definite lengths of up to four length octets and single-octet tags only,
// which is everything RFC 5652/5083 content of up to 4 GiB uses.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ozghub::crypto::der {

inline constexpr unsigned char kInteger = 0x02;
inline constexpr unsigned char kOctetString = 0x04;
inline constexpr unsigned char kOid = 0x06;
inline constexpr unsigned char kSequence = 0x30;
inline constexpr unsigned char kSet = 0x31;
inline constexpr unsigned char kContext0Constructed = 0xA0;  // [0] EXPLICIT
inline constexpr unsigned char kContext0Primitive = 0x80;    // [0] IMPLICIT OCTET STRING

// One element of `der` starting at `offset`.
struct Element {
  unsigned char tag = 0;
  std::size_t offset = 0;  // of the tag octet
  std::size_t header = 0;  // tag and length octets
  std::size_t length = 0;  // content octets
  std::size_t content() const { return offset + header; }
  std::size_t end() const { return offset + header + length; }
};

// The element at `offset`, or nothing when the octets there are not a complete DER element
// (indefinite or non-minimal length, multi-octet tag, content beyond the end of `der`).
std::optional<Element> read(std::string_view der, std::size_t offset);

// Octets the header of an element with `length` content octets takes.
std::size_t header_size(std::size_t length);

// Appends the tag and length octets of an element with `length` content octets.
void append_header(std::string& out, unsigned char tag, std::size_t length);

}  // namespace ozghub::crypto::der
