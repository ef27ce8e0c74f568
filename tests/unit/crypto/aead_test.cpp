#include "crypto/aead.hpp"

#include "test_support.hpp"

namespace ozghub::crypto {
namespace {

TEST(Aead, SealsAndOpens) {
  auto key = DataKey::generate();
  ASSERT_OK(key);
  auto sealed = seal(*key, "case 1", "personal data");
  ASSERT_OK(sealed);
  EXPECT_EQ(sealed->size(), std::string("personal data").size() + kSealOverhead);
  EXPECT_EQ(sealed->find("personal"), std::string::npos);
  auto plain = open(*key, "case 1", *sealed);
  ASSERT_OK(plain);
  EXPECT_EQ(*plain, "personal data");
}

TEST(Aead, EachSealHasItsOwnNonce) {
  auto key = DataKey::generate();
  ASSERT_OK(key);
  auto a = seal(*key, "", "same");
  auto b = seal(*key, "", "same");
  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_NE(*a, *b);
}

TEST(Aead, TamperingWrongAadOrWrongKeyFails) {
  auto key = DataKey::generate();
  auto other = DataKey::generate();
  ASSERT_OK(key);
  ASSERT_OK(other);
  auto sealed = seal(*key, "case 1", "personal data");
  ASSERT_OK(sealed);
  for (std::size_t i : {std::size_t{0}, kNonceBytes, sealed->size() - 1}) {
    std::string bad = *sealed;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    EXPECT_EQ(open(*key, "case 1", bad).status().code(), Status::Code::kCorruption) << i;
  }
  EXPECT_EQ(open(*key, "case 2", *sealed).status().code(), Status::Code::kCorruption);
  EXPECT_EQ(open(*other, "case 1", *sealed).status().code(), Status::Code::kCorruption);
  EXPECT_FALSE(open(*key, "case 1", sealed->substr(0, kSealOverhead - 1)).is_ok());
}

TEST(Aead, KeysAreExactly32Bytes) {
  EXPECT_FALSE(DataKey::from_bytes(std::string(31, 'k')).is_ok());
  EXPECT_TRUE(DataKey::from_bytes(std::string(32, 'k')).is_ok());
}

}  // namespace
}  // namespace ozghub::crypto
