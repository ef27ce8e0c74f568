#include "http/http_status.hpp"

#include <curl/curl.h>

#include <cctype>
#include <string>

namespace ozghub::adapters::http {

using delivery::DeliveryResult;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now) {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  value = trim(value);
  if (value.empty()) return std::nullopt;
  if (std::isdigit(static_cast<unsigned char>(value.front())) != 0) {
    std::int64_t secs = 0;
    for (char c : value) {
      if (std::isdigit(static_cast<unsigned char>(c)) == 0) return std::nullopt;
      secs = secs * 10 + (c - '0');
      if (secs > kMaxRetryAfter.count() / 1000) secs = kMaxRetryAfter.count() / 1000;
    }
    return std::chrono::duration_cast<milliseconds>(seconds(secs));
  }
  // An HTTP-date always starts with a day name; curl_getdate accepts the three forms of
  // RFC 9110 and is thread-safe. Bounded, so an absurd header never reaches the parser.
  if (value.size() > 64 || std::isalpha(static_cast<unsigned char>(value.front())) == 0) {
    return std::nullopt;
  }
  const std::string copy(value);
  const time_t when = curl_getdate(copy.c_str(), nullptr);
  if (when == -1) return std::nullopt;
  const auto delta = std::chrono::system_clock::from_time_t(when) - now;
  if (delta <= std::chrono::system_clock::duration::zero()) return milliseconds(0);
  const auto ms = std::chrono::duration_cast<milliseconds>(delta);
  return ms > kMaxRetryAfter ? kMaxRetryAfter : ms;
}

DeliveryResult classify_status(long status, std::optional<std::chrono::milliseconds> retry_after) {
  const std::string text = "HTTP " + std::to_string(status);
  if (status >= 200 && status <= 299) return DeliveryResult::delivered();
  if (status == 408 || status == 429 || (status >= 500 && status <= 599)) {
    return DeliveryResult::retry_later(text, retry_after);
  }
  if (status >= 300 && status <= 399) {
    return DeliveryResult::rejected(text + ": redirects are not followed; configure the final URL");
  }
  if (status >= 400 && status <= 499) return DeliveryResult::rejected(text);
  // 1xx as a final answer, or nonsense: the peer misbehaves; it may recover.
  return DeliveryResult::retry_later(text + ": unexpected status");
}

DeliveryResult classify_transport(TransportFailure failure, std::string_view detail,
                                  long timeout_ms) {
  const auto with = [detail](std::string prefix) {
    if (!detail.empty()) {
      prefix += ": ";
      prefix += detail;
    }
    return prefix;
  };
  switch (failure) {
    case TransportFailure::kTimeout:
      return DeliveryResult::retry_later("timed out after " + std::to_string(timeout_ms) + " ms");
    case TransportFailure::kConnect:
      return DeliveryResult::retry_later(with("connect failed"));
    case TransportFailure::kResolve:
      return DeliveryResult::retry_later(with("cannot resolve host"));
    case TransportFailure::kTls:
      return DeliveryResult::retry_later(with("TLS error"));
    case TransportFailure::kConnectionLost:
      return DeliveryResult::retry_later(with("connection lost"));
    case TransportFailure::kOther:
      break;
  }
  return DeliveryResult::retry_later(with("transport error"));
}

}  // namespace ozghub::adapters::http
