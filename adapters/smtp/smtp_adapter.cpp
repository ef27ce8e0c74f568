#include "smtp/smtp_adapter.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <mutex>
#include <new>
#include <string_view>
#include <utility>

#include "shared/curl.hpp"

namespace ozghub::adapters {
namespace {

using delivery::DeliveryResult;
using delivery::ParamSpec;
using smtp::MailMode;

constexpr std::size_t kMaxPrefixBytes = 64;
constexpr std::size_t kMaxHintBytes = 300;
constexpr std::size_t kMaxFromNameBytes = 64;
// An idle connection older than this is not reused; relays drop idle sessions after a minute or
// so and a fresh connection is cheaper than a failed attempt.
constexpr long kMaxConnectionAgeSeconds = 50;

// What the SMTP dialogue reached, learnt from the commands curl sends and the replies it gets.
// Only the command verb and the reply code are looked at: the lines themselves carry addresses
// and, after AUTH, credentials.
struct Trace {
  std::string_view stage = "at connect";
  long last_code = 0;
  // The first 4xx/5xx reply and where it came: curl sends QUIT after it, which moves `stage`.
  std::string_view failed_stage;
  long failed_code = 0;
};

bool starts_with_verb(std::string_view line, std::string_view verb) {
  if (line.size() < verb.size()) return false;
  for (std::size_t i = 0; i < verb.size(); ++i) {
    char c = line[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != verb[i]) return false;
  }
  return line.size() == verb.size() || line[verb.size()] == ' ' || line[verb.size()] == '\r' ||
         line[verb.size()] == '\n';
}

int on_debug(CURL* /*handle*/, curl_infotype type, char* data, std::size_t size, void* userp) {
  auto* trace = static_cast<Trace*>(userp);
  const std::string_view line(data, size);
  if (type == CURLINFO_HEADER_OUT) {
    // AUTH continuation lines (base64 credentials) match none of these and leave the stage.
    static constexpr std::pair<std::string_view, std::string_view> kVerbs[] = {
        {"EHLO", "at EHLO"}, {"HELO", "at EHLO"}, {"STARTTLS", "at STARTTLS"}, {"AUTH", "at AUTH"},
        {"MAIL", "at MAIL"}, {"RCPT", "at RCPT"}, {"DATA", "at DATA"},         {"QUIT", "at QUIT"},
        {"RSET", "at RSET"}, {"NOOP", "at NOOP"},
    };
    for (const auto& [verb, stage] : kVerbs) {
      if (starts_with_verb(line, verb)) {
        trace->stage = stage;
        break;
      }
    }
  } else if (type == CURLINFO_HEADER_IN) {
    if (size >= 3 && line[0] >= '1' && line[0] <= '5' && line[1] >= '0' && line[1] <= '9' &&
        line[2] >= '0' && line[2] <= '9') {
      trace->last_code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
      if (trace->stage == "at connect") trace->stage = "at greeting";
      if (trace->last_code >= 400 && trace->failed_code == 0 && trace->stage != "at QUIT") {
        trace->failed_code = trace->last_code;
        trace->failed_stage = trace->stage;
      }
      // 354: the server wants the data; the next reply is the verdict on the message itself.
      if (trace->stage == "at DATA" && trace->last_code == 354) trace->stage = "after DATA";
    }
  }
  return 0;
}

struct Upload {
  std::string_view data;
  std::size_t pos = 0;
};

std::size_t on_read(char* buffer, std::size_t size, std::size_t nitems, void* userp) {
  auto* upload = static_cast<Upload*>(userp);
  const std::size_t n = std::min(size * nitems, upload->data.size() - upload->pos);
  std::memcpy(buffer, upload->data.data() + upload->pos, n);
  upload->pos += n;
  return n;
}

bool is_message_stage(std::string_view stage) {
  return stage == "at MAIL" || stage == "at RCPT" || stage == "at DATA" || stage == "after DATA";
}

// Maps what curl reports to the host's outcomes. Empirically (curl 7.88): a 4xx or 5xx reply to
// MAIL or RCPT gives CURLE_SEND_ERROR, one after the end of DATA CURLE_WEIRD_SERVER_REPLY, a
// refused AUTH CURLE_LOGIN_DENIED, each with the reply in CURLINFO_RESPONSE_CODE; a server
// without STARTTLS under CURLUSESSL_ALL gives CURLE_USE_SSL_FAILED.
DeliveryResult classify(CURLcode rc, long code, const Trace& trace) {
  if (trace.failed_code != 0 && rc != CURLE_OPERATION_TIMEDOUT) {
    std::string error =
        "SMTP " + std::to_string(trace.failed_code) + " " + std::string(trace.failed_stage);
    // 530 (RFC 4954, authentication required) answers MAIL when the relay wants AUTH and we
    // did not authenticate (no username, or the relay did not offer AUTH): our session, not
    // the message.
    if (trace.failed_code >= 500 && trace.failed_code != 530 &&
        is_message_stage(trace.failed_stage)) {
      return DeliveryResult::rejected(std::move(error));
    }
    return DeliveryResult::retry_later(std::move(error));
  }
  const std::string stage(trace.stage);
  if (code >= 400 && code <= 599 && rc != CURLE_OPERATION_TIMEDOUT) {
    // A reply the trace did not see (should not happen); the stage is the best guess.
    return DeliveryResult::retry_later("SMTP " + std::to_string(code) + " " + stage);
  }
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
      return DeliveryResult::retry_later("SMTP timeout " + stage);
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
      return DeliveryResult::retry_later(std::string("SMTP connect failed: ") +
                                         curl_easy_strerror(rc));
    case CURLE_USE_SSL_FAILED:
      return DeliveryResult::retry_later(
          "SMTP server does not offer STARTTLS, which tls: required demands");
    case CURLE_LOGIN_DENIED:
      return DeliveryResult::retry_later("SMTP AUTH failed " + stage);
    default:
      break;
  }
  if (curl::is_tls_error(rc)) {
    return DeliveryResult::retry_later("SMTP TLS failed " + stage + ": " + curl_easy_strerror(rc));
  }
  return DeliveryResult::retry_later("SMTP " + stage + ": " + curl_easy_strerror(rc));
}

std::string domain_of(const std::string& address) {
  const std::size_t at = address.rfind('@');
  return at == std::string::npos ? std::string() : address.substr(at + 1);
}

bool is_ip_v6_literal(std::string_view s) {
  if (s.find(':') == std::string_view::npos) return false;
  for (const char c : s) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                    c == ':' || c == '.';
    if (!ok) return false;
  }
  return true;
}

