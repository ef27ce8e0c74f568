#include "pipeline/routing_state.hpp"

namespace ozghub::pipeline {
namespace {

std::string channel_key(const std::string& adapter, const delivery::Params& params) {
  std::string text = adapter;
  for (const auto& [k, v] : params.all()) {
    text.push_back('\0');
    text += k;
    text.push_back('=');
    text += v;
  }
  return crypto::sha256_hex(text).substr(0, 16);
}

}  // namespace

Result<std::shared_ptr<const RoutingSnapshot>> RoutingSnapshot::load(
    const std::string& path, delivery::AdapterMap& adapters) {
  auto dir = routing::RoutingDirectory::load(path);
  if (!dir) return dir.status();
  auto snap = make(*dir, adapters);
  if (!snap) return Status::invalid_argument(path + ": " + snap.status().message());
  return snap;
}

Result<std::shared_ptr<const RoutingSnapshot>> RoutingSnapshot::make(
    std::shared_ptr<const routing::RoutingDirectory> directory, delivery::AdapterMap& adapters) {
  auto snap = std::make_shared<RoutingSnapshot>();
  snap->directory = std::move(directory);
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
  for (const auto& office : snap->directory->offices()) {
    auto& bound = snap->channels[office.id];
    for (const auto& ch : office.channels) {
      auto slot = adapters.find(ch.adapter);
      if (slot == adapters.end()) {
        errors += "\n  office " + office.id + ": channel names adapter '" + ch.adapter +
                  "', which is not configured";
        continue;
      }
      auto params = delivery::channel_params(*slot->second, ch);
      if (!params) {
        errors += "\n  office " + office.id + ": " + params.status().message();
        continue;
      }
      BoundChannel b;
      b.slot = slot->second.get();
      b.params = std::move(*params);
      b.key = channel_key(ch.adapter, b.params);
      delivery::ChannelContext ctx{office, snap->recipient(office.id), b.params};
      // bind() must not throw; a reload on the signal thread must survive one that does.
      Result<std::shared_ptr<const delivery::ChannelBinding>> binding =
          Status::internal("bind failed with an exception");
      try {
        binding = b.slot->adapter->bind(ctx);
      } catch (const std::exception&) {
      }
      if (!binding) {
        errors += "\n  office " + office.id + " (" + (ch.origin.empty() ? "channel" : ch.origin) +
                  "): adapter " + ch.adapter + ": " + binding.status().message();
        continue;
      }
      b.binding = std::move(*binding);
      bound.push_back(std::move(b));
    }
  }
  if (!errors.empty()) return Status::invalid_argument("routing directory errors:" + errors);
  return std::shared_ptr<const RoutingSnapshot>(std::move(snap));
}

}  // namespace ozghub::pipeline
