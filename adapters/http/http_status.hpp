// How the HTTP adapter judges one attempt: the response status (with its Retry-After) or the
// transport error, mapped onto the host's outcomes (delivery/adapter.hpp). DESIGN.md section 3:
// 2xx delivered; 408, 429, 5xx and network errors retried; other 4xx dead letters. Redirects are
// never followed: a 3xx is rejected (the configured URL is wrong, and following it could send an
// application somewhere nobody configured).
//
// Error texts name the status or the transport failure only ("HTTP 503", "connect failed:
// Connection refused"), never a response body or anything from the application.
//
// Pure functions, thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "delivery/adapter.hpp"

namespace ozghub::adapters::http {

// `s` without leading blanks and trailing blanks and line ends (a header value, curl's texts).
std::string_view trim(std::string_view s);

// The longest wait a Retry-After may ask for; longer values are cut to this (the host applies
// the same ceiling; it honours a Retry-After beyond its own retry.max_backoff_ms).
inline constexpr std::chrono::milliseconds kMaxRetryAfter = std::chrono::hours(24);

// Parses a Retry-After value (RFC 9110 section 10.2.3): delta-seconds ("120") or an HTTP-date
// ("Wed, 21 Oct 2015 07:28:00 GMT", also the obsolete RFC 850 and asctime forms). A date in the
// past gives zero. Returns nullopt for anything else (negative, fractional, garbage).
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);

// Maps a final HTTP status. `retry_after` is the parsed Retry-After header, used only for the
// statuses that are retried.
delivery::DeliveryResult classify_status(long status,
                                         std::optional<std::chrono::milliseconds> retry_after);

// What went wrong below HTTP, as the transport reports it.
enum class TransportFailure {
  kTimeout,         // the attempt's deadline passed
  kConnect,         // TCP connect failed (refused, unreachable)
  kResolve,         // the host name does not resolve
  kTls,             // TLS handshake or certificate verification failed
  kConnectionLost,  // sent or received nothing / connection reset mid-exchange
  kOther,
};

// Every transport failure is retried: the office's endpoint may come back. `detail` is a short
// transport-level text (an errno string or the TLS library's message), free of personal data.
delivery::DeliveryResult classify_transport(TransportFailure failure, std::string_view detail,
                                            long timeout_ms);

}  // namespace ozghub::adapters::http
