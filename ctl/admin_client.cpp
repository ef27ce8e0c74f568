#include "admin_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <memory>

#include "crypto/tls_policy.hpp"

namespace ozghub::ctl {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

// One request and its answer over a connected stream (plain or TLS).
template <typename Stream>
HttpAnswer exchange(Stream& stream, const std::string& method, const std::string& target,
                    const std::string& host, const std::string& token) {
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, host);
  req.set(http::field::user_agent, "ozg-hubctl");
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(256u << 20);
  http::read(stream, buffer, parser);
  return HttpAnswer{static_cast<int>(parser.get().result_int()), parser.get().body()};
}

// The TLS client context: the hub's TLS policy, the server's verification, the client's
// certificate. invalid_argument when a file does not load.
Result<std::unique_ptr<ssl::context>> tls_context(const ClientAuth& auth) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_client);
  SSL_CTX* ctx = context->native_handle();
  if (Status s = crypto::apply_tls_policy(ctx); !s.is_ok()) return s;
  beast::error_code ec;
  context->set_verify_mode(ssl::verify_peer);
  if (!auth.pinned_certificate.empty()) {
    // The server's own certificate as the trust anchor: accepted although it is not a CA's.
    context->load_verify_file(auth.pinned_certificate, ec);
    X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx), X509_V_FLAG_PARTIAL_CHAIN);
    if (ec) return Status::invalid_argument(auth.pinned_certificate + ": " + ec.message());
  } else if (!auth.cacert.empty()) {
    context->load_verify_file(auth.cacert, ec);
    if (ec) return Status::invalid_argument("--cacert " + auth.cacert + ": " + ec.message());
  } else {
    context->set_default_verify_paths(ec);
  }
  if (!auth.certificate.empty() || !auth.key.empty()) {
    if (auth.certificate.empty() || auth.key.empty()) {
      return Status::invalid_argument("--cert and --key go together");
    }
    context->use_certificate_chain_file(auth.certificate, ec);
    if (ec) return Status::invalid_argument("--cert " + auth.certificate + ": " + ec.message());
    context->use_private_key_file(auth.key, ssl::context::pem, ec);
    if (ec) return Status::invalid_argument("--key " + auth.key + ": " + ec.message());
  }
  return context;
}

}  // namespace

Result<HttpAnswer> AdminClient::request(const std::string& method,
                                        const std::string& target) const {
  auto colon = address_.rfind(':');
  if (colon == std::string::npos) {
    return Status::invalid_argument("admin address must be HOST:PORT, not '" + address_ + "'");
  }
  const std::string host = address_.substr(0, colon), port = address_.substr(colon + 1);
  std::unique_ptr<ssl::context> context;
  if (auth_.tls) {
    auto made = tls_context(auth_);
    if (!made) return made.status();
    context = std::move(*made);
  }
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
    if (!context) {
      HttpAnswer answer = exchange(stream, method, target, host, auth_.token);
      stream.socket().shutdown(tcp::socket::shutdown_both, ec);
      return answer;
    }
    beast::ssl_stream<beast::tcp_stream> tls(std::move(stream), *context);
    if (auth_.pinned_certificate.empty()) {
      tls.set_verify_callback(ssl::host_name_verification(host));
      beast::error_code ignored;
      asio::ip::make_address(host, ignored);
      // SNI for a name, not for an IP address (RFC 6066).
      // (SSL_set_tlsext_host_name is this call behind a C cast.)
      if (ignored) {
        SSL_ctrl(tls.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(host.c_str()));
      }
    }
    tls.handshake(ssl::stream_base::client, ec);
    if (ec) {
      return Status::invalid_argument("TLS with the ozg-hub admin endpoint at " + address_ +
                                      " failed: " + ec.message() +
                                      " (check --cacert, --cert and --key)");
    }
    HttpAnswer answer = exchange(tls, method, target, host, auth_.token);
    tls.shutdown(ec);  // the server's close_notify; a server that just closes is fine too
    return answer;
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
    const char* hint = answer->status == 401   ? " (--token-file FILE, or --config FILE)"
                       : answer->status == 403 ? " (--cert FILE --key FILE)"
                                               : "";
    std::fprintf(err, "ozg-hubctl: %s%s\n", body.value("error", std::string("failed")).c_str(),
                 hint);
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
