// The interface between the delivery host and an adapter (transfer directory, HTTP, SMTP, ...).
//
// The host owns retries, backoff, dead letters and metrics; an adapter only attempts one
// delivery and says how it went. One Adapter object serves one configured adapter instance and
// is called from several delivery threads at once: deliver() must be thread-safe. It must not
// throw: errors are reported in the DeliveryResult, whose text must be free of personal data
// (say "rename failed: No space left on device", never a file name taken from the application).
//
// A delivery may be attempted again after a crash even if it succeeded (at least once): an
// adapter makes a repeated delivery of the same case number recognisable or harmless.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "common/application.hpp"
#include "crypto/cms.hpp"
#include "routing/routing_directory.hpp"

namespace ozghub::delivery {

struct DeliveryRequest {
  const Case& case_;                   // the committed case, with the application
  const routing::Office& office;       // the responsible office
  const routing::Channel& channel;     // which of the office's channels this delivery is for
  const crypto::Recipient* recipient;  // the office's certificate, or nullptr: plaintext
  int attempt = 1;                     // 1 for the first attempt
};

enum class Outcome { kDelivered, kRetryLater, kRejected };

struct DeliveryResult {
  Outcome outcome = Outcome::kDelivered;
  std::string error;  // free of personal data; empty when delivered
  std::optional<std::chrono::milliseconds> retry_after;

  static DeliveryResult delivered() { return {}; }
  static DeliveryResult retry_later(std::string error,
                                    std::optional<std::chrono::milliseconds> after = {}) {
    return {Outcome::kRetryLater, std::move(error), after};
  }
  static DeliveryResult rejected(std::string error) {
    return {Outcome::kRejected, std::move(error), std::nullopt};
  }
};

class Adapter {
 public:
  virtual ~Adapter() = default;
  // Thread-safe; never throws.
  virtual DeliveryResult deliver(const DeliveryRequest& request) noexcept = 0;
};

}  // namespace ozghub::delivery
