#include "ops_commands.hpp"

#include <cctype>
#include <filesystem>

namespace ozghub::ctl {
namespace {

using nlohmann::json;

// Numbers as an operator reads them: integers plain, rates with one decimal.
std::string number(const json& j) {
  if (j.is_number_float()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", j.get<double>());
    return buf;
  }
  return j.is_null() ? "-" : (j.is_string() ? j.get<std::string>() : j.dump());
}

void print_status(const json& s, std::FILE* out) {
  const json& t = s["throughput"];
  std::fprintf(out,
               "throughput    %s received/s, %s accepted/s (last %s s: %s received, %s "
               "accepted)\n",
               number(t["received_per_second"]).c_str(), number(t["accepted_per_second"]).c_str(),
               number(t["window_seconds"]).c_str(), number(t["received"]).c_str(),
               number(t["accepted"]).c_str());
  const json& b = s["backlog"];
  // In pipeline order (a JSON object's members come sorted by name).
  std::string stages;
  for (const char* stage : {"intake", "commit", "delivery"}) {
    if (!b["stages"].contains(stage)) continue;
    stages += (stages.empty() ? "" : ", ") + std::string(stage) + " " + number(b["stages"][stage]);
  }
  std::fprintf(out, "backlog       %s; dead letters %s\n", stages.c_str(),
               number(b["dead_letters"]).c_str());
  if (!b["scan"].value("complete", true)) {
    std::fprintf(out,
                 "              (outbox scan stopped after %s entries: office counts are "
                 "lower bounds)\n",
                 number(b["scan"]["entries"]).c_str());
  }
  if (!b["offices"].empty()) {
    std::fprintf(out, "\n%-40s %10s %8s\n", "OFFICE", "DELIVERIES", "CASES");
    for (const auto& o : b["offices"]) {
      std::fprintf(out, "%-40s %10s %8s\n", json_text(o, "office").c_str(),
                   number(o["deliveries"]).c_str(), number(o["cases"]).c_str());
    }
  }
  const json& oldest = s["oldest_undelivered"];
  if (oldest.is_null()) {
    std::fprintf(out, "\noldest        nothing undelivered\n");
  } else {
    std::fprintf(out, "\noldest        case %s, office %s, %s s old (committed %s)\n",
                 json_text(oldest, "case").c_str(), json_text(oldest, "office").c_str(),
                 number(oldest["age_seconds"]).c_str(), number(oldest["committed_at"]).c_str());
  }
  std::fprintf(out, "\n%-20s %-14s %-9s %5s %8s %10s %7s\n", "ADAPTER", "TYPE", "STATE", "CONC",
               "BACKLOG", "DELIVERED", "FAILED");
  for (const auto& a : s["adapters"]) {
    std::fprintf(out, "%-20s %-14s %-9s %5s %8s %10s %7s\n", json_text(a, "name").c_str(),
                 json_text(a, "type").c_str(), json_text(a, "state").c_str(),
                 number(a["concurrency"]).c_str(), number(a["backlog"]).c_str(),
                 number(a["delivered"]).c_str(), number(a["failed_attempts"]).c_str());
  }
  std::fprintf(out, "\n%-40s %-24s %9s  %s\n", "CERTIFICATE OF OFFICE", "NOT AFTER", "DAYS LEFT",
               "SUBJECT");
  for (const auto& c : s["certificates"]) {
    std::fprintf(out, "%-40s %-24s %9s  %s\n", json_text(c, "office").c_str(),
                 json_text(c, "not_after").c_str(), number(c["days_left"]).c_str(),
                 json_text(c, "subject").c_str());
  }
}

void print_route(const json& r, std::FILE* out) {
  std::string area = json_text(r, "area");
  if (!json_text(r, "area_name").empty()) area += " (" + json_text(r, "area_name") + ")";
  std::fprintf(out, "area      %s\nservice   %s\n", area.c_str(), json_text(r, "service").c_str());
  if (!r.value("routed", false)) {
    std::fprintf(out, "result    rejected: %s\nreason    %s\n", json_text(r, "condition").c_str(),
                 json_text(r, "reason").c_str());
    return;
  }
  const json& o = r["office"];
  std::fprintf(out, "office    %s (%s)\n", json_text(o, "id").c_str(),
               json_text(o, "name").c_str());
  std::fprintf(out, "encrypted %s\n",
               o.value("encrypted", false)
                   ? ("yes, for " + json_text(o, "certificate_subject")).c_str()
                   : "no (the office has no certificate)");
  for (const auto& c : r["channels"]) {
    std::fprintf(out, "channel   %s: adapter %s (%s)\n", number(c["channel"]).c_str(),
                 json_text(c, "adapter").c_str(), json_text(c, "type").c_str());
  }
  const json& rule = r["rule"];
  std::string rule_area = json_text(rule, "area") + ", " + json_text(rule, "area_level");
  if (!json_text(rule, "area_name").empty()) rule_area += " " + json_text(rule, "area_name");
  // A rule from a bulk responsibilities file names its file; one in the directory file does not.
  std::string at = "line " + number(rule["line"]);
  if (!json_text(rule, "file").empty()) at = json_text(rule, "file") + ":" + number(rule["line"]);
  std::fprintf(out, "rule      %s: service %s, area %s\n", at.c_str(),
               json_text(rule, "service").c_str(), rule_area.c_str());
  std::fprintf(out, "reason    %s\n", json_text(r, "reason").c_str());
}

}  // namespace

std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

int run_status(const AdminClient& client, const std::vector<std::string>& args, std::FILE* out,
               std::FILE* err) {
  bool as_json = false;
  for (const auto& a : args) {
    if (a != "--json") {
      std::fprintf(err,
                   "ozg-hubctl status: unexpected argument '%s'\nusage: ozg-hubctl status "
                   "[--json]\n",
                   a.c_str());
      return 2;
    }
    as_json = true;
  }
  json body;
  if (auto rc = call_json(client, "GET", "/v1/status", body, err)) return *rc;
  if (as_json) {
    std::fprintf(out, "%s\n", body.dump(2).c_str());
  } else {
    print_status(body, out);
  }
  return 0;
}

int run_route(const AdminClient& client, const std::vector<std::string>& args, std::FILE* out,
              std::FILE* err) {
  std::string area, service;
  bool as_json = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--json") {
      as_json = true;
    } else if (args[i] == "--area" && i + 1 < args.size()) {
      area = args[++i];
    } else if (args[i] == "--service" && i + 1 < args.size()) {
      service = args[++i];
    } else {
      area.clear();
      break;
    }
  }
  if (area.empty() || service.empty()) {
    std::fprintf(err, "usage: ozg-hubctl route --area ARS --service LEIKA [--json]\n");
    return 2;
  }
  json body;
  if (auto rc = call_json(client, "GET",
                          "/v1/route?area=" + url_encode(area) + "&service=" + url_encode(service),
                          body, err)) {
    return *rc;
  }
  if (as_json) {
    std::fprintf(out, "%s\n", body.dump(2).c_str());
  } else {
    print_route(body, out);
  }
  // An application for this pair would be rejected: say so in the exit code too.
  return body.value("routed", false) ? 0 : 1;
}

