// The stored form of a case: a versioned, length-prefixed binary record.
//
// Layout (all integers little-endian): u8 version (1), then the fields of Case in declaration
// order, strings as u32 length + bytes, the attachment list as u32 count + per attachment
// three strings, received_at_ms as i64. Decoding checks every length against the buffer, so a
// damaged record is reported as corruption, never read past its end.
#pragma once

#include <string>
#include <string_view>

#include "common/application.hpp"
#include "common/status.hpp"

namespace ozghub::store {

std::string encode_case(const Case& c);
Result<Case> decode_case(std::string_view record);

}  // namespace ozghub::store
