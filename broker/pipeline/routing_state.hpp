// The routing directory in force, with each office's parsed certificate.
//
// A snapshot is immutable; a reload builds a complete new one and swaps it in, so every
// application is routed and encrypted against one consistent directory. Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "crypto/cms.hpp"
#include "routing/routing_directory.hpp"

namespace ozghub::pipeline {

struct RoutingSnapshot {
  std::shared_ptr<const routing::RoutingDirectory> directory;
  std::unordered_map<std::string, std::shared_ptr<const crypto::Recipient>>
      recipients;  // by office

  const crypto::Recipient* recipient(const std::string& office_id) const {
    auto it = recipients.find(office_id);
    return it == recipients.end() ? nullptr : it->second.get();
  }

  // Loads the directory file and every office certificate. Any error: nothing is returned.
  static Result<std::shared_ptr<const RoutingSnapshot>> load(const std::string& path);
};

class RoutingState {
 public:
  std::shared_ptr<const RoutingSnapshot> get() const {
    std::lock_guard lock(mutex_);
    return current_;
  }
  void set(std::shared_ptr<const RoutingSnapshot> s) {
    std::lock_guard lock(mutex_);
    current_ = std::move(s);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const RoutingSnapshot> current_;
};

}  // namespace ozghub::pipeline
