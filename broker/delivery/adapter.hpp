// The one adapter interface: how the delivery host talks to every adapter type, the built-in
// ones (transfer directory, SMTP, HTTP) directly and vendors' plugins through the C ABI bridge
// (include/ozghub/adapter_abi.h, delivery/plugin_adapter.hpp), which maps onto exactly this.
//
// Lifecycle
//   1. An AdapterType is registered by name with its declared configuration schema (ParamSpec).
//   2. For every entry under `adapters:` in the main configuration the host validates the
//      entry's keys against the schema and calls AdapterType::create once: one Adapter object
//      per configured instance.
//   3. For every channel of every office that names the instance, the host merges the channel's
//      `params` over the instance's (only keys the schema allows in channels), validates them,
//      and calls Adapter::bind once. Bindings are made again on every routing reload; a failed
//      bind means the new directory is not applied.
//   4. Delivery threads call Adapter::deliver for each (case, channel) to deliver.
//   5. At shutdown the host stops calling deliver, drops the bindings, then destroys the Adapter.
//
// Responsibilities. The host owns retries, backoff, dead letters, the attempt deadline, the
// concurrency limit per instance (`concurrency`), and the per-instance metrics. An adapter only
// attempts one delivery and says how it went: delivered, retry later (optionally after a given
// time), or rejected (the delivery goes to the dead letters). The error text must be free of
// personal data: say "SMTP 452 at RCPT", never a name or file name taken from the application.
//
// At least once. A delivery may be attempted again after a crash even if it succeeded, and an
// operator may replay a dead letter: an adapter makes a repeated delivery of the same case number
// recognisable (HTTP Idempotency-Key, Message-ID) or harmless (the transfer directory).
//
// Thread-safety. create() and bind() run on one thread at a time (startup, reload), possibly
// while deliver() runs on other threads with older bindings. deliver() is called from up to
// `concurrency` threads at once and must be thread-safe. No method may throw.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/application.hpp"
#include "common/status.hpp"
#include "crypto/cms.hpp"
#include "routing/routing_directory.hpp"

namespace ozghub::delivery {

// One key of an adapter type's configuration schema.
struct ParamSpec {
  enum class Kind {
    kString,
    kPath,    // a file or folder; relative paths are resolved against the declaring file
    kInt,     // a decimal integer, checked against [min, max]
    kBool,    // true or false
    kChoice,  // one of `choices`
  };
  enum class Scope {
    kInstance,  // only in the adapter's entry in the main configuration
    kChannel,   // only in a channel's `params` in the routing directory
    kEither,    // in either; a channel's value overrides the instance's
  };
  std::string name;
  Kind kind = Kind::kString;
  Scope scope = Scope::kInstance;
  bool required = false;      // required after merging instance and channel (checked at bind)
  std::string default_value;  // used when neither gives a value; "" = unset
  std::vector<std::string> choices;  // kChoice
  std::int64_t min = 0;              // kInt
  std::int64_t max = INT64_MAX;      // kInt
  std::string description;           // one line, for --check-config and generated docs
};

// Validated parameter values: defaults applied, paths absolute. Immutable; cheap to read.
class Params {
 public:
  Params() = default;
  explicit Params(const std::map<std::string, std::string>& values)
      : values_(values.begin(), values.end()) {}

  bool has(std::string_view name) const { return values_.find(name) != values_.end(); }
  // The value, or "" when unset. Valid for the lifetime of this Params.
  const std::string& get(std::string_view name) const;
  // For kInt and kBool keys (validated already, so these never fail for declared keys).
  std::int64_t get_int(std::string_view name, std::int64_t fallback = 0) const;
  bool get_bool(std::string_view name, bool fallback = false) const;
  const std::map<std::string, std::string, std::less<>>& all() const { return values_; }

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

// What an adapter learns about a channel when it is bound.
struct ChannelContext {
  const routing::Office& office;
  const crypto::Recipient* recipient;  // the office's certificate, or nullptr
  const Params& params;                // instance params with the channel's merged over them
};

// Adapter-defined state for one (office, channel): parsed parameters, a compiled stylesheet, a
// connection pool. Shared by every delivery on that channel while its routing snapshot lives;
// read concurrently, so either immutable or internally synchronised.
class ChannelBinding {
 public:
  virtual ~ChannelBinding() = default;
};

struct DeliveryRequest {
  const Case& case_;                   // the committed case, with the application
  const routing::Office& office;       // the responsible office
  const Params& params;                // the channel's merged parameters
  const ChannelBinding* binding;       // what bind() returned for this channel (may be null)
  const crypto::Recipient* recipient;  // the office's certificate, or nullptr: plaintext
  int attempt = 1;                     // 1 for the first attempt
  // The host's time limit for this attempt (`timeout_ms`): an adapter sets its I/O timeouts so
  // that it returns by then. A late result still counts, but the host logs the overrun.
  std::chrono::steady_clock::time_point deadline;

  // Milliseconds left until the deadline, at least 1.
  std::int64_t remaining_ms() const;
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
  // Validates a channel's merged parameters against the office (e.g. S/MIME needs a
  // certificate) and prepares what deliveries on it need. An error message names the problem
  // (the host adds the office and the line). May return a null binding.
  virtual Result<std::shared_ptr<const ChannelBinding>> bind(const ChannelContext& channel) = 0;
  // Attempts one delivery. Thread-safe; never throws.
  virtual DeliveryResult deliver(const DeliveryRequest& request) noexcept = 0;
};

// A registered adapter type.
struct AdapterType {
  std::string name;  // what `type:` names in the configuration
  std::string description;
  std::vector<ParamSpec> params;
  // Builds an instance from its validated instance-level parameters (Scope kInstance and
  // kEither keys). Errors are reported as configuration errors.
  std::function<Result<std::unique_ptr<Adapter>>(const Params& instance)> create;
};

}  // namespace ozghub::delivery
