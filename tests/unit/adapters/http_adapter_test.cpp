// The HTTP adapter against a scripted HTTP/1.1 peer on 127.0.0.1 (one response per connection).
#include "http/http_adapter.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "crypto/cms.hpp"
#include "crypto/openssl_cli.hpp"
#include "test_support.hpp"

namespace ozghub::adapters::http {
namespace {

namespace fs = std::filesystem;
using delivery::DeliveryRequest;
using delivery::DeliveryResult;
using delivery::Outcome;
using ozghub::testing::read_file;
using ozghub::testing::source_dir;
using ozghub::testing::TempDir;
using ozghub::testing::write_file;

constexpr char kCaseNumber[] = "20261123000000000042";

fs::path profile_dir() { return source_dir() / "adapters/http/profiles/autista-sample"; }

// Accepts connections one after another; answers each request with `response` (raw bytes) and
// records what it received.
class ScriptedPeer {
 public:
  explicit ScriptedPeer(std::string response) : response_(std::move(response)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    auto* sa = reinterpret_cast<sockaddr*>(&addr);
    if (::bind(fd_, sa, len) != 0 || ::listen(fd_, 8) != 0 || ::getsockname(fd_, sa, &len) != 0)
      ADD_FAILURE() << "cannot listen";
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedPeer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string url(std::string_view path = "/in") const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }
  std::vector<std::string> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void serve() {
    while (!stop_) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string req;
      char buf[4096];
      std::size_t need = std::string::npos;
      while (need == std::string::npos || req.size() < need) {
        const ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        req.append(buf, static_cast<std::size_t>(n));
        const auto end = req.find("\r\n\r\n");
        if (need == std::string::npos && end != std::string::npos) {
          const auto cl = req.find("Content-Length: ");
          need = end + 4 + (cl == std::string::npos ? 0 : std::stoul(req.substr(cl + 16)));
        }
      }
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(req);
      }
      (void)!::write(c, response_.data(), response_.size());
      ::close(c);
    }
  }

  std::string response_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::string> requests_;
};

Case make_case() {
  Case c;
  c.case_number = kCaseNumber;
  c.office_id = "burg-standesamt";
  c.app.message_id = "msg-1";
  c.app.area_id = "150860015015";
  c.app.service_id = "99012009001000";
  c.app.schema = "urn:ozg-hub:schema:antrag:1.0";
  c.app.xml = read_file(profile_dir() / "sample-antrag-geburtsurkunde.xml");
  c.app.received_at_ms = 1795434814056;
  return c;
}

routing::Office make_office() {
  routing::Office o;
  o.id = "burg-standesamt";
  o.name = "Stadt Burg, Standesamt";
  return o;
}

struct Bound {
  std::shared_ptr<const delivery::ChannelBinding> binding;
  Status status;
};

Bound bind(HttpAdapter& adapter, const routing::Office& office,
           const std::map<std::string, std::string>& values, delivery::Params& params) {
  std::map<std::string, std::string> with_defaults = {{"content_type", "application/xml"},
                                                      {"attachments", "reject"}};
  for (const auto& [k, v] : values) with_defaults[k] = v;
  params = delivery::Params(with_defaults);
  const delivery::ChannelContext ctx{office, nullptr, params};
  auto r = adapter.bind(ctx);
  if (!r.is_ok()) return {nullptr, r.status()};
  return {*r, Status::ok()};
}

DeliveryResult deliver(HttpAdapter& adapter, const Case& c, const routing::Office& office,
                       const delivery::Params& params, const delivery::ChannelBinding* binding,
                       std::chrono::milliseconds budget = std::chrono::seconds(10)) {
  const DeliveryRequest req{
      c, office, params, binding, nullptr, 1, std::chrono::steady_clock::now() + budget};
  return adapter.deliver(req);
}

TEST(HttpAdapter, PostsTheTransformedOrderWithIdempotencyKey) {
  ScriptedPeer peer("HTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nsaved");
  HttpAdapter adapter;
  const auto office = make_office();
  delivery::Params params;
  auto b = bind(adapter, office,
                {{"url", peer.url("/bestellungen")},
                 {"stylesheet", (profile_dir() / "antrag-to-urkundenbestellung.xsl").string()},
                 {"validate_output", (profile_dir() / "urkundenbestellung-1.0.xsd").string()}},
                params);
  ASSERT_OK(b.status);
  const Case c = make_case();
  const auto r = deliver(adapter, c, office, params, b.binding.get());
  EXPECT_EQ(r.outcome, Outcome::kDelivered) << r.error;
  const auto reqs = peer.requests();
  ASSERT_EQ(reqs.size(), 1u);
  const std::string& req = reqs[0];
  EXPECT_EQ(req.rfind("POST /bestellungen HTTP/1.1\r\n", 0), 0u) << req;
  for (const std::string h :
       {"Idempotency-Key: 20261123000000000042\r\n", "X-OZG-Case-Number: 20261123000000000042\r\n",
        "X-OZG-Service: 99012009001000\r\n", "X-OZG-Area: 150860015015\r\n",
        "Content-Type: application/xml\r\n"}) {
    EXPECT_NE(req.find(h), std::string::npos) << h << req;
  }
  EXPECT_EQ(req.find("Expect:"), std::string::npos) << req;
  const std::string body = req.substr(req.find("\r\n\r\n") + 4);
  auto expected = HttpAdapter::prepare_body(
      *dynamic_cast<const HttpBinding*>(b.binding.get()),
      DeliveryRequest{c, office, params, b.binding.get(), nullptr, 1, {}});
  ASSERT_OK(expected);
  EXPECT_EQ(body, *expected);
  EXPECT_NE(body.find("<Urkundenart>Geburtsurkunde</Urkundenart>"), std::string::npos);
}

