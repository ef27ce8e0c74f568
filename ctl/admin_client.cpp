#include "admin_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>

namespace ozghub::ctl {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

Result<HttpAnswer> AdminClient::request(const std::string& method,
                                        const std::string& target) const {
  auto colon = address_.rfind(':');
  if (colon == std::string::npos) {
    return Status::invalid_argument("admin address must be HOST:PORT, not '" + address_ + "'");
  }
  const std::string host = address_.substr(0, colon), port = address_.substr(colon + 1);
  try {
    asio::io_context io;
    tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    stream.expires_after(timeout_);
    beast::error_code ec;
    auto endpoints = resolver.resolve(host, port, ec);
    if (!ec) stream.connect(endpoints, ec);
    if (ec) {
      return Status::unavailable("cannot reach the ozg-hub admin endpoint at " + address_ + ": " +
                                 ec.message() +
                                 " (is the daemon running, and is admin.listen this address?)");
    }
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, host);
    req.set(http::field::user_agent, "ozg-hubctl");
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(256u << 20);
    http::read(stream, buffer, parser);
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    return HttpAnswer{static_cast<int>(parser.get().result_int()), parser.get().body()};
  } catch (const std::exception& e) {
    return Status::unavailable("talking to the ozg-hub admin endpoint at " + address_ +
                               " failed: " + e.what());
  }
}

std::optional<int> call_json(const AdminClient& client, const std::string& method,
                             const std::string& target, nlohmann::json& body, std::FILE* err) {
  auto answer = client.request(method, target);
  if (!answer) {
    std::fprintf(err, "ozg-hubctl: %s\n", answer.status().message().c_str());
    return answer.status().code() == Status::Code::kUnavailable ? 3 : 1;
  }
  body = nlohmann::json::parse(answer->body, nullptr, false);
  if (body.is_discarded()) {
    std::fprintf(err, "ozg-hubctl: the admin endpoint answered HTTP %d with no JSON\n",
                 answer->status);
    return 1;
  }
  if (answer->status != 200) {
    std::fprintf(err, "ozg-hubctl: %s\n", body.value("error", std::string("failed")).c_str());
    return 1;
  }
  return std::nullopt;
}

std::string json_text(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

}  // namespace ozghub::ctl
