#include "ingress/sender_policy.hpp"

namespace ozghub::ingress {

SenderGrant::SenderGrant(const config::SenderEntry& e)
    : name_(e.name),
      addresses_(e.addresses.begin(), e.addresses.end()),
      all_services_(e.all_services),
      services_(e.services.begin(), e.services.end()) {}

bool SenderGrant::may_attach(std::string_view address) const {
  return addresses_.find(address) != addresses_.end();
}

bool SenderGrant::may_submit(std::string_view service_id) const {
  return all_services_ || services_.find(service_id) != services_.end();
}

SenderPolicy::SenderPolicy(const std::vector<config::SenderEntry>& senders, bool dev_mode)
    : dev_mode_(dev_mode) {
  for (const auto& e : senders) {
    auto grant = std::make_shared<const SenderGrant>(e);
    if (!e.certificate_subject.empty()) by_subject_[e.certificate_subject] = grant;
    if (!e.plain_user.empty()) by_user_[e.plain_user] = grant;
  }
}

SenderPolicy::Decision SenderPolicy::login(std::string_view mechanism,
                                           std::string_view user) const {
  Decision d;
  const auto find = [&](const auto& map, const char* what) {
    if (auto it = map.find(user); it != map.end()) {
      d.allowed = true;
      d.grant = it->second;
    } else {
      d.reason = std::string("no sender has this ") + what;
    }
  };
  if (mechanism == "EXTERNAL") {
    find(by_subject_, "certificate_subject");
  } else if (mechanism == "PLAIN") {
    find(by_user_, "plain_user");
  } else if (dev_mode_) {
    d.allowed = true;  // ANONYMOUS, or no SASL at all: the demo and tests
  } else {
    d.reason = "anonymous connections need amqp.dev_mode";
  }
  return d;
}

}  // namespace ozghub::ingress
