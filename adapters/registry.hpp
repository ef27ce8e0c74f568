// The adapter types built into the daemon, registered by name.
#pragma once

#include "delivery/adapter_registry.hpp"

namespace ozghub::adapters {

// Registers transfer_dir, smtp and http. Startup only.
Status register_builtin_adapters(delivery::AdapterRegistry& registry);

}  // namespace ozghub::adapters
