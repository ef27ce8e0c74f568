// Builds the configured adapter instances by type name. Startup only.
#pragma once

#include <vector>

#include "config/config.hpp"
#include "delivery/delivery_host.hpp"
#include "routing/routing_directory.hpp"

namespace ozghub::adapters {

// One adapter object per configured instance. Fails on an unknown type or bad parameters.
Result<delivery::AdapterMap> create_adapters(const std::vector<config::AdapterInstance>& instances);

// Every channel of every office must name a configured adapter instance.
Status check_channels(const routing::RoutingDirectory& directory,
                      const delivery::AdapterMap& adapters);

}  // namespace ozghub::adapters
