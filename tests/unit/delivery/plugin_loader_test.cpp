// The plugin loader and the C ABI bridge, against real plugin libraries built from
// tests/plugins/ (one with the SDK, one for ABI version 999, one in plain C, one without entry).
#include "delivery/plugin_loader.hpp"

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/pem.h>

#include "delivery/plugin_adapter.hpp"
#include "test_support.hpp"

namespace ozghub::delivery {
namespace {

using ozghub::testing::TempDir;

config::Plugins plugins(std::vector<std::string> load) {
  config::Plugins p;
  p.directory = OZGHUB_TEST_PLUGIN_DIR;
  p.load = std::move(load);
  p.origin = "hub.yaml:12";
  return p;
}

config::AdapterInstance instance(std::string name, std::string type,
                                 std::map<std::string, std::string> params) {
  config::AdapterInstance i;
  i.name = std::move(name);
  i.type = std::move(type);
  i.params = std::move(params);
  i.origin = "hub.yaml:20";
  return i;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string decrypt_with_demo_key(const std::string& der, const std::string& office) {
  auto dir = ozghub::testing::source_dir() / "config" / "demo-certs";
  std::string key_pem = ozghub::testing::read_file(dir / (office + ".key"));
  std::string cert_pem = ozghub::testing::read_file(dir / (office + ".pem"));
  BIO* kb = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  BIO* cb = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  BIO* in = BIO_new_mem_buf(der.data(), static_cast<int>(der.size()));
  CMS_ContentInfo* cms = d2i_CMS_bio(in, nullptr);
  BIO* out = BIO_new(BIO_s_mem());
  std::string plain;
  if (cms && key && cert && CMS_decrypt(cms, key, cert, nullptr, out, 0) == 1) {
    char* data = nullptr;
    long n = BIO_get_mem_data(out, &data);
    plain.assign(data, static_cast<std::size_t>(n));
  }
  BIO_free(out);
  CMS_ContentInfo_free(cms);
  BIO_free(in);
  X509_free(cert);
  EVP_PKEY_free(key);
  BIO_free(cb);
  BIO_free(kb);
  return plain;
}

// One plugin instance with a bound channel, as the host runs it.
struct Harness {
  AdapterRegistry registry;
  AdapterMap adapters;
  routing::Office office;
  std::shared_ptr<const crypto::Recipient> recipient;
  Params channel;
  std::shared_ptr<const ChannelBinding> binding;

  Status setup(const std::string& library, const std::string& type,
               std::map<std::string, std::string> instance_params,
               std::map<std::string, std::string> channel_values = {},
               const std::string& certificate_office = "") {
    if (Status s = load_plugins(plugins({library}), registry); !s.is_ok()) return s;
    auto map = create_adapters(registry, {instance("p", type, std::move(instance_params))}, 2);
    if (!map) return map.status();
    adapters = std::move(*map);
    office.id = "amt-1";
    office.name = "Amt Eins";
    routing::Channel ch;
    ch.adapter = "p";
    ch.params = std::move(channel_values);
    ch.origin = "routing.yaml:5";
    office.channels.push_back(ch);
    if (!certificate_office.empty()) {
      auto r = crypto::Recipient::from_pem_file(
          (ozghub::testing::source_dir() / "config" / "demo-certs" / (certificate_office + ".pem"))
              .string());
      if (!r) return r.status();
      recipient = *r;
    }
    auto merged = channel_params(*adapters.at("p"), office.channels[0]);
    if (!merged) return merged.status();
    channel = *merged;
    ChannelContext ctx{office, recipient.get(), channel};
    auto b = adapters.at("p")->adapter->bind(ctx);
    if (!b) return b.status();
    binding = *b;
    return Status::ok();
  }

  DeliveryResult deliver(const std::string& xml, std::vector<Attachment> attachments = {},
                         int attempt = 1) {
    Case c;
    c.case_number = "20240102000000000042";
    c.office_id = office.id;
    c.app.message_id = "m-1";
    c.app.sender = "portal";
    c.app.area_id = "150860140140";
    c.app.service_id = "99085001000000";
    c.app.schema = "urn:test";
    c.app.xml = xml;
    c.app.attachments = std::move(attachments);
    c.app.received_at_ms = 1704153600123;
    DeliveryRequest req{c,
                        office,
                        channel,
                        binding.get(),
                        recipient.get(),
                        attempt,
                        std::chrono::steady_clock::now() + std::chrono::seconds(5)};
    return adapters.at("p")->adapter->deliver(req);
  }

  ~Harness() {
    binding.reset();  // the host's order: bindings before adapters
    adapters.clear();
  }
};

TEST(PluginLoader, RegistersTheDeclaredTypeWithItsSchema) {
  AdapterRegistry registry;
  ASSERT_OK(load_plugins(plugins({"libozghub_test_plugin.so"}), registry));
  const AdapterType* t = registry.find("test_echo");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->description, "test adapter driven by the application XML");
  ASSERT_EQ(t->params.size(), 5u);
  const auto& label = t->params[0];
  EXPECT_EQ(label.name, "label");
  EXPECT_EQ(label.kind, ParamSpec::Kind::kString);
  EXPECT_EQ(label.scope, ParamSpec::Scope::kInstance);
  EXPECT_TRUE(label.required);
  const auto& port = t->params[1];
  EXPECT_EQ(port.kind, ParamSpec::Kind::kInt);
  EXPECT_EQ(port.min, 1);
  EXPECT_EQ(port.max, 10);
  EXPECT_EQ(port.default_value, "5");
  EXPECT_FALSE(port.required);
  EXPECT_EQ(t->params[2].kind, ParamSpec::Kind::kBool);
  EXPECT_EQ(t->params[2].scope, ParamSpec::Scope::kEither);
  const auto& mode = t->params[3];
  EXPECT_EQ(mode.kind, ParamSpec::Kind::kChoice);
  EXPECT_EQ(mode.scope, ParamSpec::Scope::kChannel);
  EXPECT_EQ(mode.choices, (std::vector<std::string>{"normal", "refuse"}));
  EXPECT_EQ(mode.description, "channel mode");
  EXPECT_EQ(t->params[4].kind, ParamSpec::Kind::kPath);
}

TEST(PluginLoader, SchemaIsEnforcedByTheHost) {
  AdapterRegistry registry;
  ASSERT_OK(load_plugins(plugins({"libozghub_test_plugin.so"}), registry));
  auto errors =
      check_instances(registry, {instance("a", "test_echo", {{"port", "11"}}),
                                 instance("b", "test_echo", {{"label", "x"}, {"mode", "refuse"}})});
  std::string all;
  for (const auto& e : errors) all += e + "\n";
  EXPECT_TRUE(contains(all, "'port' must be an integer from 1 to 10")) << all;
  EXPECT_TRUE(contains(all, "mode")) << all;  // a channel-only key at instance level
}

TEST(PluginLoader, RefusesAnotherAbiVersionNamingBoth) {
  AdapterRegistry registry;
  Status s = load_plugins(plugins({"libozghub_test_plugin_abi999.so"}), registry);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.message(),
            "hub.yaml:12: libozghub_test_plugin_abi999.so was built for adapter ABI version 999, "
            "but this ozg-hub provides ABI version 1; rebuild it against the adapter SDK of this "
            "release");
  EXPECT_EQ(registry.find("test_echo"), nullptr);
}

TEST(PluginLoader, RefusesALibraryWithoutEntrySymbol) {
  AdapterRegistry registry;
  Status s = load_plugins(plugins({"libozghub_test_plugin_no_entry.so"}), registry);
  ASSERT_FALSE(s.is_ok());
  EXPECT_TRUE(contains(s.message(),
                       "hub.yaml:12: libozghub_test_plugin_no_entry.so has no "
                       "symbol ozghub_adapter_entry"))
      << s.message();
}

TEST(PluginLoader, ReportsEveryFailingLibraryAndLoadsTheOthers) {
  AdapterRegistry registry;
  Status s = load_plugins(
      plugins({"libmissing.so", "../libozghub_test_plugin.so", "libozghub_test_plugin_raw.so"}),
      registry);
  ASSERT_FALSE(s.is_ok());
  EXPECT_TRUE(contains(s.message(), "hub.yaml:12: cannot load libmissing.so")) << s.message();
  EXPECT_TRUE(contains(s.message(),
                       "\nhub.yaml:12: '../libozghub_test_plugin.so' must be a "
                       "file name inside plugins.directory"))
      << s.message();
  EXPECT_NE(registry.find("test_raw"), nullptr);
}

TEST(PluginLoader, ATypeNameCannotBeRegisteredTwice) {
  AdapterRegistry registry;
  ASSERT_OK(load_plugins(plugins({"libozghub_test_plugin.so"}), registry));
  Status s = load_plugins(plugins({"libozghub_test_plugin.so"}), registry);
  ASSERT_FALSE(s.is_ok());
  EXPECT_TRUE(contains(s.message(), "'test_echo' is registered already")) << s.message();
}

TEST(PluginAdapter, DeliversWithEveryFieldOfTheCase) {
  Harness h;
  ASSERT_OK(
      h.setup("libozghub_test_plugin.so", "test_echo", {{"label", "L1"}}, {{"verbose", "true"}}));
  DeliveryResult r = h.deliver(
      "<echo/>",
      {{"a.pdf", "application/pdf", std::string(1000, 'x')}, {"b.txt", "text/plain", "hello"}}, 3);
  ASSERT_EQ(r.outcome, Outcome::kRejected);
  EXPECT_EQ(r.error,
            "case=20240102000000000042 msg=m-1 area=150860140140 service=99085001000000 "
            "office=amt-1 channel_office=amt-1 received=1704153600123 attempt=3 "
            "atts=a.pdf(application/pdf)b.txt(text/plain) bytes=1005 label=L1 verbose=true "
            "cert=no");
  EXPECT_EQ(h.deliver("<ok/>").outcome, Outcome::kDelivered);
}

TEST(PluginAdapter, AnExceptionInDeliverBecomesRetryLaterWithAGenericText) {
  Harness h;
  ASSERT_OK(h.setup("libozghub_test_plugin.so", "test_echo", {{"label", "L"}}));
  DeliveryResult r = h.deliver("<throw/>");
  EXPECT_EQ(r.outcome, Outcome::kRetryLater);
  EXPECT_EQ(r.error, "adapter failed with an exception");  // never what(): personal data
  EXPECT_FALSE(r.retry_after.has_value());
}

TEST(PluginAdapter, RetryAfterAndRejectionCrossTheBoundary) {
  Harness h;
  ASSERT_OK(h.setup("libozghub_test_plugin.so", "test_echo", {{"label", "L"}}));
  DeliveryResult retry = h.deliver("<retry/>");
  EXPECT_EQ(retry.outcome, Outcome::kRetryLater);
  EXPECT_EQ(retry.error, "busy");
  ASSERT_TRUE(retry.retry_after.has_value());
  EXPECT_EQ(retry.retry_after->count(), 1500);
  DeliveryResult rejected = h.deliver("<reject/>");
  EXPECT_EQ(rejected.outcome, Outcome::kRejected);
  EXPECT_EQ(rejected.error, "not acceptable");
}

TEST(PluginAdapter, AnInvalidOutcomeIsTreatedAsRetryLater) {
  Harness h;
  ASSERT_OK(h.setup("libozghub_test_plugin_raw.so", "test_raw", {}));
  DeliveryResult r = h.deliver("<a/>");
  EXPECT_EQ(r.outcome, Outcome::kRetryLater);
  EXPECT_EQ(r.error, "adapter returned an invalid outcome 42");
}

TEST(PluginAdapter, CreateAndBindErrorsAreConfigurationErrors) {
  {
    Harness h;
    Status s = h.setup("libozghub_test_plugin.so", "test_echo", {{"label", "fail"}});
    ASSERT_FALSE(s.is_ok());
    EXPECT_TRUE(contains(s.message(), "label 'fail' is refused")) << s.message();
  }
  {
    Harness h;
    Status s = h.setup("libozghub_test_plugin.so", "test_echo", {{"label", "throw"}});
    ASSERT_FALSE(s.is_ok());
    EXPECT_TRUE(contains(s.message(), "failed with an exception while being created"))
        << s.message();
  }
  {
    Harness h;
    Status s =
        h.setup("libozghub_test_plugin.so", "test_echo", {{"label", "x"}}, {{"mode", "refuse"}});
    ASSERT_FALSE(s.is_ok());
    EXPECT_TRUE(contains(s.message(), "type 'test_echo': mode 'refuse' refuses every channel"))
        << s.message();
  }
}

TEST(PluginAdapter, EncryptsThroughTheHostForTheOfficeCertificate) {
  TempDir dir;
  Harness h;
  ASSERT_OK(h.setup("libozghub_test_plugin.so", "test_echo",
                    {{"label", "x"}, {"dir", dir.path().string()}}, {}, "moeckern-buergeramt"));
  ASSERT_EQ(h.deliver("<encrypt/>").outcome, Outcome::kDelivered);
  std::string der = ozghub::testing::read_file(dir.path() / "20240102000000000042.p7m");
  ASSERT_FALSE(der.empty());
  EXPECT_EQ(decrypt_with_demo_key(der, "moeckern-buergeramt"), "<encrypt/>");
}

TEST(PluginAdapter, EncryptionWithoutCertificateSaysSo) {
  TempDir dir;
  Harness h;
  ASSERT_OK(h.setup("libozghub_test_plugin.so", "test_echo",
                    {{"label", "x"}, {"dir", dir.path().string()}}));
  DeliveryResult r = h.deliver("<encrypt/>");
  EXPECT_EQ(r.outcome, Outcome::kRejected);
  EXPECT_EQ(r.error, "no certificate");
}

}  // namespace
}  // namespace ozghub::delivery
