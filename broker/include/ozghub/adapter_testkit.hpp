// ozg-hub adapter test kit: a fake host for a vendor's own tests, header-only, C++17.
//
// It loads a plugin shared library exactly as the daemon does (dlopen RTLD_NOW | RTLD_LOCAL,
// the entry symbol, the same ABI version handshake and table checks, with the same error texts
// for a mismatch), applies the declared parameter schema (defaults, required keys, unknown keys,
// scopes, kinds), creates instances, binds channels and delivers sample cases, and returns what
// the plugin reported.
//
//   ozghub::testkit::FakeHost host("/path/libmy_adapter.so");      // throws on a load error
//   auto instance = host.create("my_adapter", {{"root", dir}});    // throws on a create error
//   auto channel = instance->bind(ozghub::testkit::OfficeSpec{"amt-1", "Amt", false});
//   auto result = instance->deliver(*channel, ozghub::testkit::SampleDelivery().xml("<a/>"));
//   assert(result.delivered());
//
// Host functions
//   log: recorded; FakeHost::logs() returns them (check that no personal data appears).
//   encrypt_for_office: NOT real CMS. For an office bound with has_certificate it returns
//     the deterministic test transform kTestCipherPrefix followed by every plaintext byte XOR
//     0x5A; FakeHost::test_decrypt() inverts it. That lets tests assert what was encrypted
//     without keys; test real CMS against the daemon (`openssl cms -decrypt`). For an office
//     without certificate it returns OZGHUB_NO_CERTIFICATE, like the daemon.
//
// Errors are thrown as std::runtime_error (this is test code, not the data path). Instances and
// channels are destroyed (unbind, destroy) in the right order by their destructors: drop every
// channel before its instance. The library is never dlclose'd, as in the daemon.
// Thread-safety: deliver() on one instance may be called from several threads at once (to
// test your adapter's thread safety); everything else from one thread.
#pragma once

#include <dlfcn.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ozghub/adapter_abi.h"
#include "ozghub/adapter_host_views.hpp"

namespace ozghub::testkit {

inline constexpr std::string_view kTestCipherPrefix = "OZGHUB-TESTKIT-NOT-CMS\n";

struct LogLine {
  std::int32_t level;
  std::string event;
  std::string message;
};

struct OfficeSpec {
  std::string id = "test-office";
  std::string name = "Test Office";
  bool has_certificate = false;
};

struct SampleAttachment {
  std::string name;
  std::string content_type;
  std::string data;
};

// A delivery to hand to a plugin: a builder with sensible defaults (a valid case number, ids).
class SampleDelivery {
 public:
  SampleDelivery& case_number(std::string v) { return set(case_number_, std::move(v)); }
  SampleDelivery& message_id(std::string v) { return set(message_id_, std::move(v)); }
  SampleDelivery& sender(std::string v) { return set(sender_, std::move(v)); }
  SampleDelivery& area_id(std::string v) { return set(area_id_, std::move(v)); }
  SampleDelivery& service_id(std::string v) { return set(service_id_, std::move(v)); }
  SampleDelivery& schema(std::string v) { return set(schema_, std::move(v)); }
  SampleDelivery& received_at_ms(std::int64_t v) {
    received_at_ms_ = v;
    return *this;
  }
  SampleDelivery& xml(std::string v) { return set(xml_, std::move(v)); }
  SampleDelivery& attachment(std::string name, std::string content_type, std::string data) {
    attachments_.push_back({std::move(name), std::move(content_type), std::move(data)});
    return *this;
  }
  SampleDelivery& attempt(int v) {
    attempt_ = v;
    return *this;
  }
  SampleDelivery& remaining_ms(std::int64_t v) {
    remaining_ms_ = v;
    return *this;
  }

