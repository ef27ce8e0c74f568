// Adapter types by name, and the configured adapter instances built from them.
//
// Every instance entry accepts, besides its type's own keys, the keys the host handles itself:
//   concurrency  deliveries this instance runs at once (default: `delivery_threads`)
//   timeout_ms   the deadline of one delivery attempt (default 60000)
// Parameter values are checked against the type's declared schema (delivery/adapter.hpp); every
// error is reported at once with the file and line that declared the key.
//
// Thread-safety: a registry is filled at startup and read-only afterwards. An AdapterMap lives
// as long as the daemon; routing snapshots point into it.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "delivery/adapter.hpp"
#include "routing/routing_directory.hpp"

namespace ozghub::delivery {

class AdapterRegistry {
 public:
  // Registers a type. A name registered already is an error (a plugin cannot replace a
  // built-in type).
  Status add(AdapterType type);
  const AdapterType* find(std::string_view name) const;
  std::vector<std::string> names() const;

 private:
  std::map<std::string, AdapterType, std::less<>> types_;
};

// One configured adapter instance as the host runs it.
struct AdapterSlot {
  std::string name;
  const AdapterType* type = nullptr;
  Params params;  // instance-level keys, validated, defaults applied
  int concurrency = 1;
  std::chrono::milliseconds timeout{60000};
  std::unique_ptr<Adapter> adapter;
};

using AdapterMap = std::map<std::string, std::unique_ptr<AdapterSlot>, std::less<>>;

// Checks every instance entry against its type's schema without creating anything; returns the
// errors as "file:line: text". For the configuration loader, so that one report lists them all.
std::vector<std::string> check_instances(const AdapterRegistry& registry,
                                         const std::vector<config::AdapterInstance>& instances);

// Builds every configured instance. Unknown types, unknown or malformed keys and failures of
// the types' create() are all reported together.
Result<AdapterMap> create_adapters(const AdapterRegistry& registry,
                                   const std::vector<config::AdapterInstance>& instances,
                                   int default_concurrency);

// A channel's parameters: the instance's merged with the channel's own (which must be keys the
// schema allows in channels), defaults applied, required keys checked. Errors name the channel's
// file and line.
Result<Params> channel_params(const AdapterSlot& slot, const routing::Channel& channel);

// The reference of an adapter type's keys, for `ozg-hub --adapter-types` and generated docs.
std::string describe(const AdapterType& type);

}  // namespace ozghub::delivery
