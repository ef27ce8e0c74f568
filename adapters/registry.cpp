#include "registry.hpp"

#include "http/http_adapter.hpp"
#include "smtp/smtp_adapter.hpp"
#include "transfer_dir/transfer_dir_adapter.hpp"

namespace ozghub::adapters {

Status register_builtin_adapters(delivery::AdapterRegistry& registry) {
  for (auto type : {TransferDirAdapter::type(), http::HttpAdapter::type(), SmtpAdapter::type()}) {
    if (Status s = registry.add(std::move(type)); !s.is_ok()) return s;
  }
  return Status::ok();
}

}  // namespace ozghub::adapters
