#include "validation/markup_scan.hpp"

#include <cstring>

namespace ozghub::validation::detail {

std::size_t find_overfull_tag(std::string_view xml, std::size_t max_attributes) {
  const char* const begin = xml.data();
  const char* const end = begin + xml.size();
  const char* p = begin;
  while (p < end) {
    // Text between tags is skipped with memchr: most of a document's bytes are never looked at
    // one by one.
    const void* hit = std::memchr(p, '<', static_cast<std::size_t>(end - p));
    if (hit == nullptr) break;
    const char* const lt = static_cast<const char*>(hit);
    const char* q = lt + 1;
    if (q < end && (*q == '!' || *q == '?' || *q == '/')) {
      p = q;
      continue;
    }
    std::size_t equals = 0;
    char quote = 0;
    for (; q < end; ++q) {
      const char c = *q;
      if (c == '<') break;  // starts the next tag; libxml2 never reads a value across it
      if (quote != 0) {
        if (c == quote) quote = 0;
        continue;
      }
      if (c == '>') {
        ++q;
        break;
      }
      if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '=' && ++equals > max_attributes) {
        return static_cast<std::size_t>(lt - begin);
      }
    }
    p = q;
  }
  return std::string_view::npos;
}

TextPosition position_of(std::string_view text, std::size_t offset) {
  TextPosition pos;
  if (offset > text.size()) offset = text.size();
  for (std::size_t i = 0; i < offset; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++pos.line;
      pos.column = 1;
    } else if ((c & 0xC0) != 0x80) {
      ++pos.column;
    }
  }
  return pos;
}

}  // namespace ozghub::validation::detail