  std::string case_number_ = "20240102000000000001";
  std::string message_id_ = "testkit-message-1";
  std::string sender_ = "testkit-portal";
  std::string area_id_ = "150860140140";
  std::string service_id_ = "99085001000000";
  std::string schema_ = "urn:ozg-hub:schema:antrag:1.0";
  std::int64_t received_at_ms_ = 1704153600000;  // 2024-01-02T00:00:00.000Z
  std::string xml_ = "<antrag xmlns=\"urn:ozg-hub:schema:antrag:1.0\"/>";
  std::vector<SampleAttachment> attachments_;
  int attempt_ = 1;
  std::int64_t remaining_ms_ = 60000;

 private:
  SampleDelivery& set(std::string& field, std::string v) {
    field = std::move(v);
    return *this;
  }
};

struct DeliveryOutcome {
  std::int32_t outcome = OZGHUB_OUTCOME_RETRY_LATER;  // as the plugin reported it
  std::string error;
  std::int64_t retry_after_ms = -1;
  bool delivered() const { return outcome == OZGHUB_OUTCOME_DELIVERED; }
  bool retry_later() const { return outcome == OZGHUB_OUTCOME_RETRY_LATER; }
  bool rejected() const { return outcome == OZGHUB_OUTCOME_REJECTED; }
};

using ParamValues = std::map<std::string, std::string>;

namespace detail {

struct Context {
  bool has_certificate = false;
};

}  // namespace detail

class FakeHost;

class TestChannel {
 public:
  ~TestChannel() { type_->unbind(instance_, handle_); }
  TestChannel(const TestChannel&) = delete;
  TestChannel& operator=(const TestChannel&) = delete;
  const OfficeSpec& office() const { return office_; }

 private:
  friend class TestInstance;
  TestChannel(const ozghub_adapter_type* type, void* instance, OfficeSpec office,
              ParamValues params)
      : type_(type), instance_(instance), office_(std::move(office)), params_(params) {}
  const ozghub_adapter_type* type_;
  void* instance_;
  void* handle_ = nullptr;
  OfficeSpec office_;
  abi::ParamsView params_;
};

class TestInstance {
 public:
  ~TestInstance() { type_->destroy(instance_); }
  TestInstance(const TestInstance&) = delete;
  TestInstance& operator=(const TestInstance&) = delete;

  // Binds a channel of `office` with channel-level parameters merged over the instance's, as the
  // daemon does. Throws std::runtime_error with the plugin's text when the plugin refuses.
  std::unique_ptr<TestChannel> bind(const OfficeSpec& office,
                                    const ParamValues& channel_params = {});

  // Delivers `d` on `channel` and returns what the plugin reported; an invalid outcome is
  // returned as is (the daemon would treat it as retry_later).
  DeliveryOutcome deliver(const TestChannel& channel, const SampleDelivery& d) const;