TEST(HttpAdapter, RetryAfterFromTheResponseReachesTheHost) {
  ScriptedPeer peer(
      "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n");
  HttpAdapter adapter;
  const auto office = make_office();
  delivery::Params params;
  auto b = bind(adapter, office, {{"url", peer.url()}}, params);
  ASSERT_OK(b.status);
  const auto r = deliver(adapter, make_case(), office, params, b.binding.get());
  EXPECT_EQ(r.outcome, Outcome::kRetryLater);
  EXPECT_EQ(r.error, "HTTP 503");
  EXPECT_EQ(r.retry_after, std::chrono::milliseconds(7000));
}

TEST(HttpAdapter, RedirectIsNotFollowed) {
  ScriptedPeer peer(
      "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/else\r\nContent-Length: 0\r\n\r\n");
  HttpAdapter adapter;
  const auto office = make_office();
  delivery::Params params;
  auto b = bind(adapter, office, {{"url", peer.url()}}, params);
  ASSERT_OK(b.status);
  const auto r = deliver(adapter, make_case(), office, params, b.binding.get());
  EXPECT_EQ(r.outcome, Outcome::kRejected);
  EXPECT_NE(r.error.find("not followed"), std::string::npos) << r.error;
  EXPECT_EQ(peer.requests().size(), 1u);
}

TEST(HttpAdapter, ResponseBodyNeverReachesTheErrorText) {
  ScriptedPeer peer(
      "HTTP/1.1 422 Unprocessable\r\nContent-Length: 21\r\n\r\nName Erika is invalid");
  HttpAdapter adapter;
  const auto office = make_office();
  delivery::Params params;
  auto b = bind(adapter, office, {{"url", peer.url()}}, params);
  ASSERT_OK(b.status);
  const auto r = deliver(adapter, make_case(), office, params, b.binding.get());
  EXPECT_EQ(r.outcome, Outcome::kRejected);
  EXPECT_EQ(r.error, "HTTP 422");
}

TEST(HttpAdapter, ConnectionRefusedIsRetried) {
  int port = 0;
  {
    ScriptedPeer closed("");
    port = std::stoi(closed.url("").substr(17));
  }
  HttpAdapter adapter;
  const auto office = make_office();
  delivery::Params params;
  auto b =
      bind(adapter, office, {{"url", "http://127.0.0.1:" + std::to_string(port) + "/"}}, params);
  ASSERT_OK(b.status);
  const auto r = deliver(adapter, make_case(), office, params, b.binding.get());
  EXPECT_EQ(r.outcome, Outcome::kRetryLater);
  EXPECT_EQ(r.error, "connect failed: Connection refused");
}

TEST(HttpAdapter, SilentPeerTimesOutWithinTheDeadline) {
  // Listens but never accepts: the connect succeeds (backlog), the response never comes.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(::listen(fd, 8), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  HttpAdapter adapter;
  const auto office = make_office();
  delivery::Params params;
  auto b =
      bind(adapter, office,
           {{"url", "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/"}}, params);
  ASSERT_OK(b.status);
  const auto start = std::chrono::steady_clock::now();
  const auto r = deliver(adapter, make_case(), office, params, b.binding.get(),
                         std::chrono::milliseconds(300));
  const auto took = std::chrono::steady_clock::now() - start;
  ::close(fd);
  EXPECT_EQ(r.outcome, Outcome::kRetryLater);
  EXPECT_EQ(r.error.rfind("timed out after ", 0), 0u) << r.error;
  EXPECT_LT(took, std::chrono::milliseconds(1500));
}