Result<std::string> read_password(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::invalid_argument("cannot read password_file " + path);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  if (line.empty()) return Status::invalid_argument("password_file " + path + " is empty");
  return line;
}

}  // namespace

delivery::AdapterType SmtpAdapter::type() {
  delivery::AdapterType t;
  t.name = "smtp";
  t.description =
      "a mail per case to the office's mailbox: a notification without personal data, or the "
      "application as S/MIME for offices with a certificate";
  using K = ParamSpec::Kind;
  using S = ParamSpec::Scope;
  t.params = {
      {"server",
       K::kString,
       S::kInstance,
       true,
       "",
       {},
       0,
       0,
       "the SMTP relay's host name or IP address"},
      {"port",
       K::kInt,
       S::kInstance,
       false,
       "",
       {},
       1,
       65535,
       "TCP port; default 587 (tls: required), 465 (implicit), 25 (none)"},
      {"tls",
       K::kChoice,
       S::kInstance,
       false,
       "required",
       {"required", "implicit", "none"},
       0,
       0,
       "required: STARTTLS mandatory, certificate verified; implicit: smtps; none: plaintext, "
       "only for a relay on this host or a trusted segment (no AUTH then)"},
      {"ca_file",
       K::kPath,
       S::kInstance,
       false,
       "",
       {},
       0,
       0,
       "PEM CA bundle to verify the relay's certificate; default: the system store"},
      {"username",
       K::kString,
       S::kInstance,
       false,
       "",
       {},
       0,
       0,
       "AUTH user name; needs password_file"},
      {"password_file",
       K::kPath,
       S::kInstance,
       false,
       "",
       {},
       0,
       0,
       "file whose first line is the AUTH password (read at startup)"},
      {"from",
       K::kString,
       S::kInstance,
       true,
       "",
       {},
       0,
       0,
       "envelope and header From address, e.g. ozg-hub@kommune.example"},
      {"from_name",
       K::kString,
       S::kInstance,
       false,
       "ozg-hub",
       {},
       0,
       0,
       "display name in the From header"},
      {"helo_domain",
       K::kString,
       S::kInstance,
       false,
       "",
       {},
       0,
       0,
       "name sent with EHLO; default: the domain of from"},
      {"message_id_domain",
       K::kString,
       S::kInstance,
       false,
       "",
       {},
       0,
       0,
       "right-hand side of Message-IDs; default: the domain of from"},
      {"connect_timeout_ms",
       K::kInt,
       S::kInstance,
       false,
       "10000",
       {},
       100,
       600000,
       "time limit to connect (the attempt's deadline bounds the whole dialogue)"},
      {"to",
       K::kString,
       S::kChannel,
       true,
       "",
       {},
       0,
       0,
       "the office's mailbox (an address, no display name)"},
      {"mode",
       K::kChoice,
       S::kEither,
       false,
       "notification",
       {"notification", "smime"},
       0,
       0,
       "notification: plain text without personal data; smime: the application encrypted "
       "for the office's certificate (needs one)"},
      {"subject_prefix",
       K::kString,
       S::kEither,
       false,
       "",
       {},
       0,
       0,
       "text put before the subject, e.g. [OZG]"},
      {"pickup_hint",
       K::kString,
       S::kEither,
       false,
       "",
       {},
       0,
       0,
       "notification mode: where the office finds the application, quoted in the text"},
  };
  t.create = [](const delivery::Params& p) -> Result<std::unique_ptr<delivery::Adapter>> {
    auto adapter = create(p);
    if (!adapter) return adapter.status();
    return std::unique_ptr<delivery::Adapter>(std::move(*adapter));
  };
  return t;
}

