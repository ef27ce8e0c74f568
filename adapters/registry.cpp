#include "registry.hpp"

#include "transfer_dir/transfer_dir_adapter.hpp"

namespace ozghub::adapters {

Result<delivery::AdapterMap> create_adapters(
    const std::vector<config::AdapterInstance>& instances) {
  delivery::AdapterMap map;
  for (const auto& inst : instances) {
    if (inst.type == "transfer_dir") {
      auto root = inst.params.find("root");
      if (root == inst.params.end() || root->second.empty()) {
        return Status::invalid_argument("adapter " + inst.name + ": transfer_dir needs 'root'");
      }
      auto mode = TransferDirAdapter::SyncMode::kPerFile;
      if (auto sync = inst.params.find("sync"); sync != inst.params.end()) {
        if (sync->second == "filesystem") {
          mode = TransferDirAdapter::SyncMode::kFileSystem;
        } else if (sync->second != "file") {
          return Status::invalid_argument("adapter " + inst.name +
                                          ": sync must be 'file' or 'filesystem'");
        }
      }
      map.emplace(inst.name, std::make_unique<TransferDirAdapter>(root->second, mode));
    } else {
      return Status::invalid_argument("adapter " + inst.name + ": unknown type '" + inst.type +
                                      "'");
    }
  }
  return map;
}

Status check_channels(const routing::RoutingDirectory& directory,
                      const delivery::AdapterMap& adapters) {
  std::string errors;
  for (const auto& office : directory.offices()) {
    for (const auto& ch : office.channels) {
      if (!adapters.count(ch.adapter)) {
        errors += "\n  office " + office.id + ": channel names adapter '" + ch.adapter +
                  "', which is not configured";
      }
    }
  }
  if (errors.empty()) return Status::ok();
  return Status::invalid_argument("routing directory does not match the adapters:" + errors);
}

}  // namespace ozghub::adapters
