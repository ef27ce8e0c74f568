// The SMTP adapter against a scripted plaintext SMTP server on 127.0.0.1 (port from the kernel):
// which reply at which stage gives which outcome. STARTTLS, AUTH and the whole daemon are
// covered by tests/integration/test_smtp_adapter.py against aiosmtpd.
#include "smtp/smtp_adapter.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "crypto/openssl_cli.hpp"
#include "registry.hpp"
#include "test_support.hpp"

namespace ozghub::adapters {
namespace {

using delivery::DeliveryRequest;
using delivery::DeliveryResult;
using delivery::Outcome;
using ozghub::testing::demo_cert;
using ozghub::testing::TempDir;
using ozghub::testing::write_file;

// Serves SMTP sessions on 127.0.0.1 until destroyed, answering `fail_code` to the command
// `fail_at` ("EHLO", "MAIL", "RCPT", "DATA", or "END" for the end of the data) and success to
// everything else. Records the envelope and the data of accepted mails. Two special scripts:
// "SILENT" never sends the greeting; "CLOSE" ends the session after each accepted mail, as a
// relay does with an idle connection.
class ScriptedSmtpServer {
 public:
  ScriptedSmtpServer(std::string fail_at, int fail_code)
      : fail_at_(std::move(fail_at)), fail_code_(fail_code) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(listen_fd_, 8), 0);
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedSmtpServer() {
    stop_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    // The adapter keeps its connection open for the next mail; end the session too.
    ::shutdown(session_fd_.load(), SHUT_RDWR);
    thread_.join();
    ::close(listen_fd_);
  }
  int port() const { return port_; }
  int accepted_mails() const { return accepted_; }
  std::string last_data() const {
    std::lock_guard lock(mutex_);
    return data_;
  }
  std::string last_rcpt() const {
    std::lock_guard lock(mutex_);
    return rcpt_;
  }

 private:
  void serve() {
    while (!stop_) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      session_fd_ = fd;
      if (!stop_) session(fd);
      session_fd_ = -1;
      ::close(fd);
    }
  }

