#include "transfer_dir/transfer_dir_adapter.hpp"

namespace ozghub::adapters {

TransferDirAdapter::TransferDirAdapter(std::filesystem::path root) : root_(std::move(root)) {}

delivery::DeliveryResult TransferDirAdapter::deliver(
    const delivery::DeliveryRequest& /*request*/) noexcept {
  return delivery::DeliveryResult::retry_later("transfer_dir: not implemented yet");
}

std::string TransferDirAdapter::sanitise_file_name(std::string_view name) {
  return std::string(name);
}

}  // namespace ozghub::adapters