 private:
  friend class FakeHost;
  TestInstance(FakeHost& host, const ozghub_adapter_type* type, ParamValues params)
      : host_(host), type_(type), params_(std::move(params)) {}
  FakeHost& host_;
  const ozghub_adapter_type* type_;
  ParamValues params_;  // instance-level, validated
  void* instance_ = nullptr;
};

class FakeHost {
 public:
  // Loads the plugin at `path` like the daemon. Throws std::runtime_error naming the problem
  // (cannot load, no entry symbol, ABI version mismatch naming both versions, bad tables).
  explicit FakeHost(const std::string& path) {
    api_.struct_size = sizeof(api_);
    api_.abi_version = OZGHUB_ADAPTER_ABI_VERSION_CURRENT;
    api_.log = &FakeHost::log_fn;
    api_.encrypt_for_office = &FakeHost::encrypt_fn;
    api_.free_buffer = &FakeHost::free_fn;
    api_.host_data = this;
    std::string name = path.substr(path.find_last_of('/') + 1);
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      const char* why = ::dlerror();
      throw std::runtime_error("cannot load " + name + ": " + (why ? why : "dlopen failed"));
    }
    void* sym = ::dlsym(handle, OZGHUB_ADAPTER_ENTRY_SYMBOL);
    if (!sym) {
      throw std::runtime_error(name + " has no symbol " OZGHUB_ADAPTER_ENTRY_SYMBOL
                                      ": not an ozg-hub adapter plugin");
    }
    ozghub_adapter_entry_fn entry = nullptr;
    static_assert(sizeof(entry) == sizeof(sym), "function and data pointers differ in size");
    std::memcpy(&entry, &sym, sizeof(entry));
    plugin_ = entry(OZGHUB_ADAPTER_ABI_VERSION_CURRENT, &api_);
    if (!plugin_) throw std::runtime_error(name + ": its entry point returned no plugin table");
    if (plugin_->abi_version != OZGHUB_ADAPTER_ABI_VERSION_CURRENT) {
      throw std::runtime_error(name + " was built for adapter ABI version " +
                               std::to_string(plugin_->abi_version) +
                               ", but this ozg-hub provides ABI version " +
                               std::to_string(OZGHUB_ADAPTER_ABI_VERSION_CURRENT) +
                               "; rebuild it against the adapter SDK of this release");
    }
    if (plugin_->struct_size < sizeof(ozghub_plugin) || plugin_->type_count == 0 ||
        !plugin_->types) {
      throw std::runtime_error(name + ": truncated plugin table or no adapter type");
    }
    for (std::size_t i = 0; i < plugin_->type_count; ++i) {
      const ozghub_adapter_type* t = plugin_->types[i];
      if (!t || t->struct_size < sizeof(ozghub_adapter_type) || !t->name || !t->create ||
          !t->bind || !t->unbind || !t->deliver || !t->destroy) {
        throw std::runtime_error(name + ": adapter type #" + std::to_string(i + 1) +
                                 " is incomplete");
      }
      for (std::size_t k = 0; k < t->param_count; ++k) {
        const ozghub_param_spec* p = t->params[k];
        if (!p || p->struct_size < sizeof(ozghub_param_spec) || !p->name || !p->name[0] ||
            p->kind < OZGHUB_PARAM_STRING || p->kind > OZGHUB_PARAM_CHOICE ||
            p->scope < OZGHUB_SCOPE_INSTANCE || p->scope > OZGHUB_SCOPE_EITHER ||
            (p->kind == OZGHUB_PARAM_CHOICE && (!p->choices || p->choice_count == 0))) {
          throw std::runtime_error(name + ": type '" + t->name + "' key #" + std::to_string(k + 1) +
                                   " is malformed");
        }
      }
    }
  }
  FakeHost(const FakeHost&) = delete;
  FakeHost& operator=(const FakeHost&) = delete;

