#include "case_commands.hpp"

namespace ozghub::ctl {

int run_case(const AdminClient& client, const std::vector<std::string>& args, std::FILE* out,
             std::FILE* err) {
  std::string case_number;
  bool as_json = false;
  for (const auto& a : args) {
    if (a == "--json") {
      as_json = true;
    } else if (case_number.empty() && !a.empty() && a[0] != '-') {
      case_number = a;
    } else {
      std::fprintf(err, "ozg-hubctl case: unexpected argument '%s'\n", a.c_str());
      return 2;
    }
  }
  if (case_number.empty()) {
    std::fprintf(err, "usage: ozg-hubctl case CASE [--json]\n");
    return 2;
  }
  nlohmann::json body;
  if (auto rc = call_json(client, "GET", "/v1/cases/" + case_number + "/audit", body, err)) {
    return *rc;
  }
  if (as_json) {
    std::fprintf(out, "%s\n", body.dump(2).c_str());
    return 0;
  }
  std::fprintf(out, "case     %s\npayload  %s\n\n", json_text(body, "case").c_str(),
               json_text(body, "payload").c_str());
  for (const auto& e : body["events"]) {
    std::string details;
    for (const auto& [k, v] : e.items()) {
      if (k == "at" || k == "event") continue;
      details += " " + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
    }
    std::fprintf(out, "%-24s  %-18s %s\n", json_text(e, "at").c_str(),
                 json_text(e, "event").c_str(), details.c_str());
  }
  return 0;
}

}  // namespace ozghub::ctl