  static bool send_line(int fd, const std::string& line) {
    const std::string out = line + "\r\n";
    return ::send(fd, out.data(), out.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(out.size());
  }

  std::string reply(std::string_view stage, std::string ok) const {
    if (stage == fail_at_) return std::to_string(fail_code_) + " scripted failure";
    return ok;
  }

  void session(int fd) {
    if (fail_at_ == "SILENT") {
      char c;
      while (::recv(fd, &c, 1, 0) > 0) {
      }
      return;
    }
    if (!send_line(fd, "220 scripted ESMTP")) return;
    std::string buffer;
    bool in_data = false;
    char chunk[4096];
    while (true) {
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return;
      buffer.append(chunk, static_cast<std::size_t>(n));
      while (true) {
        if (in_data) {
          const std::size_t end = buffer.find("\r\n.\r\n");
          if (end == std::string::npos) break;
          const std::string data = buffer.substr(0, end + 2);
          buffer.erase(0, end + 5);
          in_data = false;
          const std::string r = reply("END", "250 queued");
          if (r.starts_with("250")) {
            std::lock_guard lock(mutex_);
            data_ = data;
            ++accepted_;
          }
          if (!send_line(fd, r)) return;
          if (fail_at_ == "CLOSE") return;
          continue;
        }
        const std::size_t end = buffer.find("\r\n");
        if (end == std::string::npos) break;
        const std::string line = buffer.substr(0, end);
        buffer.erase(0, end + 2);
        const std::string verb = line.substr(0, 4);
        std::string r;
        if (verb == "EHLO" || verb == "HELO") {  // curl falls back to HELO
          r = reply("EHLO", "250-scripted\r\n250 8BITMIME");
        } else if (verb == "MAIL") {
          r = reply("MAIL", "250 ok");
        } else if (verb == "RCPT") {
          {
            std::lock_guard lock(mutex_);
            rcpt_ = line;
          }
          r = reply("RCPT", "250 ok");
        } else if (verb == "DATA") {
          r = reply("DATA", "354 go ahead");
          in_data = r.starts_with("354");
        } else if (verb == "QUIT") {
          send_line(fd, "221 bye");
          return;
        } else {
          r = "250 ok";
        }
        if (!send_line(fd, r)) return;
      }
    }
  }

  std::string fail_at_;
  int fail_code_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> session_fd_{-1};
  std::atomic<int> accepted_{0};
  mutable std::mutex mutex_;
  std::string data_;
  std::string rcpt_;
  std::thread thread_;
};

Case make_case() {
  Case c;
  c.case_number = "20261123000000000042";
  c.office_id = "moeckern-buergeramt";
  c.app.message_id = "msg-1";
  c.app.area_id = "150860140140";
  c.app.service_id = "99050012104000";
  c.app.xml = "<antrag><name>Erika Mustermann</name></antrag>";
  c.app.received_at_ms = 1795434814056;
  return c;
}

routing::Office make_office(bool with_certificate) {
  routing::Office office;
  office.id = "moeckern-buergeramt";
  office.name = "Stadt Möckern";
  if (with_certificate) office.certificate_path = demo_cert().string();
  return office;
}

delivery::Params instance_params(int port, std::map<std::string, std::string> extra = {}) {
  std::map<std::string, std::string> v = {{"server", "127.0.0.1"},
                                          {"port", std::to_string(port)},
                                          {"tls", "none"},
                                          {"from", "hub@hub.example"},
                                          {"connect_timeout_ms", "2000"}};
  for (auto& [k, val] : extra) v[k] = val;
  return delivery::Params(v);
}

struct Bound {
  std::unique_ptr<SmtpAdapter> adapter;
  std::shared_ptr<const delivery::ChannelBinding> binding;
};

Bound make_bound(int port, const routing::Office& office, const crypto::Recipient* recipient,
                 std::map<std::string, std::string> channel = {{"to", "post@amt.example"}}) {
  Bound b;
  auto adapter = SmtpAdapter::create(instance_params(port));
  EXPECT_TRUE(adapter.is_ok()) << adapter.status().message();
  if (!adapter) return b;
  b.adapter = std::move(*adapter);
  const delivery::Params params(channel);
  auto binding = b.adapter->bind({office, recipient, params});
  EXPECT_TRUE(binding.is_ok()) << binding.status().message();
  if (binding) b.binding = *binding;
  return b;
}

DeliveryResult deliver(Bound& b, const Case& c, const routing::Office& office,
                       const crypto::Recipient* recipient = nullptr,
                       std::chrono::milliseconds budget = std::chrono::seconds(10)) {
  const delivery::Params params;
  const DeliveryRequest request{
      c, office, params, b.binding.get(), recipient, 1, std::chrono::steady_clock::now() + budget};
  return b.adapter->deliver(request);
}

TEST(SmtpAdapter, IsRegisteredAsBuiltIn) {
  delivery::AdapterRegistry registry;
  ASSERT_OK(register_builtin_adapters(registry));
  const delivery::AdapterType* t = registry.find("smtp");
  ASSERT_NE(t, nullptr);
  for (const auto& p : t->params) EXPECT_FALSE(p.description.empty()) << p.name;
}

TEST(SmtpAdapter, DeliversAndTheServerGetsTheMail) {
  ScriptedSmtpServer server("", 0);
  const auto office = make_office(false);
  Bound b = make_bound(server.port(), office, nullptr);
  const DeliveryResult r = deliver(b, make_case(), office);
  ASSERT_EQ(r.outcome, Outcome::kDelivered) << r.error;
  EXPECT_EQ(server.accepted_mails(), 1);
  EXPECT_EQ(server.last_rcpt(), "RCPT TO:<post@amt.example>");
  EXPECT_NE(server.last_data().find("X-OZG-Case-Number: 20261123000000000042\r\n"),
            std::string::npos);
  EXPECT_EQ(server.last_data().find("Mustermann"), std::string::npos);
  // A second mail on the same thread reuses the connection and still arrives.
  const DeliveryResult again = deliver(b, make_case(), office);
  ASSERT_EQ(again.outcome, Outcome::kDelivered) << again.error;
  EXPECT_EQ(server.accepted_mails(), 2);
}

struct StageCase {
  const char* fail_at;
  int code;
  Outcome outcome;
  const char* error;
};

TEST(SmtpAdapter, MapsRepliesByStage) {
  const StageCase cases[] = {
      {"MAIL", 451, Outcome::kRetryLater, "SMTP 451 at MAIL"},
      {"MAIL", 550, Outcome::kRejected, "SMTP 550 at MAIL"},
      // Authentication required: our session, not the message.
      {"MAIL", 530, Outcome::kRetryLater, "SMTP 530 at MAIL"},
      {"RCPT", 452, Outcome::kRetryLater, "SMTP 452 at RCPT"},
      {"RCPT", 550, Outcome::kRejected, "SMTP 550 at RCPT"},
      {"DATA", 451, Outcome::kRetryLater, "SMTP 451 at DATA"},
      {"DATA", 554, Outcome::kRejected, "SMTP 554 at DATA"},
      {"END", 451, Outcome::kRetryLater, "SMTP 451 after DATA"},
      {"END", 552, Outcome::kRejected, "SMTP 552 after DATA"},
      // The session, not the message: an operator can fix it, so it is retried.
      {"EHLO", 554, Outcome::kRetryLater, "SMTP 554 at EHLO"},
  };
  const auto office = make_office(false);
  for (const auto& sc : cases) {
    SCOPED_TRACE(std::string(sc.fail_at) + " " + std::to_string(sc.code));
    ScriptedSmtpServer server(sc.fail_at, sc.code);
    Bound b = make_bound(server.port(), office, nullptr);
    const DeliveryResult r = deliver(b, make_case(), office);
    EXPECT_EQ(r.outcome, sc.outcome);
    EXPECT_EQ(r.error, sc.error);
    EXPECT_EQ(server.accepted_mails(), 0);
  }
}

TEST(SmtpAdapter, AServerThatClosedTheIdleConnectionGetsTheNextMailOnANewOne) {
  ScriptedSmtpServer server("CLOSE", 0);
  const auto office = make_office(false);
  Bound b = make_bound(server.port(), office, nullptr);
  for (int i = 1; i <= 3; ++i) {
    const DeliveryResult r = deliver(b, make_case(), office);
    ASSERT_EQ(r.outcome, Outcome::kDelivered) << r.error;
    EXPECT_EQ(server.accepted_mails(), i);
  }
}

TEST(SmtpAdapter, ASilentServerTimesOutByTheDeadline) {
  ScriptedSmtpServer server("SILENT", 0);
  const auto office = make_office(false);
  Bound b = make_bound(server.port(), office, nullptr);
  const auto start = std::chrono::steady_clock::now();
  const DeliveryResult r = deliver(b, make_case(), office, nullptr, std::chrono::milliseconds(300));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.outcome, Outcome::kRetryLater);
  EXPECT_EQ(r.error, "SMTP timeout at connect");
  EXPECT_LT(elapsed, std::chrono::milliseconds(1500));
}

