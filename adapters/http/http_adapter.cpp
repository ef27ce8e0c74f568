#include "http/http_adapter.hpp"

#include <curl/curl.h>
#include <strings.h>

#include <filesystem>
#include <mutex>
#include <new>
#include <system_error>

#include "common/text.hpp"
#include "http/http_status.hpp"
#include "http/multipart_body.hpp"
#include "shared/curl.hpp"

namespace ozghub::adapters::http {

using delivery::DeliveryRequest;
using delivery::DeliveryResult;

namespace {

constexpr std::string_view kEncryptedContentType =
    "application/pkcs7-mime; smime-type=enveloped-data";
constexpr std::size_t kMaxHeaderValue = 128;

// ---- libcurl -----------------------------------------------------------------------------------

// What the response tells besides its status.
struct Exchange {
  std::string retry_after;  // of the final response
  std::size_t body_bytes = 0;
};

extern "C" std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  const std::size_t n = size * count;
  auto* ex = static_cast<Exchange*>(user);
  const std::string_view line(data, n);
  constexpr std::string_view kRetryAfter = "retry-after:";
  try {
    if (line.starts_with("HTTP/")) {
      ex->retry_after.clear();  // a new response begins (after a 1xx)
    } else if (line.size() > kRetryAfter.size() &&
               strncasecmp(line.data(), kRetryAfter.data(), kRetryAfter.size()) == 0) {
      ex->retry_after =
          std::string(trim(line.substr(kRetryAfter.size())).substr(0, kMaxHeaderValue));
    }
  } catch (...) {
    return 0;  // aborts the transfer: reported as a transport error
  }
  return n;
}

// The body is never looked at, so it can never end up in a log or an error text.
extern "C" std::size_t on_body(char* /*data*/, std::size_t size, std::size_t count, void* user) {
  static_cast<Exchange*>(user)->body_bytes += size * count;
  return size * count;
}

DeliveryResult transport_result(CURL* h, CURLcode rc, const char* errbuf, long timeout_ms) {
  const std::string detail = errbuf[0] != '\0' ? std::string(trim(errbuf)) : curl_easy_strerror(rc);
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
      return classify_transport(TransportFailure::kTimeout, {}, timeout_ms);
    case CURLE_COULDNT_CONNECT: {
      long os_errno = 0;
      curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
      const std::string why = os_errno != 0
                                  ? std::system_category().message(static_cast<int>(os_errno))
                                  : std::string(curl_easy_strerror(rc));
      return classify_transport(TransportFailure::kConnect, why, timeout_ms);
    }
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return classify_transport(TransportFailure::kResolve, {}, timeout_ms);
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
      // A TLS 1.3 server refuses a client certificate only after the client's handshake is
      // done, so the refusal (an alert) arrives as a read error.
      if (detail.find("SSL") != std::string::npos) {
        return classify_transport(TransportFailure::kTls, detail, timeout_ms);
      }
      return classify_transport(TransportFailure::kConnectionLost, detail, timeout_ms);
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
      return classify_transport(TransportFailure::kConnectionLost, detail, timeout_ms);
    default:
      if (curl::is_tls_error(rc))
        return classify_transport(TransportFailure::kTls, detail, timeout_ms);
      return classify_transport(TransportFailure::kOther, detail, timeout_ms);
  }
}

// ---- Parameters --------------------------------------------------------------------------------

bool has_http_scheme(std::string_view url, bool& https) {
  https = url.size() > 8 && strncasecmp(url.data(), "https://", 8) == 0;
  return https || (url.size() > 7 && strncasecmp(url.data(), "http://", 7) == 0);
}

Status readable_file(const std::string& key, const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Status::not_found("'" + key + "' " + path + ": not a readable file");
  }
  return Status::ok();
}

}  // namespace

