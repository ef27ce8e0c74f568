#include "routing/route_explanation.hpp"

#include <variant>

namespace ozghub::routing {
namespace {

// "Kreis 15086 (Jerichower Land)", or "Kreis 15086" when the name is unknown.
std::string describe_area(std::string_view level, const std::string& ars, const std::string& name) {
  std::string s(level.empty() ? "area" : level);
  s += " " + ars;
  if (!name.empty()) s += " (" + name + ")";
  return s;
}

}  // namespace

std::string_view area_level(std::size_t digits) {
  switch (digits) {
    case 2:
      return "Land";
    case 3:
      return "Regierungsbezirk";
    case 5:
      return "Kreis";
    case 9:
      return "Gemeindeverband";
    case 12:
      return "Gemeinde";
    default:
      return "";
  }
}

RouteExplanation explain(const RoutingDirectory& directory, std::string_view ars,
                         std::string_view leika) {
  RouteExplanation x;
  x.area = std::string(ars);
  x.service = std::string(leika);
  auto result = directory.lookup(ars, leika);
  if (auto* rejection = std::get_if<Rejection>(&result)) {
    x.area_name = std::string(directory.areas().name(ars));
    x.reason = rejection->description;
    x.rejection = std::move(*rejection);
    return x;
  }
  const RouteMatch& m = std::get<RouteMatch>(result);
  x.area_name = std::string(directory.areas().name(ars));
  x.office = m.office;
  x.rule = directory.responsibility(m.rule);
  x.rule_file = directory.rule_file(m.rule);
  const Responsibility& rule = *x.rule;
  x.wildcard_service = rule.service == "*";
  x.exact_area = rule.area.size() == ars.size();
  x.rule_area_level = std::string(area_level(rule.area.size()));
  x.rule_area_name = std::string(directory.areas().name(rule.area));

  // lookup() tries the service's own rules before the "*" rules, and within each the most
  // specific area first; what matched therefore says which candidates did not exist.
  const std::string where = describe_area(x.rule_area_level, rule.area, x.rule_area_name);
  const std::string line = x.rule_file.empty()
                               ? " (line " + std::to_string(rule.line) + ")"
                               : " (" + x.rule_file + ":" + std::to_string(rule.line) + ")";
  if (!x.wildcard_service) {
    x.reason = x.exact_area
                   ? "the rule for service " + x.service + " in " + where + " itself" + line
                   : "no rule for service " + x.service + " names a more specific area; the " +
                         "rule for it in the enclosing " + where + " applies" + line;
  } else {
    x.reason = "no rule names service " + x.service + " for this area or any enclosing one; ";
    x.reason += x.exact_area ? "the catch-all rule (\"*\") for " + where + " itself applies"
                             : "the catch-all rule (\"*\") of the enclosing " + where +
                                   " applies (no more specific catch-all)";
    x.reason += line;
  }
  return x;
}

}  // namespace ozghub::routing
