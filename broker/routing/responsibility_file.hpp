// The bulk responsibilities file: the format for directories too large for YAML (a national
// directory holds millions of rules). Named from the routing directory's YAML by
// `responsibilities_file:`; docs/operations/routing.md is the contract.
//
// One rule per line, three columns separated by blanks or tabs:
//
//   # service       area          office
//   99108047050001  15086         jerichower-land-fahrerlaubnis
//   *               150860140140  moeckern-buergeramt
//
// Blank lines and lines whose first non-blank character is `#` are ignored. None of the three
// values can hold a blank, so there is no quoting.
//
// This reader only splits lines into columns; RoutingDirectory checks the values (so that both
// formats report the same errors) and indexes them without building a string per rule.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "common/status.hpp"

namespace ozghub::routing {

struct RuleLine {
  std::string_view service;
  std::string_view area;
  std::string_view office;
  int line = 0;
};

// Reads `path` in chunks (its size does not matter) and calls `on_rule` for each rule line and
// `on_error(line, what)` for each line without exactly three columns. The views are valid only
// during the call. Returns an error only when the file cannot be read.
Status read_responsibility_file(const std::string& path,
                                const std::function<void(const RuleLine&)>& on_rule,
                                const std::function<void(int, const std::string&)>& on_error);

}  // namespace ozghub::routing