delivery::AdapterType HttpAdapter::type() {
  using delivery::ParamSpec;
  using K = ParamSpec::Kind;
  constexpr auto kEither = ParamSpec::Scope::kEither;
  delivery::AdapterType t;
  t.name = "http";
  t.description =
      "POST to a Fachverfahren's HTTP(S) endpoint with an Idempotency-Key, optionally "
      "XSLT-transformed and validated; encrypted for offices with a certificate";
  t.params = {
      {"url",
       K::kString,
       kEither,
       true,
       "",
       {},
       0,
       0,
       "the endpoint, http:// or https://; redirects are not followed"},
      {"stylesheet",
       K::kPath,
       kEither,
       false,
       "",
       {},
       0,
       0,
       "XSLT 1.0 applied to the application before sending; compiled once per channel"},
      {"validate_output",
       K::kPath,
       kEither,
       false,
       "",
       {},
       0,
       0,
       "XSD the body must satisfy before it is sent; a violation is a dead letter"},
      {"content_type",
       K::kString,
       kEither,
       false,
       "application/xml",
       {},
       0,
       0,
       "Content-Type of an unencrypted body"},
      {"attachments",
       K::kChoice,
       kEither,
       false,
       "reject",
       {"reject", "omit", "multipart"},
       0,
       0,
       "reject: the body is the XML, cases with attachments are dead letters; omit: the XML "
       "without them; multipart: multipart/form-data with parts application and attachment"},
      {"ca_file",
       K::kPath,
       kEither,
       false,
       "",
       {},
       0,
       0,
       "PEM CA certificates to verify the endpoint with, instead of the system's"},
      {"client_certificate",
       K::kPath,
       kEither,
       false,
       "",
       {},
       0,
       0,
       "PEM client certificate for mutual TLS (with client_key)"},
      {"client_key",
       K::kPath,
       kEither,
       false,
       "",
       {},
       0,
       0,
       "PEM private key of client_certificate, unencrypted"},
      {"proxy",
       K::kString,
       kEither,
       false,
       "",
       {},
       0,
       0,
       "proxy URL; without it no proxy is used (the environment's are ignored)"},
  };
  t.create =
      [](const delivery::Params& /*instance*/) -> Result<std::unique_ptr<delivery::Adapter>> {
    return std::unique_ptr<delivery::Adapter>(std::make_unique<HttpAdapter>());
  };
  return t;
}

HttpAdapter::HttpAdapter() {
  (void)curl::global_init();  // a failure shows as a failed curl_easy_init per delivery
  ensure_xslt_library();
}

Result<std::shared_ptr<const delivery::ChannelBinding>> HttpAdapter::bind(
    const delivery::ChannelContext& channel) {
  try {
    const delivery::Params& p = channel.params;
    auto b = std::make_shared<HttpBinding>();
    b->url = p.get("url");
    bool https = false;
    if (!has_http_scheme(b->url, https)) {
      return Status::invalid_argument("'url' must start with http:// or https://");
    }
    b->content_type = p.get("content_type");
    if (b->content_type.empty()) b->content_type = "application/xml";
    if (b->content_type.find_first_of("\r\n") != std::string::npos) {
      return Status::invalid_argument("'content_type' must be one line");
    }
    const std::string& mode = p.get("attachments");
    b->attachments = mode == "omit"        ? HttpBinding::Attachments::kOmit
                     : mode == "multipart" ? HttpBinding::Attachments::kMultipart
                                           : HttpBinding::Attachments::kReject;
    b->ca_file = p.get("ca_file");
    b->client_certificate = p.get("client_certificate");
    b->client_key = p.get("client_key");
    b->proxy = p.get("proxy");
    if (b->client_certificate.empty() != b->client_key.empty()) {
      return Status::invalid_argument("'client_certificate' and 'client_key' go together");
    }
    if (!https && (!b->client_certificate.empty() || !b->ca_file.empty())) {
      return Status::invalid_argument("'ca_file' and 'client_certificate' need an https:// url");
    }
    for (const char* key : {"ca_file", "client_certificate", "client_key"}) {
      if (const std::string& v = p.get(key); !v.empty()) {
        if (Status s = readable_file(key, v); !s.is_ok()) return s;
      }
    }
    if (const std::string& path = p.get("stylesheet"); !path.empty()) {
      auto compiled = Stylesheet::compile(path);
      if (!compiled.is_ok()) return compiled.status();
      b->stylesheet = std::move(*compiled);
    }
    if (const std::string& path = p.get("validate_output"); !path.empty()) {
      auto schema = OutputSchema::load(path);
      if (!schema.is_ok()) return schema.status();
      b->output_schema = std::move(*schema);
    }
    return std::shared_ptr<const delivery::ChannelBinding>(std::move(b));
  } catch (const std::bad_alloc&) {
    return Status::internal("out of memory binding an http channel");
  } catch (...) {
    return Status::internal("unexpected failure binding an http channel");
  }
}

Result<std::string> HttpAdapter::prepare_body(const HttpBinding& binding,
                                              const DeliveryRequest& request) {
  const Case& c = request.case_;
  std::string body;
  if (binding.stylesheet) {
    const std::vector<XsltParam> params = {
        {"case-number", c.case_number},
        {"received-at", text::iso8601_utc_ms(c.app.received_at_ms)},
        {"office-id", request.office.id},
        {"service-id", c.app.service_id},
        {"area-id", c.app.area_id},
    };
    auto out = binding.stylesheet->transform(c.app.xml, params);
    if (!out.is_ok()) return out.status();
    body = std::move(*out);
  } else {
    body = c.app.xml;
  }
  if (binding.output_schema) {
    if (Status s = binding.output_schema->validate(body); !s.is_ok()) return s;
  }
  return body;
}