int run_backup(const AdminClient& client, const std::vector<std::string>& args, std::FILE* out,
               std::FILE* err) {
  bool as_json = false;
  std::string dir;
  for (const auto& a : args) {
    if (a == "--json") {
      as_json = true;
    } else if (dir.empty() && !a.empty() && a[0] != '-') {
      dir = a;
    } else {
      dir.clear();
      break;
    }
  }
  if (dir.empty()) {
    std::fprintf(err, "usage: ozg-hubctl backup DIR [--json]   (DIR must not exist yet)\n");
    return 2;
  }
  // The daemon resolves paths against its own working directory: send an absolute one. (The
  // daemon writes DIR itself, so it must be a path on the daemon's machine.)
  std::error_code ec;
  const std::string absolute = std::filesystem::absolute(dir, ec).lexically_normal().string();
  // Onto another file system the daemon copies every file before it answers.
  const AdminClient patient = client.with_timeout(std::chrono::hours(2));
  json body;
  if (auto rc = call_json(patient, "POST", "/v1/backup?dir=" + url_encode(absolute), body, err)) {
    return *rc;
  }
  if (as_json) {
    std::fprintf(out, "%s\n", body.dump(2).c_str());
  } else {
    std::fprintf(out,
                 "backup    %s\nsequence  %s\nsize      %s bytes in %s files\ntaken at  %s (%s "
                 "ms)\n",
                 json_text(body, "dir").c_str(), number(body["sequence"]).c_str(),
                 number(body["bytes"]).c_str(), number(body["files"]).c_str(),
                 json_text(body, "taken_at").c_str(), number(body["duration_ms"]).c_str());
    if (!body.value("hard_links", true)) {
      std::fprintf(out,
                   "note      DIR is not on the data directory's file system: every file was "
                   "copied while the admin endpoint waited; take backups on the same file "
                   "system and copy them off afterwards\n");
    }
  }
  return 0;
}

}  // namespace ozghub::ctl
