// The SMTP adapter, DESIGN.md section 3: a mail per (case, channel) to the office's mailbox,
// sent with libcurl's SMTP client. The mail is built by smtp/mime_message.hpp.
//
// Configuration (type `smtp`; see type() for the schema and defaults):
//   instance: server, port, tls, ca_file, username, password_file, from, from_name,
//             helo_domain, message_id_domain, connect_timeout_ms
//   channel:  to (the office mailbox, required); mode and subject_prefix, pickup_hint may also
//             be set on the instance and are overridden by the channel
//
// Modes per channel: `notification` (plain text, no personal data; the application reaches the
// office another way) and `smime` (the application and its attachments encrypted for the
// office's certificate, RFC 8551). bind() refuses `smime` for an office without a certificate,
// so such a routing directory is not applied. At delivery time an smime channel without a
// loaded certificate fails closed (retry_later); nothing is ever sent in plaintext instead.
//
// Transport security (`tls`):
//   required  (default) STARTTLS is mandatory (CURLUSESSL_ALL); a server that does not offer it
//             is refused. The certificate is verified against `ca_file` or the system store,
//             and the host name against it. TLS 1.2 or later.
//   implicit  TLS from the first byte (smtps://, usually port 465), verified the same way.
//   none      plaintext SMTP, for a relay on the same host or a trusted segment only: anyone on
//             the path can read the mails and their envelope. AUTH is refused with `none`, so a
//             password never crosses the network in the clear.
// The password is read from `password_file` (first line, trailing CR/LF dropped) once, in
// create(); the configuration never holds it. Change the file and restart to rotate it.
//
// Outcomes. A 4xx reply at any stage, connection failures, timeouts and TLS failures are
// retried (retry_later). A 5xx reply to MAIL FROM, RCPT TO or DATA (the command or the end of
// the data) refuses this very message: rejected, so it goes to the dead letters. A 5xx reply
// earlier in the session (greeting, EHLO, STARTTLS, AUTH), and 530 "authentication required"
// at MAIL, say nothing about the case but about the relay or our credentials, which an operator
// can fix: retry_later, so the host's max_attempts bounds it. Note that curl skips AUTH when
// the relay does not offer it even though a username is configured; such a relay then decides
// itself (usually 530). Error texts name the reply code and the stage only, e.g.
// "SMTP 451 after DATA", never an address or anything from the application.
//
// At least once: the Message-ID is derived from the case number and the channel (mailbox and
// mode), so a mail delivered twice (a timeout after the server took it, a replayed dead letter)
// carries the same Message-ID and can be recognised.
//
// Ownership and threads. An SmtpAdapter owns its configuration (the password included); it
// must outlive deliveries, which the host guarantees. Bindings (SmtpChannel) are immutable and
// shared. deliver() is thread-safe: each delivery thread keeps one CURL easy handle of its own
// (thread_local, cleaned up when the thread ends), so a thread reuses its SMTP connection for the
// next mail while no handle is ever shared between threads. curl_global_init runs once, from
// the first create().
#pragma once

#include <memory>
#include <string>

#include "delivery/adapter.hpp"
#include "smtp/mime_message.hpp"

namespace ozghub::adapters {

class SmtpAdapter final : public delivery::Adapter {
 public:
  enum class Tls { kRequired, kImplicit, kNone };

  struct Config {
    std::string server;  // host name or IP address
    int port = 587;
    Tls tls = Tls::kRequired;
    std::string ca_file;   // PEM CA bundle; "" = the system's
    std::string username;  // "" = no AUTH
    std::string password;
    std::string from;  // envelope and header From
    std::string from_name;
    std::string helo_domain;
    std::string message_id_domain;
    long connect_timeout_ms = 10000;
  };

  // What bind() prepared for one channel. Immutable.
  struct SmtpChannel final : delivery::ChannelBinding {
    smtp::MailSettings mail;
  };

  // The type as registered, named "smtp".
  static delivery::AdapterType type();

  // Validates the instance parameters, reads the password file, initialises libcurl.
  static Result<std::unique_ptr<SmtpAdapter>> create(const delivery::Params& instance);

  explicit SmtpAdapter(Config config);

  Result<std::shared_ptr<const delivery::ChannelBinding>> bind(
      const delivery::ChannelContext& channel) override;
  delivery::DeliveryResult deliver(const delivery::DeliveryRequest& request) noexcept override;

  const Config& config() const { return config_; }

 private:
  delivery::DeliveryResult deliver_mail(const delivery::DeliveryRequest& request);
  delivery::DeliveryResult send(const std::string& to, const std::string& message,
                                const delivery::DeliveryRequest& request) const;

  Config config_;
  std::string url_;  // smtp[s]://host:port/helo_domain
};

}  // namespace ozghub::adapters