DeliveryResult HttpAdapter::deliver(const DeliveryRequest& request) noexcept {
  try {
    const auto* binding = dynamic_cast<const HttpBinding*>(request.binding);
    if (binding == nullptr) return DeliveryResult::retry_later("http channel is not bound");
    const auto& attachments = request.case_.app.attachments;
    if (!attachments.empty() && binding->attachments == HttpBinding::Attachments::kReject) {
      return DeliveryResult::rejected(
          "case has " + std::to_string(attachments.size()) +
          " attachment(s); the http channel sends the XML only (see its 'attachments' key)");
    }
    // Fail closed: an office that should get ciphertext never gets plaintext.
    if (!request.office.certificate_path.empty() && request.recipient == nullptr) {
      return DeliveryResult::retry_later("office certificate not loaded; not sending plaintext");
    }
    auto body = prepare_body(*binding, request);
    if (!body.is_ok()) {
      // A transformation or validation failure repeats on every attempt; running out of memory
      // may not.
      if (body.status().code() == Status::Code::kInternal) {
        return DeliveryResult::retry_later(body.status().message());
      }
      return DeliveryResult::rejected(body.status().message());
    }
    std::string content_type = binding->content_type;
    if (binding->attachments == HttpBinding::Attachments::kMultipart) {
      auto multipart = form_data(*body, binding->content_type, attachments);
      content_type = std::move(multipart.content_type);
      *body = std::move(multipart.body);
      if (request.recipient != nullptr) {
        // Encrypted, the body is a whole MIME entity, so its boundary travels inside.
        body->insert(0, "Content-Type: " + content_type + "\r\n\r\n");
      }
    }
    if (request.recipient != nullptr) {
      auto encrypted = crypto::encrypt(*body, *request.recipient);
      if (!encrypted.is_ok()) {
        return DeliveryResult::retry_later("encryption failed: " + encrypted.status().message());
      }
      return post(*binding, request, *encrypted, std::string(kEncryptedContentType));
    }
    return post(*binding, request, *body, content_type);
  } catch (const std::bad_alloc&) {
    return DeliveryResult::retry_later("out of memory");
  } catch (...) {
    return DeliveryResult::retry_later("unexpected failure in the http adapter");
  }
}

DeliveryResult HttpAdapter::post(const HttpBinding& binding, const DeliveryRequest& request,
                                 const std::string& body, const std::string& content_type) {
  CURL* h = curl::thread_handle();
  if (h == nullptr) return DeliveryResult::retry_later("cannot create a curl handle");

  const Case& c = request.case_;
  curl::Slist headers;
  for (const std::string& line :
       {"Content-Type: " + content_type, "Idempotency-Key: " + c.case_number,
        "X-OZG-Case-Number: " + c.case_number, "X-OZG-Service: " + c.app.service_id,
        "X-OZG-Area: " + c.app.area_id,
        // No "Expect: 100-continue" round trip before larger bodies.
        std::string("Expect:")}) {
    // Returns the list's head, or null (the list is left intact) when out of memory.
    curl_slist* head = curl_slist_append(headers.get(), line.c_str());
    if (head == nullptr) return DeliveryResult::retry_later("out of memory");
    (void)headers.release();
    headers.reset(head);
  }

  const long timeout_ms = static_cast<long>(request.remaining_ms());
  char errbuf[CURL_ERROR_SIZE] = {};
  Exchange exchange;
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_URL, binding.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_USERAGENT, "ozg-hub");
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &exchange);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &exchange);
  curl_easy_setopt(h, CURLOPT_PROXY, binding.proxy.c_str());
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!binding.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, binding.ca_file.c_str());
  if (!binding.client_certificate.empty()) {
    curl_easy_setopt(h, CURLOPT_SSLCERT, binding.client_certificate.c_str());
    curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(h, CURLOPT_SSLKEY, binding.client_key.c_str());
    curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
  }

  const CURLcode rc = curl_easy_perform(h);
  // The handle keeps pointers to this frame's buffers; drop them before returning.
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  if (rc != CURLE_OK) return transport_result(h, rc, errbuf, timeout_ms);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  std::optional<std::chrono::milliseconds> retry_after;
  if (!exchange.retry_after.empty()) {
    retry_after = parse_retry_after(exchange.retry_after, std::chrono::system_clock::now());
  }
  return classify_status(status, retry_after);
}

}  // namespace ozghub::adapters::http
