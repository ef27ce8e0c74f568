// The bridge from a plugin's C ABI adapter type (include/ozghub/adapter_abi.h) to the daemon's
// one adapter interface (delivery/adapter.hpp): a plugin type becomes an AdapterType like any
// built-in one, its instances Adapters, its channel handles ChannelBindings.
//
// Ownership: the C tables belong to the plugin library, which is never unloaded. A PluginAdapter
// owns its plugin instance (destroy() in its destructor); a binding owns its plugin channel
// handle (unbind() in its destructor) and must be dropped before the adapter, which the host's
// shutdown order guarantees (routing snapshots go before the adapter map).
#pragma once

#include <cstddef>
#include <string>

#include "delivery/adapter.hpp"
#include "ozghub/adapter_abi.h"

namespace ozghub::delivery {

// The sizes of the plugin-written structs as ABI version 1 first defined them. Within a version
// fields are only appended, so a plugin built with a later header of the same version passes a
// larger struct_size; the host accepts anything at least this large and reads only these
// fields. Pinned to the last version-1 field: never change them when fields are appended.
inline constexpr std::size_t kPluginV1Size =
    offsetof(ozghub_plugin, type_count) + sizeof(ozghub_plugin::type_count);
inline constexpr std::size_t kAdapterTypeV1Size =
    offsetof(ozghub_adapter_type, destroy) + sizeof(ozghub_adapter_type::destroy);
inline constexpr std::size_t kParamSpecV1Size =
    offsetof(ozghub_param_spec, description) + sizeof(ozghub_param_spec::description);

// Converts a plugin's declared schema; errors name the type and the key.
Result<std::vector<ParamSpec>> convert_param_specs(const ozghub_adapter_type& type);

// Wraps one type of a loaded plugin. `host` is the host table given to that plugin; both must
// live as long as the process. `library` names the plugin file in errors and logs.
Result<AdapterType> make_plugin_type(const ozghub_adapter_type& type, const ozghub_host_api* host,
                                     const std::string& library);

// Fills a host function table whose functions go to the daemon's logger and CMS encryption.
// `plugin_label` (static storage or living as long as the table) names the plugin in logs.
void init_host_api(ozghub_host_api& api, const std::string* plugin_label);

}  // namespace ozghub::delivery
