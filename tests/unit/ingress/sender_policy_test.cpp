// Who a login is, and what it may do.
#include "ingress/sender_policy.hpp"

#include "test_support.hpp"

namespace ozghub::ingress {
namespace {

std::vector<config::SenderEntry> senders() {
  config::SenderEntry portal;
  portal.name = "portal";
  portal.certificate_subject = "CN=portal,O=P,C=DE";
  portal.all_services = true;
  config::SenderEntry form;
  form.name = "form";
  form.plain_user = "form-user";
  form.services = {"99085001000000"};
  config::SenderEntry both;
  both.name = "both";
  both.certificate_subject = "CN=both";
  both.plain_user = "both";
  both.addresses = {};
  both.all_services = true;
  return {portal, form, both};
}

TEST(SenderPolicy, ExternalMapsTheCertificateSubject) {
  SenderPolicy policy(senders(), false);
  auto d = policy.login("EXTERNAL", "CN=portal,O=P,C=DE");
  ASSERT_TRUE(d.allowed);
  EXPECT_EQ(d.grant->name(), "portal");
  EXPECT_FALSE(policy.login("EXTERNAL", "CN=stranger").allowed);
  // A PLAIN user name is no certificate subject, and the other way round.
  EXPECT_FALSE(policy.login("EXTERNAL", "form-user").allowed);
  EXPECT_FALSE(policy.login("PLAIN", "CN=portal,O=P,C=DE").allowed);
}

TEST(SenderPolicy, PlainMapsTheUser) {
  SenderPolicy policy(senders(), false);
  auto d = policy.login("PLAIN", "form-user");
  ASSERT_TRUE(d.allowed);
  EXPECT_EQ(d.grant->name(), "form");
  EXPECT_EQ(policy.login("PLAIN", "both").grant, policy.login("EXTERNAL", "CN=both").grant);
}

TEST(SenderPolicy, AnonymousOnlyInDevMode) {
  SenderPolicy production(senders(), false);
  EXPECT_FALSE(production.login("ANONYMOUS", "anonymous").allowed);
  EXPECT_FALSE(production.login("", "").allowed);  // no SASL at all
  SenderPolicy dev(senders(), true);
  auto d = dev.login("ANONYMOUS", "anonymous");
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.grant, nullptr);  // unrestricted, no identity
  EXPECT_TRUE(dev.login("", "").allowed);
  // dev_mode does not let unknown certificates in.
  EXPECT_FALSE(dev.login("EXTERNAL", "CN=stranger").allowed);
}

TEST(SenderGrant, AddressesAndServices) {
  SenderPolicy policy(senders(), false);
  auto portal = policy.login("EXTERNAL", "CN=portal,O=P,C=DE").grant;
  auto form = policy.login("PLAIN", "form-user").grant;
  auto both = policy.login("PLAIN", "both").grant;
  EXPECT_TRUE(portal->may_attach("applications"));
  EXPECT_FALSE(portal->may_attach("applications-elsewhere"));
  EXPECT_FALSE(both->may_attach("applications"));
  EXPECT_TRUE(portal->may_submit("99050012104000"));
  EXPECT_TRUE(form->may_submit("99085001000000"));
  EXPECT_FALSE(form->may_submit("99050012104000"));
  EXPECT_FALSE(form->may_submit(""));
}

}  // namespace
}  // namespace ozghub::ingress
