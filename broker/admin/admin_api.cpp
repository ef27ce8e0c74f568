#include "admin/admin_api.hpp"

#include <prometheus/text_serializer.h>

#include <charconv>
#include <nlohmann/json.hpp>
#include <optional>

#include "admin/ops_api.hpp"
#include "admin/reload_route.hpp"
#include "common/log.hpp"
#include "common/text.hpp"

namespace ozghub::admin {
namespace {

using nlohmann::json;

Response json_response(int status, const json& body) {
  Response r;
  r.status = status;
  // Error texts are free of personal data but may hold any bytes an adapter's peer sent:
  // replace what is not UTF-8 instead of failing.
  r.body = body.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  return r;
}

Response error(int status, const std::string& message) {
  return json_response(status, json{{"error", message}});
}

Response from_status(const Status& s) {
  return error(s.code() == Status::Code::kNotFound ? 404 : 500, s.message());
}

json entry_json(const store::OutboxEntry& e) {
  return json{{"case", e.case_number},
              {"channel", e.channel},
              {"office", e.office_id},
              {"adapter", e.adapter},
              {"attempts", e.attempts},
              {"last_error", e.last_error},
              {"dead_since", text::iso8601_utc_ms(e.due_ms)}};
}

bool is_case_number(const std::string& s) {
  if (s.size() != 20) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// The value of `channel=N` in a query string; nullopt when absent. `bad` is set if malformed.
std::optional<std::uint16_t> channel_of(const std::string& query, bool& bad) {
  bad = false;
  const std::string key = "channel=";
  auto pos = query.find(key);
  if (pos == std::string::npos) return std::nullopt;
  auto start = pos + key.size();
  auto end = query.find('&', start);
  std::string v = query.substr(start, end == std::string::npos ? std::string::npos : end - start);
  unsigned n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || v.empty() || n > 65535) {
    bad = true;
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(n);
}

}  // namespace

AdminApi::AdminApi(std::shared_ptr<prometheus::Registry> metrics, delivery::DeliveryHost& delivery,
                   store::Store& store)
    : metrics_(std::move(metrics)), delivery_(delivery), store_(store) {}

Response AdminApi::handle(const Request& request) const {
  std::string path = request.target;
  std::string query;
  if (auto q = path.find('?'); q != std::string::npos) {
    query = path.substr(q + 1);
    path.resize(q);
  }
  const std::string& m = request.method;
  if (path == "/livez") {
    if (m != "GET" && m != "HEAD") return error(405, "use GET");
    return {200, "text/plain; charset=utf-8", "ok\n"};
  }
  if (path == "/readyz") {
    if (m != "GET" && m != "HEAD") return error(405, "use GET");
    auto conditions = readiness_.conditions();
    if (conditions.empty()) return {200, "text/plain; charset=utf-8", "ready\n"};
    std::string body = "not ready:";
    for (const auto& c : conditions) body.append(" ").append(c);
    return {503, "text/plain; charset=utf-8", body + "\n"};
  }
  if (path == "/metrics") {
    if (m != "GET" && m != "HEAD") return error(405, "use GET");
    return metrics();
  }
  if (path == "/v1/reload") return reload_route(request, reloader_);
  if (ops_ != nullptr) {
    if (auto answer = ops_->handle(request)) return std::move(*answer);
  }
  if (const std::string cases = "/v1/cases/"; path.rfind(cases, 0) == 0) {
    const std::string suffix = "/audit";
    if (path.size() <= cases.size() + suffix.size() ||
        path.compare(path.size() - suffix.size(), suffix.size(), suffix) != 0) {
      return error(404, "no such resource");
    }
    std::string case_number = path.substr(cases.size(), path.size() - cases.size() - suffix.size());
    if (!is_case_number(case_number)) return error(400, "a case number has 20 digits");
    if (m != "GET") return error(405, "use GET");
    return audit(case_number);
  }
  const std::string prefix = "/v1/deadletters";
  if (path == prefix) {
    if (m != "GET") return error(405, "use GET");
    return list_dead_letters();
  }
  if (path == prefix + "/replay-all") {
    if (m != "POST") return error(405, "use POST");
    return replay_all();
  }
  if (path.rfind(prefix + "/", 0) == 0) {
    std::string rest = path.substr(prefix.size() + 1);
    bool replay_route = false;
    if (auto slash = rest.find('/'); slash != std::string::npos) {
      if (rest.substr(slash) != "/replay") return error(404, "no such resource");
      replay_route = true;
      rest.resize(slash);
    }
    if (!is_case_number(rest)) return error(400, "a case number has 20 digits");
    if (replay_route) {
      if (m != "POST") return error(405, "use POST");
      return replay(rest, query);
    }
    if (m == "GET") return show_dead_letters(rest);
    if (m == "DELETE") return purge(rest, query);
    return error(405, "use GET or DELETE");
  }
  return error(404, "no such resource");
}

Response AdminApi::metrics() const {
  prometheus::TextSerializer serializer;
  return {200, "text/plain; version=0.0.4; charset=utf-8",
          serializer.Serialize(metrics_->Collect())};
}

Response AdminApi::list_dead_letters() const {
  auto all = delivery_.dead_letters();
  if (!all) return from_status(all.status());
  json list = json::array();
  for (const auto& e : *all) list.push_back(entry_json(e));
  return json_response(200, json{{"dead_letters", std::move(list)}});
}

Response AdminApi::show_dead_letters(const std::string& case_number) const {
  auto letters = delivery_.dead_letters_of(case_number);
  if (!letters) return from_status(letters.status());
  if (letters->empty()) return error(404, "no dead letter for case " + case_number);
  json out{{"case", case_number}};
  // The case's metadata: ids, times, counts and sizes; never the XML or attachment names.
  auto c = store_.load_case(case_number);
  if (c) {
    std::size_t bytes = c->app.xml.size();
    for (const auto& a : c->app.attachments) bytes += a.data.size();
    out["office"] = c->office_id;
    out["service_id"] = c->app.service_id;
    out["area_id"] = c->app.area_id;
    out["schema"] = c->app.schema;
    out["sender"] = c->app.sender;
    out["received_at"] = text::iso8601_utc_ms(c->app.received_at_ms);
    out["attachments"] = c->app.attachments.size();
    out["size_bytes"] = bytes;
  } else {
    out["case_record"] = c.status().message();
  }
  json list = json::array();
  for (const auto& e : *letters) list.push_back(entry_json(e));
  out["dead_letters"] = std::move(list);
  return json_response(200, out);
}

Response AdminApi::replay(const std::string& case_number, const std::string& query) const {
  bool bad = false;
  auto channel = channel_of(query, bad);
  if (bad) return error(400, "channel must be a number");
  auto n = delivery_.replay(case_number, channel);
  if (!n) return from_status(n.status());
  return json_response(200, json{{"replayed", *n}});
}

Response AdminApi::replay_all() const {
  auto n = delivery_.replay_all();
  if (!n) return from_status(n.status());
  return json_response(200, json{{"replayed", *n}});
}

Response AdminApi::purge(const std::string& case_number, const std::string& query) const {
  bool bad = false;
  auto channel = channel_of(query, bad);
  if (bad) return error(400, "channel must be a number");
  auto n = delivery_.purge(case_number, channel);
  if (!n) return from_status(n.status());
  return json_response(200, json{{"purged", *n}});
}

Response AdminApi::audit(const std::string& case_number) const {
  auto trail = store_.audit_trail(case_number);
  if (!trail) return from_status(trail.status());
  json events = json::array();
  for (const auto& e : *trail) events.push_back(json::parse(e, nullptr, false));
  return json_response(200,
                       json{{"case", case_number},
                            {"payload", store_.has_payload(case_number) ? "stored" : "deleted"},
                            {"events", std::move(events)}});
}

}  // namespace ozghub::admin
