// Who a connection is and what it may submit: the `senders` of the configuration.
//
// After SASL, the listener maps the connection's login to a sender entry: a certificate subject
// (SASL EXTERNAL) or a user name (SASL PLAIN). Unknown logins are refused. ANONYMOUS (dev_mode
// only) maps to no entry and may do anything, as before authentication existed. The entry's
// name is the authenticated identity: it wins over the message's `sender` property and is half
// of the idempotency key.
//
// Thread-safety: immutable after construction; shared by the event loop and the intake workers.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace ozghub::ingress {

// One sender's rights.
class SenderGrant {
 public:
  explicit SenderGrant(const config::SenderEntry& e);
  const std::string& name() const { return name_; }
  bool may_attach(std::string_view address) const;
  bool may_submit(std::string_view service_id) const;

 private:
  std::string name_;
  std::set<std::string, std::less<>> addresses_;
  bool all_services_;
  std::set<std::string, std::less<>> services_;
};

// How a connection logged in.
enum class Login { kAnonymous, kExternal, kPlain };

class SenderPolicy {
 public:
  SenderPolicy(const std::vector<config::SenderEntry>& senders, bool dev_mode);

  // The outcome of a login: `grant` is null for an anonymous connection in dev_mode.
  struct Decision {
    bool allowed = false;
    std::shared_ptr<const SenderGrant> grant;
    std::string reason;  // when refused, for the log (never personal data: it is an identity)
  };
  // `mechanism` is the SASL mechanism Proton reports ("" when the client skipped SASL), `user`
  // the authenticated name (the certificate subject for EXTERNAL).
  Decision login(std::string_view mechanism, std::string_view user) const;

 private:
  bool dev_mode_;
  std::map<std::string, std::shared_ptr<const SenderGrant>, std::less<>> by_subject_;
  std::map<std::string, std::shared_ptr<const SenderGrant>, std::less<>> by_user_;
};

}  // namespace ozghub::ingress