Result<std::unique_ptr<SmtpAdapter>> SmtpAdapter::create(const delivery::Params& p) {
  Config c;
  c.server = p.get("server");
  if (!smtp::is_valid_domain(c.server) && !is_ip_v6_literal(c.server)) {
    return Status::invalid_argument("smtp: 'server' must be a host name or IP address");
  }
  const std::string& tls = p.get("tls");
  c.tls = tls == "implicit" ? Tls::kImplicit : tls == "none" ? Tls::kNone : Tls::kRequired;
  c.port = static_cast<int>(p.get_int("port", c.tls == Tls::kImplicit ? 465
                                              : c.tls == Tls::kNone   ? 25
                                                                      : 587));
  c.ca_file = p.get("ca_file");
  if (!c.ca_file.empty()) {
    if (!std::ifstream(c.ca_file)) {
      return Status::invalid_argument("smtp: cannot read ca_file " + c.ca_file);
    }
    if (c.tls == Tls::kNone) {
      return Status::invalid_argument("smtp: ca_file is given but tls is none");
    }
  }
  c.username = p.get("username");
  const std::string& password_file = p.get("password_file");
  if (c.username.empty() != password_file.empty()) {
    return Status::invalid_argument("smtp: username and password_file go together");
  }
  if (!c.username.empty()) {
    if (c.tls == Tls::kNone) {
      return Status::invalid_argument(
          "smtp: AUTH over a plaintext connection (tls: none) would send the password in the "
          "clear; use tls: required or implicit");
    }
    if (!smtp::is_safe_header_text(c.username, 256)) {
      return Status::invalid_argument("smtp: 'username' contains control characters");
    }
    auto password = read_password(password_file);
    if (!password) return Status::invalid_argument("smtp: " + password.status().message());
    c.password = std::move(*password);
  }
  c.from = p.get("from");
  if (!smtp::is_valid_addr_spec(c.from)) {
    return Status::invalid_argument("smtp: 'from' must be a plain address like hub@example.org");
  }
  c.from_name = p.has("from_name") ? p.get("from_name") : "ozg-hub";
  if (!smtp::is_safe_header_text(c.from_name, kMaxFromNameBytes)) {
    return Status::invalid_argument("smtp: 'from_name' must be at most 64 bytes of text");
  }
  c.helo_domain = p.get("helo_domain").empty() ? domain_of(c.from) : p.get("helo_domain");
  if (!smtp::is_valid_domain(c.helo_domain)) {
    return Status::invalid_argument("smtp: 'helo_domain' must be a host name");
  }
  c.message_id_domain =
      p.get("message_id_domain").empty() ? domain_of(c.from) : p.get("message_id_domain");
  if (!smtp::is_valid_domain(c.message_id_domain)) {
    return Status::invalid_argument("smtp: 'message_id_domain' must be a domain name");
  }
  c.connect_timeout_ms = static_cast<long>(p.get_int("connect_timeout_ms", 10000));
  if (Status s = curl::global_init(); !s.is_ok()) return s;
  return std::make_unique<SmtpAdapter>(std::move(c));
}