TEST(HttpAdapter, CaseWithAttachmentsIsRejectedUnlessOmitted) {
  ScriptedPeer peer("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  HttpAdapter adapter;
  const auto office = make_office();
  Case c = make_case();
  c.app.attachments.push_back({"Ausweis.pdf", "application/pdf", "%PDF-1.7"});
  delivery::Params params;
  auto b = bind(adapter, office, {{"url", peer.url()}}, params);
  ASSERT_OK(b.status);
  auto r = deliver(adapter, c, office, params, b.binding.get());
  EXPECT_EQ(r.outcome, Outcome::kRejected);
  EXPECT_EQ(r.error.find("Ausweis"), std::string::npos) << r.error;
  EXPECT_TRUE(peer.requests().empty());

  delivery::Params omit_params;
  auto omit = bind(adapter, office, {{"url", peer.url()}, {"attachments", "omit"}}, omit_params);
  ASSERT_OK(omit.status);
  r = deliver(adapter, c, office, omit_params, omit.binding.get());
  EXPECT_EQ(r.outcome, Outcome::kDelivered) << r.error;
}

TEST(HttpAdapter, OfficeWithCertificateGetsCmsThatOpensWithOpenssl) {
  ScriptedPeer peer("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  HttpAdapter adapter;
  auto office = make_office();
  office.certificate_path = ozghub::testing::demo_cert().string();
  auto recipient = crypto::Recipient::from_pem_file(office.certificate_path);
  ASSERT_OK(recipient);
  delivery::Params params;
  auto b = bind(adapter, office,
                {{"url", peer.url()},
                 {"stylesheet", (profile_dir() / "antrag-to-urkundenbestellung.xsl").string()}},
                params);
  ASSERT_OK(b.status);
  const Case c = make_case();

  // Fails closed: a certificate that did not load means nothing is sent.
  auto r = deliver(adapter, c, office, params, b.binding.get());
  EXPECT_EQ(r.outcome, Outcome::kRetryLater);
  EXPECT_TRUE(peer.requests().empty());

  const DeliveryRequest req{c,
                            office,
                            params,
                            b.binding.get(),
                            recipient->get(),
                            1,
                            std::chrono::steady_clock::now() + std::chrono::seconds(10)};
  r = adapter.deliver(req);
  ASSERT_EQ(r.outcome, Outcome::kDelivered) << r.error;
  const auto reqs = peer.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_NE(reqs[0].find("Content-Type: application/pkcs7-mime; smime-type=enveloped-data\r\n"),
            std::string::npos);
  const std::string body = reqs[0].substr(reqs[0].find("\r\n\r\n") + 4);
  EXPECT_EQ(body.find("Mustermann"), std::string::npos);
  TempDir dir;
  write_file(dir.path() / "body.p7m", body);
  ASSERT_EQ(ozghub::testing::openssl_decrypt(dir.path() / "body.p7m", dir.path() / "body.xml"), "");
  auto expected =
      HttpAdapter::prepare_body(*dynamic_cast<const HttpBinding*>(b.binding.get()), req);
  ASSERT_OK(expected);
  EXPECT_EQ(read_file(dir.path() / "body.xml"), *expected);
}

TEST(HttpAdapter, BindRejectsBadChannels) {
  HttpAdapter adapter;
  const auto office = make_office();
  TempDir dir;
  write_file(dir.path() / "broken.xsl",
             "<xsl:stylesheet version='1.0' "
             "xmlns:xsl='http://www.w3.org/1999/XSL/Transform'>"
             "<xsl:template match='/'><xsl:value-of select='(('/>"
             "</xsl:template></xsl:stylesheet>");
  write_file(dir.path() / "c.pem", "x");
  const std::string cert = (dir.path() / "c.pem").string();
  const std::vector<std::pair<std::map<std::string, std::string>, std::string>> cases = {
      {{{"url", "ftp://example.org/"}}, "http:// or https://"},
      {{{"url", "https://x/"}, {"client_certificate", cert}}, "go together"},
      {{{"url", "http://x/"}, {"client_certificate", cert}, {"client_key", cert}}, "https://"},
      {{{"url", "https://x/"}, {"ca_file", (dir.path() / "none.pem").string()}}, "ca_file"},
      {{{"url", "http://x/"}, {"stylesheet", (dir.path() / "broken.xsl").string()}},
       "does not compile"},
      {{{"url", "http://x/"}, {"validate_output", (dir.path() / "none.xsd").string()}},
       "not a readable file"},
  };
  for (const auto& [values, expected] : cases) {
    delivery::Params params;
    auto b = bind(adapter, office, values, params);
    ASSERT_FALSE(b.status.is_ok()) << expected;
    EXPECT_NE(b.status.message().find(expected), std::string::npos) << b.status.message();
  }
}

TEST(HttpAdapter, RegisteredTypeDeclaresItsKeys) {
  const auto t = HttpAdapter::type();
  EXPECT_EQ(t.name, "http");
  std::set<std::string> names;
  for (const auto& p : t.params) names.insert(p.name);
  for (const char* key : {"url", "stylesheet", "validate_output", "content_type", "ca_file",
                          "client_certificate", "client_key", "attachments", "proxy"}) {
    EXPECT_EQ(names.count(key), 1u) << key;
  }
}

}  // namespace
}  // namespace ozghub::adapters::http
