#include "admin/admin_server.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <optional>

#include "admin/admin_auth.hpp"
#include "admin/admin_tls.hpp"
#include "common/log.hpp"
#include "common/thread_name.hpp"

namespace ozghub::admin {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

constexpr auto kRequestTimeout = std::chrono::seconds(10);
constexpr auto kShutdownTimeout = std::chrono::seconds(2);
constexpr std::uint64_t kMaxBody = 64u * 1024u;

// The answer to a request that access control turned away, in the API's JSON error form.
Response denied(Access access, bool token_presented) {
  if (access == Access::kForbidden) {
    return {403, "application/json",
            R"({"error":"a client certificate from admin.tls.client_ca is required"})"};
  }
  return {401, "application/json",
          token_presented
              ? R"({"error":"the bearer token is not valid"})"
              : R"({"error":"a bearer token is required: Authorization: Bearer TOKEN"})"};
}

// One connection: (TLS handshake,) read a request, answer it, repeat while the client keeps the
// connection. `Stream` is beast::tcp_stream or TlsStream.
template <typename Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(Stream stream, const AdminApi& api, const AccessPolicy& policy)
      : stream_(std::move(stream)), api_(api), policy_(policy) {}

  void start() {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      beast::get_lowest_layer(stream_).expires_after(kRequestTimeout);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return self->close_socket();
                                self->verified_ = self->peer_verified();
                                self->read();
                              });
    } else {
      read();
    }
  }

 private:
  bool peer_verified() {
    SSL* ssl = stream_.native_handle();
    return SSL_get0_peer_certificate(ssl) != nullptr && SSL_get_verify_result(ssl) == X509_V_OK;
  }

  void read() {
    parser_.emplace();
    parser_->body_limit(kMaxBody);
    beast::get_lowest_layer(stream_).expires_after(kRequestTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       self->on_read(ec);
                     });
  }

  void on_read(beast::error_code ec) {
    if (ec) {
      close();
      return;
    }
    const auto& req = parser_->get();
    Request r{std::string(req.method_string()), std::string(req.target())};
    std::string_view authorization;
    if (auto it = req.find(http::field::authorization); it != req.end()) {
      authorization = {it->value().data(), it->value().size()};
    }
    const Access access = check_access(policy_, r.target, authorization, verified_);
    Response answer;
    if (access == Access::kAllowed) {
      answer = api_.handle(r);
    } else {
      answer = denied(access, !authorization.empty());
      log::warn("admin.denied", {{"status", std::to_string(answer.status)},
                                 {"method", r.method},
                                 {"path", r.target.substr(0, r.target.find('?'))}});
    }
    response_ = {};
    response_.version(req.version());
    response_.keep_alive(req.keep_alive());
    response_.result(static_cast<http::status>(answer.status));
    response_.set(http::field::content_type, answer.content_type);
    response_.set(http::field::cache_control, "no-store");
    if (answer.status == 401) {
      response_.set(http::field::www_authenticate,
                    authorization.empty() ? R"(Bearer realm="ozg-hub")"
                                          : R"(Bearer realm="ozg-hub", error="invalid_token")");
    }
    if (req.method() != http::verb::head) response_.body() = std::move(answer.body);
    response_.prepare_payload();
    // The answer gets its own time: handling it (a backup) may have used up the request's.
    beast::get_lowest_layer(stream_).expires_after(kRequestTimeout);
    http::async_write(stream_, response_,
                      [self = this->shared_from_this()](beast::error_code wec, std::size_t) {
                        if (wec || !self->response_.keep_alive()) {
                          self->close();
                        } else {
                          self->read();
                        }
                      });
  }

  void close() {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      // close_notify, then the socket; a peer that never answers is cut off by the timer.
      beast::get_lowest_layer(stream_).expires_after(kShutdownTimeout);
      stream_.async_shutdown(
          [self = this->shared_from_this()](beast::error_code) { self->close_socket(); });
    } else {
      close_socket();
    }
  }

  void close_socket() {
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  Stream stream_;
  const AdminApi& api_;
  const AccessPolicy& policy_;
  bool verified_ = false;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
};

}  // namespace

struct AdminServer::Impl {
  explicit Impl(const AdminApi& a) : api(a), acceptor(io) {}

  void accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        if (tls) {
          std::make_shared<Session<TlsStream>>(
              TlsStream(beast::tcp_stream(std::move(socket)), *tls), api, policy)
              ->start();
        } else {
          std::make_shared<Session<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)), api,
                                                       policy)
              ->start();
        }
      }
      accept();
    });
  }

  const AdminApi& api;
  AccessPolicy policy;
  std::shared_ptr<ssl::context> tls;  // null: plain HTTP
  asio::io_context io{1};
  tcp::acceptor acceptor;
  std::thread thread;
};

AdminServer::AdminServer(const AdminApi& api) : impl_(std::make_unique<Impl>(api)) {}

AdminServer::~AdminServer() { stop(); }

Status AdminServer::start(const config::Admin& admin) {
  if (!admin.token_file.empty()) {
    auto token = load_token(admin.token_file);
    if (!token) return token.status();
    impl_->policy.token = std::move(*token);
  }
  if (admin.tls.enabled) {
    auto context = make_admin_tls_context(admin.tls);
    if (!context) return context.status();
    impl_->tls = std::move(*context);
    impl_->policy.client_certificate = !admin.tls.client_ca.empty();
  }
  return start(admin.host, admin.port);
}

Status AdminServer::start(const std::string& host, std::uint16_t port) {
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return Status::invalid_argument("admin.listen: '" + host + "' is not an IP address");
  tcp::endpoint endpoint(address, port);
  auto& a = impl_->acceptor;
  a.open(endpoint.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::io_error("admin endpoint " + host + ":" + std::to_string(port) + ": " +
                            ec.message());
  }
  auto bound = a.local_endpoint(ec);
  const AccessPolicy& policy = impl_->policy;
  const bool protected_access = !policy.token.empty() || policy.client_certificate;
  if (!address.is_loopback() && !protected_access) {
    // Anyone who reaches this port can replay and purge dead letters.
    log::warn("admin.not_loopback",
              {{"address", host},
               {"risk",
                "no admin.token_file or admin.tls.client_ca: anyone who reaches the "
                "port can replay and purge dead letters"}});
  }
  log::info("admin.listening",
            {{"address", bound.address().to_string() + ":" + std::to_string(bound.port())},
             {"tls", impl_->tls ? "true" : "false"},
             {"token", policy.token.empty() ? "false" : "true"},
             {"client_certificate", policy.client_certificate ? "true" : "false"}});
  impl_->accept();
  impl_->thread = std::thread([this] {
    set_thread_name("admin");
    impl_->io.run();
  });
  return Status::ok();
}

void AdminServer::stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  impl_->io.stop();
  impl_->thread.join();
}

}  // namespace ozghub::admin