TEST(SmtpAdapter, ConnectionRefusedIsRetriedWithoutTheAddress) {
  int port = 0;
  {
    ScriptedSmtpServer gone("", 0);  // a port that was free a moment ago
    port = gone.port();
  }
  const auto office = make_office(false);
  Bound b = make_bound(port, office, nullptr);
  const DeliveryResult r = deliver(b, make_case(), office);
  EXPECT_EQ(r.outcome, Outcome::kRetryLater);
  EXPECT_TRUE(r.error.starts_with("SMTP connect failed")) << r.error;
  EXPECT_EQ(r.error.find("post@amt.example"), std::string::npos);
}

TEST(SmtpAdapter, SmimeChannelNeedsACertificateAtBind) {
  auto adapter = SmtpAdapter::create(instance_params(2525));
  ASSERT_OK(adapter);
  const auto office = make_office(false);
  const delivery::Params params({{"to", "post@amt.example"}, {"mode", "smime"}});
  auto binding = (*adapter)->bind({office, nullptr, params});
  ASSERT_FALSE(binding.is_ok());
  EXPECT_NE(binding.status().message().find("certificate"), std::string::npos);
}

TEST(SmtpAdapter, SmimeFailsClosedWithoutTheRecipientAtDelivery) {
  ScriptedSmtpServer server("", 0);
  auto recipient = crypto::Recipient::from_pem_file(demo_cert().string());
  ASSERT_OK(recipient);
  const auto office = make_office(true);
  Bound b = make_bound(server.port(), office, recipient->get(),
                       {{"to", "post@amt.example"}, {"mode", "smime"}});
  // The certificate is gone at delivery time (e.g. a half-applied reload): nothing is sent.
  const DeliveryResult r = deliver(b, make_case(), office, nullptr);
  EXPECT_EQ(r.outcome, Outcome::kRetryLater);
  EXPECT_EQ(server.accepted_mails(), 0);
  // With it, the mail goes out encrypted.
  const DeliveryResult ok = deliver(b, make_case(), office, recipient->get());
  ASSERT_EQ(ok.outcome, Outcome::kDelivered) << ok.error;
  EXPECT_EQ(server.accepted_mails(), 1);
  EXPECT_NE(server.last_data().find("smime-type=authEnveloped-data"), std::string::npos);
  EXPECT_EQ(server.last_data().find("Mustermann"), std::string::npos);
}

