// The routing directory in force, with each office's parsed certificate and each channel bound
// to its adapter instance (validated parameters and the adapter's prepared state).
//
// A snapshot is immutable; a reload builds a complete new one and swaps it in, so every
// application is routed and encrypted against one consistent directory. Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "common/current.hpp"
#include "crypto/cms.hpp"
#include "delivery/adapter_registry.hpp"
#include "routing/routing_directory.hpp"

namespace ozghub::pipeline {

// One office channel, bound to the adapter instance it names.
struct BoundChannel {
  delivery::AdapterSlot* slot = nullptr;  // points into the daemon's AdapterMap
  delivery::Params params;                // instance params with the channel's merged over them
  // Identifies this channel's configuration (adapter instance and merged parameters): a
  // delivery committed for it finds it again after a reload that reorders the office's channels.
  std::string key;
  std::shared_ptr<const delivery::ChannelBinding> binding;
};

struct RoutingSnapshot {
  std::shared_ptr<const routing::RoutingDirectory> directory;
  std::unordered_map<std::string, std::shared_ptr<const crypto::Recipient>>
      recipients;                                                       // by office
  std::unordered_map<std::string, std::vector<BoundChannel>> channels;  // by office, in order

  const crypto::Recipient* recipient(const std::string& office_id) const {
    auto it = recipients.find(office_id);
    return it == recipients.end() ? nullptr : it->second.get();
  }
  // The office's channel `index`, or nullptr.
  const BoundChannel* channel(const std::string& office_id, std::size_t index) const {
    auto it = channels.find(office_id);
    if (it == channels.end() || index >= it->second.size()) return nullptr;
    return &it->second[index];
  }

  // Loads the directory file and every office certificate, and binds every channel to its
  // adapter instance in `adapters` (which must outlive the snapshot). Any error: nothing is
  // returned, and every error is in the message.
  static Result<std::shared_ptr<const RoutingSnapshot>> load(const std::string& path,
                                                             delivery::AdapterMap& adapters);
  // The same for a directory already loaded (tests).
  static Result<std::shared_ptr<const RoutingSnapshot>> make(
      std::shared_ptr<const routing::RoutingDirectory> directory, delivery::AdapterMap& adapters);
};

// Old snapshots (their compiled stylesheets, plugin channels) are released outside the lock.
class RoutingState : public Current<RoutingSnapshot> {};

}  // namespace ozghub::pipeline
