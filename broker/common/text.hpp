// Small text helpers shared by the log writer and the adapters: UTF-8 decoding, JSON string
// literals, UTC timestamps. Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ozghub::text {

// Length of the well-formed UTF-8 sequence at s[i] (1-4) and its code point, or 0 if the bytes
// there are not well-formed UTF-8 (overlong forms and surrogates included).
std::size_t utf8_sequence(std::string_view s, std::size_t i, char32_t& cp);

// Appends `s` as a JSON string literal; ill-formed UTF-8 becomes U+FFFD so the output always
// parses.
void append_json_string(std::string& out, std::string_view s);

// "2026-11-23T08:00:00.000Z" for milliseconds since the epoch.
std::string iso8601_utc_ms(std::int64_t ms_since_epoch);

}  // namespace ozghub::text