  const ozghub_plugin& plugin() const { return *plugin_; }
  std::vector<std::string> type_names() const {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < plugin_->type_count; ++i) out.push_back(plugin_->types[i]->name);
    return out;
  }
  const ozghub_adapter_type& type(const std::string& name) const {
    for (std::size_t i = 0; i < plugin_->type_count; ++i) {
      if (name == plugin_->types[i]->name) return *plugin_->types[i];
    }
    throw std::runtime_error("the plugin has no adapter type '" + name + "'");
  }

  // Validates `params` against the type's schema (instance scope) and creates an instance.
  std::unique_ptr<TestInstance> create(const std::string& type_name, const ParamValues& params) {
    const ozghub_adapter_type& t = type(type_name);
    ParamValues values = validate(t, params, false, {});
    std::unique_ptr<TestInstance> inst(new TestInstance(*this, &t, values));
    abi::ParamsView c(values);
    char error[OZGHUB_ERROR_CAPACITY] = {0};
    if (t.create(c.view(), &api_, &inst->instance_, error, sizeof(error)) != OZGHUB_OK) {
      error[sizeof(error) - 1] = '\0';
      inst->type_ = &kNoop;  // nothing to destroy
      throw std::runtime_error(std::string("create refused: ") + error);
    }
    return inst;
  }

  std::vector<LogLine> logs() const {
    std::lock_guard<std::mutex> lock(mu_);
    return logs_;
  }

  // Inverts the test transform of encrypt_for_office; throws when `data` is not one.
  static std::string test_decrypt(std::string_view data) {
    if (data.substr(0, kTestCipherPrefix.size()) != kTestCipherPrefix) {
      throw std::runtime_error("not the test kit's encryption");
    }
    std::string out(data.substr(kTestCipherPrefix.size()));
    for (auto& c : out) c = static_cast<char>(c ^ 0x5A);
    return out;
  }

  // Applies defaults, checks kinds, scopes, required and unknown keys as the daemon does.
  static ParamValues validate(const ozghub_adapter_type& t, const ParamValues& given, bool channel,
                              const ParamValues& instance) {
    ParamValues out = channel ? instance : ParamValues();
    for (const auto& kv : given) {
      const ozghub_param_spec* spec = find(t, kv.first);
      bool allowed = spec && (channel ? spec->scope != OZGHUB_SCOPE_INSTANCE
                                      : spec->scope != OZGHUB_SCOPE_CHANNEL);
      if (!allowed) {
        throw std::runtime_error("'" + kv.first + "' is not a key of " + t.name +
                                 (channel ? " channels" : " instances"));
      }
      check_value(*spec, kv.second);
      out[kv.first] = kv.second;
    }
    for (std::size_t i = 0; i < t.param_count; ++i) {
      const ozghub_param_spec& p = *t.params[i];
      if (!out.count(p.name) && p.default_value && p.default_value[0]) {
        out[p.name] = p.default_value;
      }
      // Required keys are checked once instance and channel values are merged, at bind.
      if (channel && p.required && !out.count(p.name)) {
        throw std::runtime_error("'" + std::string(p.name) + "' is required");
      }
    }
    return out;
  }

 private:
  friend class TestInstance;

  static const ozghub_param_spec* find(const ozghub_adapter_type& t, const std::string& name) {
    for (std::size_t i = 0; i < t.param_count; ++i) {
      if (name == t.params[i]->name) return t.params[i];
    }
    return nullptr;
  }

  static void check_value(const ozghub_param_spec& p, const std::string& v) {
    std::string bad = "'" + std::string(p.name) + "' has an invalid value";
    switch (p.kind) {
      case OZGHUB_PARAM_PATH:
        if (v.empty()) throw std::runtime_error(bad);
        break;
      case OZGHUB_PARAM_INT: {
        char* end = nullptr;
        long long n = std::strtoll(v.c_str(), &end, 10);
        if (v.empty() || *end != '\0' || n < p.min || n > p.max) throw std::runtime_error(bad);
        break;
      }
      case OZGHUB_PARAM_BOOL:
        if (v != "true" && v != "false") throw std::runtime_error(bad);
        break;
      case OZGHUB_PARAM_CHOICE: {
        bool ok = false;
        for (std::size_t i = 0; i < p.choice_count; ++i) ok = ok || v == p.choices[i];
        if (!ok) throw std::runtime_error(bad);
        break;
      }
      default:
        break;
    }
  }

  static void log_fn(const ozghub_host_api* self, std::int32_t level, const char* event,
                     const char* message) {
    auto* host = static_cast<FakeHost*>(self->host_data);
    std::lock_guard<std::mutex> lock(host->mu_);
    host->logs_.push_back({level, event ? event : "", message ? message : ""});
  }

  static std::int32_t encrypt_fn(const ozghub_host_api*, const ozghub_delivery_view* d,
                                 ozghub_bytes plaintext, ozghub_buffer* out, char* error,
                                 std::size_t cap) {
    auto fail = [&](const char* why, std::int32_t rc) {
      if (error && cap) {
        std::strncpy(error, why, cap - 1);
        error[cap - 1] = '\0';
      }
      return rc;
    };
    if (!out) return fail("encrypt_for_office: no output buffer", OZGHUB_ERROR);
    out->data = nullptr;
    out->size = 0;
    if (!d || !d->host_context) {
      return fail("encrypt_for_office is callable only during deliver()", OZGHUB_ERROR);
    }
    if (!static_cast<const detail::Context*>(d->host_context)->has_certificate) {
      return fail("the office has no certificate", OZGHUB_NO_CERTIFICATE);
    }
    std::size_t n = kTestCipherPrefix.size() + plaintext.size;
    auto* mem = static_cast<std::uint8_t*>(std::malloc(n ? n : 1));
    if (!mem) return fail("out of memory", OZGHUB_ERROR);
    std::memcpy(mem, kTestCipherPrefix.data(), kTestCipherPrefix.size());
    for (std::size_t i = 0; i < plaintext.size; ++i) {
      mem[kTestCipherPrefix.size() + i] = static_cast<std::uint8_t>(plaintext.data[i] ^ 0x5A);
    }
    out->data = mem;
    out->size = n;
    return OZGHUB_OK;
  }

  static void free_fn(const ozghub_host_api*, ozghub_buffer* b) {
    if (!b) return;
    std::free(b->data);
    b->data = nullptr;
    b->size = 0;
  }

  static void noop_destroy(void*) {}
  static inline const ozghub_adapter_type kNoop = [] {
    ozghub_adapter_type t{};
    t.destroy = &FakeHost::noop_destroy;
    return t;
  }();

  ozghub_host_api api_{};
  const ozghub_plugin* plugin_ = nullptr;
  mutable std::mutex mu_;
  std::vector<LogLine> logs_;
};

