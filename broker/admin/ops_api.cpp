#include "admin/ops_api.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string_view>

#include "common/text.hpp"
#include "pipeline/outbox.hpp"
#include "routing/route_explanation.hpp"

namespace ozghub::admin {
namespace {

using nlohmann::json;

Response json_response(int status, const json& body) {
  return {status, "application/json",
          body.dump(2, ' ', false, json::error_handler_t::replace) + "\n"};
}

Response error(int status, const std::string& message) {
  return json_response(status, json{{"error", message}});
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The percent-decoded value of `key` in a query string; nullopt when absent or malformed.
std::optional<std::string> query_param(const std::string& query, std::string_view key) {
  std::size_t pos = 0;
  while (pos <= query.size()) {
    std::size_t end = std::min(query.find('&', pos), query.size());
    std::string_view pair(query.data() + pos, end - pos);
    if (pair.size() > key.size() && pair.substr(0, key.size()) == key && pair[key.size()] == '=') {
      std::string out;
      for (std::size_t i = key.size() + 1; i < pair.size(); ++i) {
        if (pair[i] == '+') {
          out.push_back(' ');
        } else if (pair[i] == '%') {
          if (i + 2 >= pair.size()) return std::nullopt;
          int hi = hex_value(pair[i + 1]), lo = hex_value(pair[i + 2]);
          if (hi < 0 || lo < 0) return std::nullopt;
          out.push_back(static_cast<char>(hi * 16 + lo));
          i += 2;
        } else {
          out.push_back(pair[i]);
        }
      }
      return out;
    }
    pos = end + 1;
  }
  return std::nullopt;
}

const std::string kDelivered = "delivered:";
const std::string kFailed = "failed:";

}  // namespace

OpsApi::OpsApi(OpsSources sources) : src_(sources), throughput_([this] { return read_totals(); }) {
  for (const auto& [name, slot] : src_.adapters) {
    adapter_metrics_.emplace(name, src_.delivery_metrics.for_adapter(name));
  }
}

Totals OpsApi::read_totals() const {
  Totals t;
  t["received"] = src_.intake.received_total();
  t["accepted"] = src_.committer.accepted_total();
  for (const auto& [name, m] : adapter_metrics_) {
    t[kDelivered + name] = static_cast<std::uint64_t>(m.delivered->Value());
    t[kFailed + name] = static_cast<std::uint64_t>(m.retried->Value() + m.dead_lettered->Value());
  }
  return t;
}

std::optional<Response> OpsApi::handle(const Request& request) const {
  std::string path = request.target, query;
  if (auto q = path.find('?'); q != std::string::npos) {
    query = path.substr(q + 1);
    path.resize(q);
  }
  const std::string& m = request.method;
  if (path == "/v1/status") {
    if (m != "GET") return error(405, "use GET");
    return status_response();
  }
  if (path == "/v1/route") {
    if (m != "GET") return error(405, "use GET");
    return route(query);
  }
  if (path == "/v1/backup") {
    if (m != "POST") return error(405, "use POST");
    return backup(query);
  }
  return std::nullopt;
}

Result<StatusReport> OpsApi::status(std::int64_t now_ms) const {
  StatusReport r;
  r.generated_at_ms = now_ms;
  const Window w = throughput_.last(now_ms);
  r.window_seconds = w.seconds;
  r.received = w.count("received");
  r.accepted = w.count("accepted");
  r.received_per_second = w.per_second("received");
  r.accepted_per_second = w.per_second("accepted");

  std::size_t delivery_backlog = 0;
  for (const auto& [name, slot] : src_.adapters) {
    AdapterStatus a;
    a.name = name;
    a.type = slot->type != nullptr ? slot->type->name : "";
    a.concurrency = slot->concurrency;
    a.backlog = src_.delivery.backlog(name);
    a.in_memory = src_.delivery.backlog_in_memory(name);
    a.delivered = w.count(kDelivered + name);
    a.failed = w.count(kFailed + name);
    a.state = adapter_state(a.backlog, a.delivered, a.failed);
    delivery_backlog += a.backlog;
    r.adapters.push_back(std::move(a));
  }
  r.stages = {{"intake", src_.intake.backlog()},
              {"commit", src_.committer.backlog()},
              {"delivery", delivery_backlog}};

  auto snapshot = src_.routing.get();
  static const std::vector<routing::Office> kNone;
  const auto& offices = snapshot && snapshot->directory ? snapshot->directory->offices() : kNone;
  for (const auto& office : offices) {
    const crypto::Recipient* cert = snapshot->recipient(office.id);
    if (cert == nullptr) continue;
    const std::int64_t not_after = cert->not_after_unix();
    r.certificates.push_back({office.id, cert->subject(), not_after,
                              static_cast<double>(not_after * 1000 - now_ms) / (86400.0 * 1000.0)});
  }
  std::stable_sort(r.certificates.begin(), r.certificates.end(), [](const auto& a, const auto& b) {
    return a.not_after_unix < b.not_after_unix;
  });

  if (Status s = scan_backlog(src_.store, src_.scan_limit, now_ms, r); !s.is_ok()) return s;
  return r;
}

Response OpsApi::status_response() const {
  auto r = status(pipeline::now_ms());
  if (!r) return error(500, r.status().message());
  return json_response(200, to_json(*r));
}

Response OpsApi::route(const std::string& query) const {
  auto area = query_param(query, "area");
  auto service = query_param(query, "service");
  if (!area || !service) return error(400, "give area=ARS and service=LEIKA");
  auto snapshot = src_.routing.get();
  if (!snapshot || !snapshot->directory) return error(503, "no routing directory loaded");
  const routing::RouteExplanation x = routing::explain(*snapshot->directory, *area, *service);
  json out{{"area", x.area},
           {"area_name", x.area_name},
           {"service", x.service},
           {"routed", x.office != nullptr},
           {"reason", x.reason}};
  if (x.rejection) {
    out["condition"] = std::string(condition_symbol(x.rejection->condition));
    return json_response(200, out);
  }
  const crypto::Recipient* cert = snapshot->recipient(x.office->id);
  out["office"] = {{"id", x.office->id},
                   {"name", x.office->name},
                   {"encrypted", cert != nullptr},
                   {"certificate_subject", cert != nullptr ? json(cert->subject()) : json()}};
  // The adapter instance of each channel, not its parameters (they may hold credentials).
  json channels = json::array();
  for (std::size_t i = 0; i < x.office->channels.size(); ++i) {
    const auto& adapter = x.office->channels[i].adapter;
    auto slot = src_.adapters.find(adapter);
    channels.push_back({{"channel", i},
                        {"adapter", adapter},
                        {"type", slot != src_.adapters.end() && slot->second->type != nullptr
                                     ? slot->second->type->name
                                     : ""}});
  }
  out["channels"] = std::move(channels);
  out["rule"] = {{"service", x.rule->service},
                 {"area", x.rule->area},
                 {"area_level", x.rule_area_level},
                 {"area_name", x.rule_area_name},
                 {"line", x.rule->line},
                 {"file", x.rule_file},
                 {"wildcard_service", x.wildcard_service},
                 {"exact_area", x.exact_area}};
  return json_response(200, out);
}

Response OpsApi::backup(const std::string& query) const {
  auto dir = query_param(query, "dir");
  if (!dir || dir->empty()) return error(400, "give dir=ABSOLUTE_PATH (a directory not yet there)");
  const std::int64_t started = pipeline::now_ms();
  auto info = src_.store.checkpoint(*dir);
  if (!info) {
    return error(info.status().code() == Status::Code::kInvalidArgument ? 400 : 500,
                 info.status().message());
  }
  return json_response(200, json{{"dir", info->dir},
                                 {"sequence", info->sequence},
                                 {"bytes", info->bytes},
                                 {"files", info->files},
                                 {"hard_links", info->hard_links},
                                 {"taken_at", text::iso8601_utc_ms(started)},
                                 {"duration_ms", pipeline::now_ms() - started}});
}

}  // namespace ozghub::admin
