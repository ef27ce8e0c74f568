#include "delivery/plugin_loader.hpp"

#include <dlfcn.h>

#include <cstddef>
#include <deque>
#include <filesystem>

#include "common/log.hpp"
#include "delivery/plugin_adapter.hpp"
#include "ozghub/adapter_abi.h"

namespace ozghub::delivery {
namespace {

// One loaded library. Lives until the process exits: the host table and label are handed to
// the plugin, and adapter types point into the library's code and data.
struct LoadedLibrary {
  std::string label;  // the file name, for logs and errors
  ozghub_host_api host{};
  void* handle = nullptr;
};

std::deque<LoadedLibrary>& libraries() {
  static auto* libs = new std::deque<LoadedLibrary>();  // never destroyed, like the libraries
  return *libs;
}

Status load_one(const std::string& directory, const std::string& name, AdapterRegistry& registry) {
  if (name.empty() || name.find('/') != std::string::npos) {
    return Status::invalid_argument("'" + name + "' must be a file name inside plugins.directory");
  }
  std::string path = (std::filesystem::path(directory) / name).string();
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    return Status::invalid_argument("cannot load " + name + ": " +
                                    (why != nullptr ? why : "dlopen failed"));
  }
  ::dlerror();
  void* sym = ::dlsym(handle, OZGHUB_ADAPTER_ENTRY_SYMBOL);
  if (sym == nullptr) {
    // Nothing of the library has run but its constructors; unloading it is safe here.
    ::dlclose(handle);
    return Status::invalid_argument(name + " has no symbol " OZGHUB_ADAPTER_ENTRY_SYMBOL
                                           ": not an ozg-hub adapter plugin (is "
                                           "OZGHUB_ADAPTER(...) in one of its sources?)");
  }
  auto& lib = libraries().emplace_back();
  lib.label = name;
  lib.handle = handle;
  init_host_api(lib.host, &lib.label);
  auto entry = reinterpret_cast<ozghub_adapter_entry_fn>(sym);
  const ozghub_plugin* plugin = entry(OZGHUB_ADAPTER_ABI_VERSION, &lib.host);
  if (plugin == nullptr) {
    return Status::invalid_argument(name + ": its entry point returned no plugin table");
  }
  // abi_version follows struct_size, so a table too small to hold it cannot be trusted.
  if (plugin->struct_size < offsetof(ozghub_plugin, abi_version) + sizeof(plugin->abi_version)) {
    return Status::invalid_argument(name + ": its plugin table is truncated");
  }
  if (plugin->abi_version != OZGHUB_ADAPTER_ABI_VERSION) {
    return Status::invalid_argument(
        name + " was built for adapter ABI version " + std::to_string(plugin->abi_version) +
        ", but this ozg-hub provides ABI version " + std::to_string(OZGHUB_ADAPTER_ABI_VERSION) +
        "; rebuild it against the adapter SDK of this release");
  }
  if (plugin->struct_size < kPluginV1Size) {
    return Status::invalid_argument(name + ": its plugin table is truncated");
  }
  if (plugin->type_count == 0 || plugin->types == nullptr) {
    return Status::invalid_argument(name + " declares no adapter type");
  }
  std::vector<AdapterType> types;
  for (std::size_t i = 0; i < plugin->type_count; ++i) {
    if (plugin->types[i] == nullptr) {
      return Status::invalid_argument(name + ": adapter type #" + std::to_string(i + 1) +
                                      " is NULL");
    }
    auto t = make_plugin_type(*plugin->types[i], &lib.host, name);
    if (!t) return Status::invalid_argument(name + ": " + t.status().message());
    types.push_back(std::move(*t));
  }
  std::string names;
  for (auto& t : types) {
    names += (names.empty() ? "" : ",") + t.name;
    if (Status s = registry.add(std::move(t)); !s.is_ok()) {
      return Status::invalid_argument(name + ": " + s.message());
    }
  }
  log::info("plugin.loaded",
            {{"plugin", name},
             {"plugin_name", plugin->plugin_name ? plugin->plugin_name : ""},
             {"plugin_version", plugin->plugin_version ? plugin->plugin_version : ""},
             {"types", names}});
  return Status::ok();
}

}  // namespace

Status load_plugins(const config::Plugins& plugins, AdapterRegistry& registry) {
  std::string errors;
  for (const auto& name : plugins.load) {
    Status s = load_one(plugins.directory, name, registry);
    if (s.is_ok()) continue;
    if (!errors.empty()) errors += "\n";
    errors +=
        (plugins.origin.empty() ? std::string("plugins") : plugins.origin) + ": " + s.message();
  }
  if (!errors.empty()) return Status::invalid_argument(std::move(errors));
  return Status::ok();
}

}  // namespace ozghub::delivery