inline std::unique_ptr<TestChannel> TestInstance::bind(const OfficeSpec& office,
                                                       const ParamValues& channel_params) {
  ParamValues merged = FakeHost::validate(*type_, channel_params, true, params_);
  std::unique_ptr<TestChannel> ch(new TestChannel(type_, instance_, office, merged));
  ozghub_office_info info{sizeof(ozghub_office_info), ch->office_.id.c_str(),
                          ch->office_.name.c_str(), office.has_certificate ? 1 : 0};
  char error[OZGHUB_ERROR_CAPACITY] = {0};
  if (type_->bind(instance_, &info, ch->params_.view(), &ch->handle_, error, sizeof(error)) !=
      OZGHUB_OK) {
    error[sizeof(error) - 1] = '\0';
    throw std::runtime_error(std::string("bind refused: ") + error);
  }
  return ch;
}

inline DeliveryOutcome TestInstance::deliver(const TestChannel& channel,
                                             const SampleDelivery& d) const {
  const auto b = [](const std::string& s) { return abi::bytes(s); };
  const abi::AttachmentsView attachments(d.attachments_);
  detail::Context ctx{channel.office_.has_certificate};
  ozghub_delivery_view v{};
  v.struct_size = sizeof(v);
  v.case_number = b(d.case_number_);
  v.message_id = b(d.message_id_);
  v.sender = b(d.sender_);
  v.area_id = b(d.area_id_);
  v.service_id = b(d.service_id_);
  v.schema = b(d.schema_);
  v.office_id = b(channel.office_.id);
  v.received_at_ms = d.received_at_ms_;
  v.xml = b(d.xml_);
  v.attachments = attachments.data();
  v.attachment_count = attachments.size();
  v.attempt = d.attempt_;
  v.remaining_ms = d.remaining_ms_;
  v.has_certificate = channel.office_.has_certificate ? 1 : 0;
  v.params = channel.params_.view();
  v.host_context = &ctx;
  char error[OZGHUB_ERROR_CAPACITY] = {0};
  ozghub_delivery_result r{sizeof(r), OZGHUB_OUTCOME_RETRY_LATER, -1, error, sizeof(error)};
  type_->deliver(instance_, channel.handle_, &v, &r);
  error[sizeof(error) - 1] = '\0';
  (void)host_;
  return {r.outcome, error, r.retry_after_ms};
}

}  // namespace ozghub::testkit
