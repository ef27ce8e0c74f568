// The set of known areas (Amtlicher Regionalschlüssel, ARS), loaded from the Destatis
// Gemeindeverzeichnis GV100AD.
//
// An ARS is 12 digits: Land (2), Regierungsbezirk (1), Kreis (2), Gemeindeverband (4),
// Gemeinde (3). The 9-, 5-, 3- and 2-digit prefixes address the levels above.
//
// Immutable after load; safe to share between threads.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.hpp"

namespace ozghub::routing {

// True when `ars` has the shape of an ARS: only digits, and 2, 3, 5, 9 or 12 of them.
bool is_valid_ars_shape(std::string_view ars);

class AreaDirectory {
 public:
  // Parses a GV100AD file (fixed-width records of 220 characters, UTF-8). Records of type
  // 10 (Land), 20 (Regierungsbezirk), 40 (Kreis), 50 (Gemeindeverband) and 60 (Gemeinde) are
  // loaded; the Land's implicit 3-digit key (e.g. "150" for a Land without Regierungsbezirke)
  // is known too. Errors name the line.
  static Result<AreaDirectory> load_gv100ad(const std::string& path);

  // Adds one area by hand (tests, small sample directories).
  void add(std::string ars, std::string name);

  bool contains(std::string_view ars) const;
  // The area's name ("Möckern, Stadt"), or empty when unknown.
  std::string_view name(std::string_view ars) const;
  std::size_t size() const { return names_.size(); }

 private:
  std::unordered_map<std::string, std::string> names_;  // ARS -> name
};

}  // namespace ozghub::routing
