// A linear pre-scan that bounds the attributes of every start tag before libxml2 sees it.
//
// libxml2 2.9 checks a start tag's attributes for duplicates pairwise, so one tag with 40,000
// attributes (390 KB) costs two seconds and a 16 MiB one hours. This scan runs in linear time and
// over-approximates what libxml2 could read as one start tag, even in documents that are not
// well-formed: libxml2 begins a start tag only at a '<' not followed by '!', '?' or '/', ends it
// at the first '>' outside a quoted value or at the next '<' (a '<' inside a value is an error
// that ends the tag), and every attribute it collects has its own '=' outside quotes. So the
// number of such '=' is an upper bound of the tag's attributes, whatever libxml2's error
// recovery does. It also scans inside comments and CDATA: cheap, and immune to the parser
// resynchronising in an unexpected place.
#pragma once

#include <cstddef>
#include <string_view>

namespace ozghub::validation::detail {

// The offset of the '<' of the first tag that may hold more than `max_attributes` attributes,
// or std::string_view::npos when there is none.
std::size_t find_overfull_tag(std::string_view xml, std::size_t max_attributes);

// 1-based line and column (in characters, counting UTF-8 sequences as one) of a byte offset.
struct TextPosition {
  std::size_t line = 1;
  std::size_t column = 1;
};
TextPosition position_of(std::string_view text, std::size_t offset);

}  // namespace ozghub::validation::detail
