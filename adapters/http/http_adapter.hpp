// The HTTP Fachverfahren adapter (type `http`), DESIGN.md section 3.
//
// Each delivery is one POST to the channel's `url`, over HTTP or HTTPS (libcurl):
//   body     the application XML, or the result of the channel's XSLT `stylesheet`; checked
//            against `validate_output` (an XSD) when set; CMS EnvelopedData (DER, as the transfer
//            directory writes it) when the office has a certificate
//   headers  Idempotency-Key: <case number> (the same on every attempt and on a replay),
//            Content-Type (`content_type`, or application/pkcs7-mime when encrypted),
//            X-OZG-Case-Number, X-OZG-Service (LeiKa key), X-OZG-Area (ARS)
// Outcomes: 2xx delivered; 408, 429, 5xx retried, honouring Retry-After; timeouts, connect, TLS
// and other transport errors retried; 3xx (never followed) and other 4xx rejected; a failing
// transformation or output validation rejected (retrying gives the same result). Error texts
// name the status or the failure, never the response body nor application data.
//
// Attachments: this adapter sends the XML only. A case with attachments is rejected unless the
// channel says `attachments: omit` (the office's software fetches or does not need them).
//
// TLS: peers are always verified (`ca_file` replaces the system's trust store); mTLS with
// `client_certificate` + `client_key` (PEM). Proxies are used only when `proxy` is set: the
// environment's http_proxy/https_proxy are ignored.
//
// Lifecycle and ownership. create() makes one HttpAdapter per configured instance. bind() builds
// one HttpBinding per (office, channel): parsed parameters, the compiled stylesheet and the
// output schema, so a stylesheet is compiled once per channel and a compile error fails the
// bind (the routing directory is not applied). Bindings are immutable (the output schema's
// validator pool is internally synchronised) and shared by concurrent deliveries.
//
// Thread-safety. deliver() runs on many threads at once. Each thread keeps one curl easy handle
// (thread_local, reset before every use) so connections to an office are reused across
// deliveries; libcurl's process initialisation runs once, before any handle exists. No method
// throws.
#pragma once

#include <memory>
#include <string>

#include "delivery/adapter.hpp"
#include "http/xslt_transform.hpp"

namespace ozghub::adapters::http {

// What bind() prepares for one channel.
struct HttpBinding final : delivery::ChannelBinding {
  std::string url;
  std::string content_type;
  std::string ca_file;             // empty: the system's trust store
  std::string client_certificate;  // with client_key, or both empty
  std::string client_key;
  std::string proxy;  // empty: no proxy at all
  enum class Attachments { kReject, kOmit, kMultipart };
  Attachments attachments = Attachments::kReject;
  std::shared_ptr<const Stylesheet> stylesheet;  // null: send the application as it is
  std::shared_ptr<OutputSchema> output_schema;   // null: no output validation
};

class HttpAdapter final : public delivery::Adapter {
 public:
  // The type as registered: channel/either keys url, stylesheet, validate_output, content_type,
  // attachments, ca_file, client_certificate, client_key, proxy.
  static delivery::AdapterType type();

  HttpAdapter();

  Result<std::shared_ptr<const delivery::ChannelBinding>> bind(
      const delivery::ChannelContext& channel) override;
  delivery::DeliveryResult deliver(const delivery::DeliveryRequest& request) noexcept override;

  // The body to send: the application, transformed and validated as the binding says (before
  // encryption). Rejections are deterministic failures. Exposed for tests.
  static Result<std::string> prepare_body(const HttpBinding& binding,
                                          const delivery::DeliveryRequest& request);

 private:
  delivery::DeliveryResult post(const HttpBinding& binding,
                                const delivery::DeliveryRequest& request, const std::string& body,
                                const std::string& content_type);
};

}  // namespace ozghub::adapters::http
