// Why an application for (ARS, LeiKa) goes where it goes: the office, the rule that matched and
// the reason it won, for `ozg-hubctl route`. Built on RoutingDirectory::lookup() itself, so the
// explanation can never disagree with how applications are routed.
//
// Thread-safety: as RoutingDirectory (immutable; any thread).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/condition.hpp"
#include "routing/routing_directory.hpp"

namespace ozghub::routing {

// The administrative level an ARS prefix of `digits` digits names: "Land" (2),
// "Regierungsbezirk" (3), "Kreis" (5), "Gemeindeverband" (9), "Gemeinde" (12); "" otherwise.
std::string_view area_level(std::size_t digits);

struct RouteExplanation {
  std::string area;     // the ARS asked for
  std::string service;  // the LeiKa key asked for
  std::string area_name;
  // Set when routed:
  const Office* office = nullptr;
  std::optional<Responsibility> rule;  // with its line
  std::string rule_file;          // the bulk file declaring the rule; empty for the directory file
  bool wildcard_service = false;  // the rule is a "*" rule
  bool exact_area = false;        // the rule names the ARS itself, not a prefix of it
  std::string rule_area_level;    // area_level() of the rule's area
  std::string rule_area_name;     // the rule's area's name, when the area directory knows it
  // Set when not routed: why the hub would reject the application.
  std::optional<Rejection> rejection;
  // One sentence for an operator: which rule matched and why it won over the others.
  std::string reason;
};

RouteExplanation explain(const RoutingDirectory& directory, std::string_view ars,
                         std::string_view leika);

}  // namespace ozghub::routing
