// Checks every KEK implementation must pass (file_kek_test.cpp, pkcs11_kek_test.cpp).
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "crypto/kek.hpp"

namespace ozghub::crypto {

// Wraps a fresh data key with `kek`: the wrap must not show the key, and must unwrap to it.
// Returns the wrap ("" after a failure, which is reported).
inline std::string expect_round_trip(const Kek& kek) {
  auto dek = DataKey::generate();
  auto wrapped = dek ? kek.wrap(*dek) : Result<std::string>(dek.status());
  if (!wrapped) {
    ADD_FAILURE() << wrapped.status().message();
    return "";
  }
  EXPECT_EQ(wrapped->find(dek->bytes()), std::string::npos);
  auto back = kek.unwrap(*wrapped);
  if (!back) {
    ADD_FAILURE() << back.status().message();
    return "";
  }
  EXPECT_EQ(back->bytes(), dek->bytes());
  return *wrapped;
}

}  // namespace ozghub::crypto
