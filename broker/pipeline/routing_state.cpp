#include "pipeline/routing_state.hpp"

namespace ozghub::pipeline {

Result<std::shared_ptr<const RoutingSnapshot>> RoutingSnapshot::load(const std::string& path) {
  auto dir = routing::RoutingDirectory::load(path);
  if (!dir) return dir.status();
  auto snap = std::make_shared<RoutingSnapshot>();
  snap->directory = *dir;
  std::string errors;
  for (const auto& office : snap->directory->offices()) {
    if (office.certificate_path.empty()) continue;
    auto r = crypto::Recipient::from_pem_file(office.certificate_path);
    if (!r) {
      errors += "\n  office " + office.id + ": " + r.status().message();
      continue;
    }
    snap->recipients.emplace(office.id, *r);
  }
  if (!errors.empty()) return Status::invalid_argument(path + ": certificate errors:" + errors);
  return std::shared_ptr<const RoutingSnapshot>(std::move(snap));
}

}  // namespace ozghub::pipeline