SmtpAdapter::SmtpAdapter(Config config) : config_(std::move(config)) {
  const bool v6 = is_ip_v6_literal(config_.server);
  url_ = config_.tls == Tls::kImplicit ? "smtps://" : "smtp://";
  url_ += v6 ? "[" + config_.server + "]" : config_.server;
  url_ += ":" + std::to_string(config_.port) + "/" + config_.helo_domain;
}

Result<std::shared_ptr<const delivery::ChannelBinding>> SmtpAdapter::bind(
    const delivery::ChannelContext& channel) {
  const delivery::Params& p = channel.params;
  auto binding = std::make_shared<SmtpChannel>();
  smtp::MailSettings& m = binding->mail;
  m.to = p.get("to");
  if (!smtp::is_valid_addr_spec(m.to)) {
    return Status::invalid_argument(
        "smtp: 'to' must be a plain address like poststelle@kommune.example");
  }
  m.mode = p.get("mode") == "smime" ? MailMode::kSmime : MailMode::kNotification;
  if (m.mode == MailMode::kSmime && channel.recipient == nullptr) {
    return Status::invalid_argument(
        "smtp: mode smime needs the office's certificate, and the office has none");
  }
  m.subject_prefix = p.get("subject_prefix");
  if (!smtp::is_safe_header_text(m.subject_prefix, kMaxPrefixBytes)) {
    return Status::invalid_argument("smtp: 'subject_prefix' must be at most 64 bytes of text");
  }
  m.pickup_hint = p.get("pickup_hint");
  if (!smtp::is_safe_header_text(m.pickup_hint, kMaxHintBytes)) {
    return Status::invalid_argument(
        "smtp: 'pickup_hint' must be at most 300 bytes of text on one line");
  }
  m.from = config_.from;
  m.from_name = config_.from_name;
  m.message_id_domain = config_.message_id_domain;
  m.channel_tag = smtp::channel_tag(channel.office.id, m.to, m.mode);
  return std::shared_ptr<const delivery::ChannelBinding>(std::move(binding));
}

