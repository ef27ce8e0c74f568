// Loads vendors' adapter plugins named in the configuration (`plugins: {directory, load}`) and
// registers their adapter types.
//
// Each named file is opened from `plugins.directory` with dlopen(RTLD_NOW | RTLD_LOCAL); its
// entry symbol (OZGHUB_ADAPTER_ENTRY_SYMBOL) is called with the host's ABI version and host
// table; a plugin built for another ABI version is refused, naming both versions. Every error
// (missing file, missing symbol, mismatch, bad table, duplicate type name) is a configuration
// error prefixed with the `plugins` key's "file:line"; all libraries are tried and all errors
// reported together, one per line.
//
// Libraries stay loaded until the process exits (never dlclose'd: adapters, bindings and static
// data point into them). Not thread-safe: call at startup, once.
#pragma once

#include "config/config.hpp"
#include "delivery/adapter_registry.hpp"

namespace ozghub::delivery {

Status load_plugins(const config::Plugins& plugins, AdapterRegistry& registry);

}  // namespace ozghub::delivery
