#include "crypto/der.hpp"

#include <gtest/gtest.h>

#include <string>

#include "crypto/cms_layout.hpp"

namespace ozghub::crypto {
namespace {

TEST(Der, HeadersUseTheShortestLengthForm) {
  for (const std::size_t length : {(1ul << 24) - 1, 1ul << 24, (1ul << 31) + 5}) {
    std::string out;
    der::append_header(out, der::kOctetString, length);
    EXPECT_EQ(out.size(), der::header_size(length)) << length;
    EXPECT_EQ(static_cast<unsigned char>(out[1]), 0x80 | (out.size() - 2)) << length;
  }
  for (const std::size_t length : {0ul, 1ul, 127ul, 128ul, 255ul, 256ul, 65535ul, 65536ul}) {
    std::string out;
    der::append_header(out, der::kOctetString, length);
    EXPECT_EQ(out.size(), der::header_size(length)) << length;
    // Read back against content of that length.
    std::string element = out;
    element.resize(out.size() + length, '\0');
    auto e = der::read(element, 0);
    ASSERT_TRUE(e.has_value()) << length;
    EXPECT_EQ(e->tag, der::kOctetString);
    EXPECT_EQ(e->header, out.size());
    EXPECT_EQ(e->length, length);
    EXPECT_EQ(e->end(), element.size());
  }
  std::string out;
  der::append_header(out, der::kSequence, 256);
  EXPECT_EQ(out, std::string("\x30\x82\x01\x00", 4));
}

TEST(Der, RefusesWhatIsNotDer) {
  const auto read = [](std::string bytes) { return der::read(bytes, 0).has_value(); };
  EXPECT_TRUE(read(std::string("\x04\x01x", 3)));
  EXPECT_FALSE(read(std::string("\x04\x02x", 3)));          // content beyond the end
  EXPECT_FALSE(read(std::string("\x30\x80\x00\x00", 4)));   // indefinite length (BER)
  EXPECT_FALSE(read(std::string("\x04\x81\x05xxxxx", 8)));  // long form for a short length
  EXPECT_FALSE(read(std::string("\x04\x82\x00\x80", 4)));   // leading zero length octet
  EXPECT_FALSE(read(std::string("\x1F\x01\x00", 3)));       // high tag number form
  EXPECT_FALSE(read(std::string("\x04", 1)));
  EXPECT_FALSE(read(std::string("\x04\x85\x01\x00\x00\x00\x00", 7)));  // five length octets
}

TEST(CmsLayout, RefusesStructuresItDoesNotKnow) {
  // An OCTET STRING is no ContentInfo; a ContentInfo with other content is refused by name.
  auto bare = learn_cms_layout(std::string("\x04\x01x", 3), 384);
  ASSERT_FALSE(bare.is_ok());
  EXPECT_NE(bare.status().message().find("no ContentInfo"), std::string::npos);
  // SEQUENCE { OID 1.2, [0] { SEQUENCE { INTEGER 0 } } }: an AuthEnvelopedData without parts.
  auto short_aed =
      learn_cms_layout(std::string("\x30\x0a\x06\x01\x2a\xa0\x05\x30\x03\x02\x01\x00", 12), 384);
  ASSERT_FALSE(short_aed.is_ok());
  EXPECT_NE(short_aed.status().message().find("AuthEnvelopedData"), std::string::npos)
      << short_aed.status().message();
}

}  // namespace
}  // namespace ozghub::crypto