delivery::DeliveryResult SmtpAdapter::deliver(const delivery::DeliveryRequest& request) noexcept {
  try {
    return deliver_mail(request);
  } catch (const std::bad_alloc&) {
    return DeliveryResult::retry_later("smtp: out of memory");
  } catch (...) {
    return DeliveryResult::retry_later("smtp: unexpected internal error");
  }
}

delivery::DeliveryResult SmtpAdapter::deliver_mail(const delivery::DeliveryRequest& request) {
  const auto* channel = dynamic_cast<const SmtpChannel*>(request.binding);
  if (channel == nullptr) return DeliveryResult::retry_later("smtp: channel is not bound");
  const smtp::MailSettings& mail = channel->mail;
  // Fail closed: an smime channel never degrades to plaintext.
  if (mail.mode == MailMode::kSmime && request.recipient == nullptr) {
    return DeliveryResult::retry_later(
        "smtp: S/MIME channel but the office's certificate is not loaded; not sending");
  }
  const auto now = std::chrono::system_clock::now();
  const auto now_s =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  auto message = smtp::build_mail(request.case_, request.office, mail, request.recipient, now_s);
  if (!message) {
    if (message.status().code() == Status::Code::kInvalidArgument) {
      return DeliveryResult::rejected("smtp: " + message.status().message());
    }
    return DeliveryResult::retry_later("smtp: " + message.status().message());
  }
  return send(mail.to, *message, request);
}

delivery::DeliveryResult SmtpAdapter::send(const std::string& to, const std::string& message,
                                           const delivery::DeliveryRequest& request) const {
  const std::string mail_from = "<" + config_.from + ">";
  curl::Slist rcpt(curl_slist_append(nullptr, ("<" + to + ">").c_str()));
  if (!rcpt) return DeliveryResult::retry_later("smtp: out of memory");

  // A reused connection the server has closed meanwhile fails before the first reply; that
  // says nothing about the relay, so such an attempt is repeated once on a fresh connection.
  for (int round = 0;; ++round) {
    CURL* curl = curl::thread_handle();
    if (curl == nullptr) return DeliveryResult::retry_later("smtp: curl_easy_init failed");
    Trace trace;
    Upload upload{message, 0};
    const long remaining = static_cast<long>(request.remaining_ms());
    curl_easy_setopt(curl, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, remaining);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     std::min(remaining, config_.connect_timeout_ms));
    curl_easy_setopt(curl, CURLOPT_MAXAGE_CONN, kMaxConnectionAgeSeconds);
    if (round > 0) curl_easy_setopt(curl, CURLOPT_FRESH_CONNECT, 1L);
    if (config_.tls == Tls::kNone) {
      curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_NONE));
    } else {
      curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
      curl_easy_setopt(curl, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
      if (!config_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, config_.ca_file.c_str());
    }
    if (!config_.username.empty()) {
      curl_easy_setopt(curl, CURLOPT_USERNAME, config_.username.c_str());
      curl_easy_setopt(curl, CURLOPT_PASSWORD, config_.password.c_str());
    }
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, mail_from.c_str());
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt.get());
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
    // Verbose output goes to on_debug only, which reads verbs and reply codes and drops the rest.
    curl_easy_setopt(curl, CURLOPT_DEBUGFUNCTION, on_debug);
    curl_easy_setopt(curl, CURLOPT_DEBUGDATA, &trace);
    curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);

    const CURLcode rc = curl_easy_perform(curl);
    if (rc == CURLE_OK) return DeliveryResult::delivered();
    long code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    if (code == 0) code = trace.last_code;
    long connects = 0;
    curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects);
    // No reply at all on a reused connection: the server closed it while it was idle.
    const bool reused_and_dead =
        connects == 0 && trace.last_code == 0 && rc != CURLE_OPERATION_TIMEDOUT;
    if (round == 0 && reused_and_dead) continue;
    curl::discard_thread_handle();
    return classify(rc, code, trace);
  }
}

}  // namespace ozghub::adapters