TEST(SmtpAdapter, RejectsBadConfiguration) {
  TempDir tmp;
  const auto error = [](std::map<std::string, std::string> extra) {
    auto a = SmtpAdapter::create(instance_params(25, std::move(extra)));
    return a.is_ok() ? std::string() : a.status().message();
  };
  EXPECT_NE(error({{"from", "Hub <hub@hub.example>"}}), "");
  EXPECT_NE(error({{"server", "mail.example/evil"}}), "");
  // AUTH over plaintext would leak the password.
  write_file(tmp.path() / "pw", "secret\n");
  EXPECT_NE(error({{"username", "hub"}, {"password_file", (tmp.path() / "pw").string()}})
                .find("tls: none"),
            std::string::npos);
  EXPECT_NE(error({{"tls", "required"},
                   {"username", "hub"},
                   {"password_file", (tmp.path() / "missing").string()}}),
            "");
  EXPECT_NE(error({{"tls", "required"}, {"username", "hub"}}), "");
  EXPECT_NE(error({{"tls", "required"}, {"ca_file", (tmp.path() / "missing.pem").string()}}), "");
  EXPECT_EQ(error({{"tls", "required"},
                   {"username", "hub"},
                   {"password_file", (tmp.path() / "pw").string()}}),
            "");

  auto adapter = SmtpAdapter::create(instance_params(25));
  ASSERT_OK(adapter);
  const auto office = make_office(false);
  for (const auto& bad : std::vector<std::map<std::string, std::string>>{
           {{"to", "Poststelle <post@amt.example>"}},
           {{"to", "post@amt.example"}, {"subject_prefix", "x\r\nBcc: a@b.c"}},
           {{"to", "post@amt.example"}, {"pickup_hint", "line\nbreak"}}}) {
    const delivery::Params params(bad);
    EXPECT_FALSE((*adapter)->bind({office, nullptr, params}).is_ok());
  }
}

}  // namespace
}  // namespace ozghub::adapters
