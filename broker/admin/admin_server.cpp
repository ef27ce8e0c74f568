#include "admin/admin_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>

#include "common/log.hpp"

namespace ozghub::admin {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kRequestTimeout = std::chrono::seconds(10);
constexpr std::uint64_t kMaxBody = 64u * 1024u;

// One connection: read a request, answer it, repeat while the client keeps the connection.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const AdminApi& api) : stream_(std::move(socket)), api_(api) {}

  void start() { read(); }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(kMaxBody);
    stream_.expires_after(kRequestTimeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec) {
      close();
      return;
    }
    const auto& req = parser_->get();
    Request r{std::string(req.method_string()), std::string(req.target())};
    Response answer = api_.handle(r);
    response_ = {};
    response_.version(req.version());
    response_.keep_alive(req.keep_alive());
    response_.result(static_cast<http::status>(answer.status));
    response_.set(http::field::content_type, answer.content_type);
    response_.set(http::field::cache_control, "no-store");
    if (req.method() != http::verb::head) response_.body() = std::move(answer.body);
    response_.prepare_payload();
    // The answer gets its own time: handling it (a backup) may have used up the request's.
    stream_.expires_after(kRequestTimeout);
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code wec, std::size_t) {
                        if (wec || !self->response_.keep_alive()) {
                          self->close();
                        } else {
                          self->read();
                        }
                      });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  const AdminApi& api_;
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
      if (!ec) std::make_shared<Session>(std::move(socket), api)->start();
      accept();
    });
  }

  const AdminApi& api;
  asio::io_context io{1};
  tcp::acceptor acceptor;
  std::thread thread;
};

AdminServer::AdminServer(const AdminApi& api) : impl_(std::make_unique<Impl>(api)) {}

AdminServer::~AdminServer() { stop(); }

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
  if (!address.is_loopback()) {
    // Anyone who reaches this port can replay and purge dead letters.
    log::warn("admin.not_loopback",
              {{"address", host}, {"risk", "the admin endpoint has no authentication yet"}});
  }
  log::info("admin.listening",
            {{"address", bound.address().to_string() + ":" + std::to_string(bound.port())}});
  impl_->accept();
  impl_->thread = std::thread([this] { impl_->io.run(); });
  return Status::ok();
}

void AdminServer::stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  impl_->io.stop();
  impl_->thread.join();
}

}  // namespace ozghub::admin
