#include "deadletter_commands.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

namespace ozghub::ctl {
namespace {

using nlohmann::json;

constexpr char kUsage[] =
    "usage: ozg-hubctl deadletters list [--json]\n"
    "       ozg-hubctl deadletters show CASE [--json]\n"
    "       ozg-hubctl deadletters replay CASE [--channel N] | --all\n"
    "       ozg-hubctl deadletters purge CASE [--channel N] [--yes]\n";

struct Options {
  std::string verb;
  std::string case_number;
  std::optional<std::string> channel;
  bool json = false;
  bool all = false;
  bool yes = false;
};

bool parse(const std::vector<std::string>& args, Options& o, std::string& problem) {
  if (args.empty()) {
    problem = "missing command";
    return false;
  }
  o.verb = args[0];
  for (std::size_t i = 1; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a == "--json") {
      o.json = true;
    } else if (a == "--all") {
      o.all = true;
    } else if (a == "--yes") {
      o.yes = true;
    } else if (a == "--channel" && i + 1 < args.size()) {
      o.channel = args[++i];
    } else if (!a.empty() && a[0] != '-' && o.case_number.empty()) {
      o.case_number = a;
    } else {
      problem = "unexpected argument '" + a + "'";
      return false;
    }
  }
  const bool needs_case = o.verb == "show" || o.verb == "purge" || (o.verb == "replay" && !o.all);
  if (o.verb != "list" && o.verb != "show" && o.verb != "replay" && o.verb != "purge") {
    problem = "unknown command '" + o.verb + "'";
    return false;
  }
  if (needs_case && o.case_number.empty()) {
    problem = o.verb + " needs a case number";
    return false;
  }
  if (o.all && (o.verb != "replay" || !o.case_number.empty())) {
    problem = "--all goes with replay and no case number";
    return false;
  }
  return true;
}

void print_table(const json& letters, std::FILE* out) {
  std::fprintf(out, "%-20s  %2s  %-32s  %-12s  %8s  %-24s  %s\n", "CASE", "CH", "OFFICE", "ADAPTER",
               "ATTEMPTS", "DEAD SINCE", "LAST ERROR");
  for (const auto& e : letters) {
    std::fprintf(out, "%-20s  %2s  %-32s  %-12s  %8s  %-24s  %s\n", json_text(e, "case").c_str(),
                 json_text(e, "channel").c_str(), json_text(e, "office").c_str(),
                 json_text(e, "adapter").c_str(), json_text(e, "attempts").c_str(),
                 json_text(e, "dead_since").c_str(), json_text(e, "last_error").c_str());
  }
}

std::string channel_query(const Options& o) { return o.channel ? "?channel=" + *o.channel : ""; }

}  // namespace

int run_deadletters(const AdminClient& client, const std::vector<std::string>& args, std::FILE* in,
                    std::FILE* out, std::FILE* err) {
  Options o;
  std::string problem;
  if (!parse(args, o, problem)) {
    std::fprintf(err, "ozg-hubctl deadletters: %s\n%s", problem.c_str(), kUsage);
    return 2;
  }
  const std::string base = "/v1/deadletters";
  json body;
  if (o.verb == "list") {
    if (auto rc = call_json(client, "GET", base, body, err)) return *rc;
    if (o.json) {
      std::fprintf(out, "%s\n", body.dump(2).c_str());
    } else if (body["dead_letters"].empty()) {
      std::fprintf(out, "no dead letters\n");
    } else {
      print_table(body["dead_letters"], out);
    }
    return 0;
  }
  if (o.verb == "show") {
    if (auto rc = call_json(client, "GET", base + "/" + o.case_number, body, err)) return *rc;
    if (o.json) {
      std::fprintf(out, "%s\n", body.dump(2).c_str());
      return 0;
    }
    for (const char* k : {"case", "office", "service_id", "area_id", "schema", "sender",
                          "received_at", "attachments", "size_bytes", "case_record"}) {
      if (body.contains(k)) std::fprintf(out, "%-12s %s\n", k, json_text(body, k).c_str());
    }
    std::fprintf(out, "\n");
    print_table(body["dead_letters"], out);
    return 0;
  }
  if (o.verb == "replay") {
    const std::string target =
        o.all ? base + "/replay-all" : base + "/" + o.case_number + "/replay" + channel_query(o);
    if (auto rc = call_json(client, "POST", target, body, err)) return *rc;
    std::fprintf(out, "replayed %s delivery(ies); they run again with the same case number\n",
                 json_text(body, "replayed").c_str());
    return 0;
  }
  // purge: show what goes, then ask.
  if (auto rc = call_json(client, "GET", base + "/" + o.case_number, body, err)) return *rc;
  // Exactly the dead letters shown are purged, one request per channel: a delivery of the same
  // case that dies meanwhile is not swept away unconfirmed.
  std::vector<std::string> channels;
  for (const auto& e : body["dead_letters"]) {
    if (!o.channel || json_text(e, "channel") == *o.channel)
      channels.push_back(json_text(e, "channel"));
  }
  const std::size_t n = channels.size();
  if (n == 0) {
    std::fprintf(err, "ozg-hubctl: case %s has no dead letter on channel %s\n",
                 o.case_number.c_str(), o.channel->c_str());
    return 1;
  }
  if (!o.yes) {
    std::fprintf(out,
                 "Purge %zu dead letter(s) of case %s? They will not be delivered.\n"
                 "Type the case number to confirm: ",
                 n, o.case_number.c_str());
    std::fflush(out);
    char line[128] = {0};
    std::string typed = std::fgets(line, sizeof line, in) ? line : "";
    typed.erase(std::remove_if(typed.begin(), typed.end(),
                               [](char c) { return c == '\n' || c == '\r' || c == ' '; }),
                typed.end());
    if (typed != o.case_number) {
      std::fprintf(err, "ozg-hubctl: not confirmed; nothing purged\n");
      return 1;
    }
  }
  std::size_t purged = 0;
  for (const auto& ch : channels) {
    if (auto rc =
            call_json(client, "DELETE", base + "/" + o.case_number + "?channel=" + ch, body, err)) {
      std::fprintf(out, "purged %zu dead letter(s) before the failure\n", purged);
      return *rc;
    }
    ++purged;
  }
  std::fprintf(out, "purged %zu dead letter(s)\n", purged);
  return 0;
}

}  // namespace ozghub::ctl
