// ozg-hub adapter SDK: a header-only C++17 layer over the C ABI (ozghub/adapter_abi.h), for
// vendors who write an adapter for their Fachverfahren as a shared library.
//
// Writing an adapter
//   1. Derive from ozghub::sdk::Adapter; implement deliver() and, when channels need checks or
//      state, bind().
//   2. Describe the type in a class with static members:
//        struct MyType {
//          static constexpr const char* kName = "my_adapter";          // `type:` in the config
//          static constexpr const char* kDescription = "one line";
//          static std::vector<ozghub::sdk::Param> params();              // the schema
//          static std::unique_ptr<ozghub::sdk::Adapter> create(const ozghub::sdk::ParamSet&,
//                                                              const ozghub::sdk::Host&,
//                                                              std::string& error);
//        };
//   3. In exactly one .cpp file: OZGHUB_ADAPTER("my_plugin", "1.2.3", MyType [, OtherType...]).
//      That defines the exported entry symbol and the static C tables.
//   4. Build a MODULE library against OzgHub::AdapterSdk (find_package(OzgHubAdapterSdk 1)).
//
// Lifecycle and responsibilities are the daemon's (see adapter_abi.h): create() once per
// configured instance, bind() per office channel (again on each routing reload), deliver() per
// attempt, the channel object destroyed when the routing snapshot goes, the Adapter destroyed
// at shutdown. The host owns retries, backoff, dead letters, deadlines and metrics; deliver()
// only attempts once and says how it went. Deliveries are at least once: make a repeated
// delivery of the same case number harmless or recognisable.
//
// Thread-safety: create() and bind() run on one thread at a time; deliver() runs concurrently
// on several threads, also for the same channel, so it must be thread-safe (Channel objects are
// shared read-only). Host functions are thread-safe.
//
// Exceptions: nothing escapes to the host. An exception from create() or bind() becomes a
// configuration error with a generic text; from deliver() it becomes retry_later with the text
// "adapter failed with an exception" (what() is not used: it may carry personal data).
//
// Personal data: error texts and logs must never contain it. Log only the case number, message
// id, area id, service id, schema and office id.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ozghub/adapter_abi.h"

namespace ozghub::sdk {

// One key of the configuration schema (copied into the static C table once).
struct Param {
  enum class Kind : std::int32_t {
    kString = OZGHUB_PARAM_STRING,
    kPath = OZGHUB_PARAM_PATH,
    kInt = OZGHUB_PARAM_INT,
    kBool = OZGHUB_PARAM_BOOL,
    kChoice = OZGHUB_PARAM_CHOICE,
  };
  enum class Scope : std::int32_t {
    kInstance = OZGHUB_SCOPE_INSTANCE,
    kChannel = OZGHUB_SCOPE_CHANNEL,
    kEither = OZGHUB_SCOPE_EITHER,
  };
  std::string name;
  Kind kind = Kind::kString;
  Scope scope = Scope::kInstance;
  bool required = false;
  std::string default_value;  // "" = none
  std::vector<std::string> choices;
  std::int64_t min = 0;
  std::int64_t max = INT64_MAX;
  std::string description;
};

inline std::string_view view(ozghub_bytes b) {
  return b.size == 0 ? std::string_view()
                     : std::string_view(reinterpret_cast<const char*>(b.data), b.size);
}

// Validated parameters (defaults applied, paths absolute). A view: valid only during the call
// it was passed to; copy values you keep.
class ParamSet {
 public:
  explicit ParamSet(const ozghub_params* p) : p_(p) {}
  bool has(std::string_view name) const { return find(name) != nullptr; }
  // The value, or "" when absent.
  std::string_view get(std::string_view name) const {
    const char* v = find(name);
    return v ? std::string_view(v) : std::string_view();
  }
  std::int64_t get_int(std::string_view name, std::int64_t fallback = 0) const {
    std::string_view v = get(name);
    if (v.empty()) return fallback;
    std::int64_t out = 0;
    bool negative = v.front() == '-';
    std::size_t i = negative ? 1 : 0;
    if (i == v.size()) return fallback;
    for (; i < v.size(); ++i) {
      if (v[i] < '0' || v[i] > '9') return fallback;
      out = out * 10 + (v[i] - '0');
    }
    return negative ? -out : out;
  }
  bool get_bool(std::string_view name, bool fallback = false) const {
    std::string_view v = get(name);
    if (v == "true") return true;
    if (v == "false") return false;
    return fallback;
  }
  std::size_t size() const { return p_ ? p_->count : 0; }
  std::string_view name_at(std::size_t i) const { return p_->items[i]->name; }
  std::string_view value_at(std::size_t i) const { return p_->items[i]->value; }

 private:
  const char* find(std::string_view name) const {
    if (!p_) return nullptr;
    for (std::size_t i = 0; i < p_->count; ++i) {
      if (name == p_->items[i]->name) return p_->items[i]->value;
    }
    return nullptr;
  }
  const ozghub_params* p_;
};

// The office a channel belongs to; valid during bind().
struct Office {
  std::string_view id;  // safe as a folder name
  std::string_view name;
  bool has_certificate = false;
};

struct Attachment {
  std::string_view name;  // as the sender named it: sanitise before using it as a path
  std::string_view content_type;
  std::string_view data;
};

// A range over the attachments of a delivery (a span-like view, C++17 has no std::span).
class Attachments {
 public:
  Attachments(const ozghub_attachment_view* const* items, std::size_t count)
      : items_(items), count_(count) {}
  class iterator {
   public:
    iterator(const ozghub_attachment_view* const* p) : p_(p) {}
    Attachment operator*() const {
      return {view((*p_)->name), view((*p_)->content_type), view((*p_)->data)};
    }
    iterator& operator++() {
      ++p_;
      return *this;
    }
    bool operator!=(const iterator& o) const { return p_ != o.p_; }
    bool operator==(const iterator& o) const { return p_ == o.p_; }

   private:
    const ozghub_attachment_view* const* p_;
  };
  iterator begin() const { return iterator(items_); }
  iterator end() const { return iterator(items_ + count_); }
  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  Attachment operator[](std::size_t i) const { return *iterator(items_ + i); }

 private:
  const ozghub_attachment_view* const* items_;
  std::size_t count_;
};

// The result of Host::encrypt_for_office.
struct Encrypted {
  bool ok = false;
  bool no_certificate = false;
  std::string data;   // DER CMS EnvelopedData when ok
  std::string error;  // why not, when !ok (free of personal data)
};

// The host's functions. Copyable handle; valid for the process lifetime.
class Host {
 public:
  explicit Host(const ozghub_host_api* api) : api_(api) {}
  void log(std::int32_t level, const char* event, const std::string& message = {}) const {
    if (api_ && api_->log) api_->log(api_, level, event, message.c_str());
  }
  void info(const char* event, const std::string& message = {}) const {
    log(OZGHUB_LOG_INFO, event, message);
  }
  void warn(const char* event, const std::string& message = {}) const {
    log(OZGHUB_LOG_WARN, event, message);
  }
  void error(const char* event, const std::string& message = {}) const {
    log(OZGHUB_LOG_ERROR, event, message);
  }
  const ozghub_host_api* api() const { return api_; }

 private:
  const ozghub_host_api* api_;
};

// One delivery attempt. A view: valid only during deliver(); it holds personal data.
class Delivery {
 public:
  Delivery(const ozghub_delivery_view* v, const ozghub_host_api* host) : v_(v), host_(host) {}
  std::string_view case_number() const { return view(v_->case_number); }
  std::string_view message_id() const { return view(v_->message_id); }
  std::string_view sender() const { return view(v_->sender); }
  std::string_view area_id() const { return view(v_->area_id); }
  std::string_view service_id() const { return view(v_->service_id); }
  std::string_view schema() const { return view(v_->schema); }
  std::string_view office_id() const { return view(v_->office_id); }
  std::int64_t received_at_ms() const { return v_->received_at_ms; }
  std::string_view xml() const { return view(v_->xml); }
  Attachments attachments() const { return {v_->attachments, v_->attachment_count}; }
  int attempt() const { return v_->attempt; }
  std::int64_t remaining_ms() const { return v_->remaining_ms; }
  bool has_certificate() const { return v_->has_certificate != 0; }
  ParamSet params() const { return ParamSet(v_->params); }

  // Encrypts `plaintext` for the office's certificate through the host (CMS, DER). Copies the
  // host's buffer into the result and releases it.
  Encrypted encrypt_for_office(std::string_view plaintext) const {
    Encrypted out;
    if (!host_ || !host_->encrypt_for_office) {
      out.error = "the host offers no encryption";
      return out;
    }
    ozghub_buffer buf{};
    buf.struct_size = sizeof(buf);
    char error[OZGHUB_ERROR_CAPACITY] = {0};
    ozghub_bytes in{reinterpret_cast<const std::uint8_t*>(plaintext.data()), plaintext.size()};
    std::int32_t rc = host_->encrypt_for_office(host_, v_, in, &buf, error, sizeof(error));
    if (rc == OZGHUB_OK) {
      out.ok = true;
      try {
        out.data.assign(reinterpret_cast<const char*>(buf.data), buf.size);
      } catch (...) {
        host_->free_buffer(host_, &buf);
        throw;
      }
      host_->free_buffer(host_, &buf);
      return out;
    }
    out.no_certificate = rc == OZGHUB_NO_CERTIFICATE;
    out.error = error;
    return out;
  }
  const ozghub_delivery_view& raw() const { return *v_; }

 private:
  const ozghub_delivery_view* v_;
  const ozghub_host_api* host_;
};

// What deliver() returns.
struct Result {
  enum class Outcome : std::int32_t {
    kDelivered = OZGHUB_OUTCOME_DELIVERED,
    kRetryLater = OZGHUB_OUTCOME_RETRY_LATER,
    kRejected = OZGHUB_OUTCOME_REJECTED,
  };
  Outcome outcome = Outcome::kDelivered;
  std::string error;                 // free of personal data; empty when delivered
  std::int64_t retry_after_ms = -1;  // -1: the host's backoff

  static Result delivered() { return {}; }
  static Result retry_later(std::string error, std::int64_t after_ms = -1) {
    return {Outcome::kRetryLater, std::move(error), after_ms};
  }
  static Result rejected(std::string error) { return {Outcome::kRejected, std::move(error), -1}; }
};

// Adapter-defined state of one bound channel. Shared read-only by concurrent deliveries.
class Channel {
 public:
  virtual ~Channel() = default;
};

// What bind() returns: a channel object (may be null), or an error.
struct Bound {
  std::unique_ptr<Channel> channel;
  std::string error;  // non-empty: the channel is refused
  static Bound ok(std::unique_ptr<Channel> c = nullptr) { return {std::move(c), {}}; }
  static Bound refuse(std::string why) { return {nullptr, std::move(why)}; }
};

class Adapter {
 public:
  virtual ~Adapter() = default;
  // Checks a channel's merged parameters against its office and prepares what deliveries on it
  // need. Default: accept, no state.
  virtual Bound bind(const Office& office, const ParamSet& channel_params) {
    (void)office;
    (void)channel_params;
    return Bound::ok();
  }
  // Attempts one delivery. Thread-safe. `channel` is what bind() returned (may be null).
  virtual Result deliver(const Delivery& delivery, const Channel* channel) = 0;
};

namespace detail {

inline void copy_error(char* buf, std::size_t cap, std::string_view text) {
  if (!buf || cap == 0) return;
  std::size_t n = text.size() < cap - 1 ? text.size() : cap - 1;
  std::memcpy(buf, text.data(), n);
  buf[n] = '\0';
}

struct Instance {
  std::unique_ptr<Adapter> adapter;
  const ozghub_host_api* host;
};

// The static C tables of one adapter type, built once from the type's params().
template <typename T>
struct TypeTable {
  std::vector<Param> params;
  std::vector<std::vector<const char*>> choice_ptrs;
  std::vector<ozghub_param_spec> specs;
  std::vector<const ozghub_param_spec*> spec_ptrs;
  ozghub_adapter_type type{};

  TypeTable() : params(T::params()) {
    specs.resize(params.size());
    choice_ptrs.resize(params.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
      const Param& p = params[i];
      for (const auto& c : p.choices) choice_ptrs[i].push_back(c.c_str());
      ozghub_param_spec& s = specs[i];
      s.struct_size = sizeof(ozghub_param_spec);
      s.name = p.name.c_str();
      s.kind = static_cast<std::int32_t>(p.kind);
      s.scope = static_cast<std::int32_t>(p.scope);
      s.required = p.required ? 1 : 0;
      s.default_value = p.default_value.c_str();
      s.choices = choice_ptrs[i].empty() ? nullptr : choice_ptrs[i].data();
      s.choice_count = choice_ptrs[i].size();
      s.min = p.min;
      s.max = p.max;
      s.description = p.description.c_str();
    }
    for (auto& s : specs) spec_ptrs.push_back(&s);
    type.struct_size = sizeof(ozghub_adapter_type);
    type.name = T::kName;
    type.description = T::kDescription;
    type.params = spec_ptrs.empty() ? nullptr : spec_ptrs.data();
    type.param_count = spec_ptrs.size();
    type.create = &TypeTable::create;
    type.bind = &TypeTable::bind;
    type.unbind = &TypeTable::unbind;
    type.deliver = &TypeTable::deliver;
    type.destroy = &TypeTable::destroy;
  }

  static std::int32_t create(const ozghub_params* params, const ozghub_host_api* host,
                             void** instance, char* error, std::size_t cap) noexcept {
    try {
      std::string why;
      std::unique_ptr<Adapter> a = T::create(ParamSet(params), Host(host), why);
      if (!a) {
        copy_error(error, cap, why.empty() ? std::string_view("cannot create the adapter") : why);
        return OZGHUB_ERROR;
      }
      *instance = new Instance{std::move(a), host};
      return OZGHUB_OK;
    } catch (...) {
      copy_error(error, cap, "the adapter failed with an exception while being created");
      return OZGHUB_ERROR;
    }
  }

  static std::int32_t bind(void* instance, const ozghub_office_info* office,
                           const ozghub_params* params, void** channel, char* error,
                           std::size_t cap) noexcept {
    try {
      auto* in = static_cast<Instance*>(instance);
      Office o{office->id, office->name, office->has_certificate != 0};
      Bound b = in->adapter->bind(o, ParamSet(params));
      if (!b.error.empty()) {
        copy_error(error, cap, b.error);
        return OZGHUB_ERROR;
      }
      *channel = b.channel.release();
      return OZGHUB_OK;
    } catch (...) {
      copy_error(error, cap, "the adapter failed with an exception while binding a channel");
      return OZGHUB_ERROR;
    }
  }

  static void unbind(void* /*instance*/, void* channel) noexcept {
    try {
      delete static_cast<Channel*>(channel);
    } catch (...) {
    }
  }

  static void deliver(void* instance, void* channel, const ozghub_delivery_view* delivery,
                      ozghub_delivery_result* result) noexcept {
    try {
      auto* in = static_cast<Instance*>(instance);
      Result r =
          in->adapter->deliver(Delivery(delivery, in->host), static_cast<const Channel*>(channel));
      result->outcome = static_cast<std::int32_t>(r.outcome);
      result->retry_after_ms = r.retry_after_ms;
      copy_error(result->error, result->error_capacity, r.error);
    } catch (...) {
      result->outcome = OZGHUB_OUTCOME_RETRY_LATER;
      result->retry_after_ms = -1;
      copy_error(result->error, result->error_capacity, "adapter failed with an exception");
    }
  }

  static void destroy(void* instance) noexcept {
    try {
      delete static_cast<Instance*>(instance);
    } catch (...) {
    }
  }
};

template <typename T>
TypeTable<T>& table() {
  static TypeTable<T> t;
  return t;
}

// The plugin table over the types Ts. Built on the first entry() call; any exception while
// building it (e.g. bad_alloc) makes entry() return NULL.
template <typename... Ts>
const ozghub_plugin* plugin(const char* name, const char* version) noexcept {
  try {
    static const std::vector<const ozghub_adapter_type*> types{&table<Ts>().type...};
    static ozghub_plugin p{
        sizeof(ozghub_plugin), OZGHUB_ADAPTER_ABI_VERSION, name, version, types.data(),
        types.size()};
    return &p;
  } catch (...) {
    return nullptr;
  }
}

}  // namespace detail
}  // namespace ozghub::sdk

// Defines the plugin's exported entry point over one or more type classes. Use in exactly one
// source file of the library, at global scope.
#define OZGHUB_ADAPTER(plugin_name, plugin_version, ...)                            \
  extern "C" OZGHUB_ADAPTER_EXPORT const ozghub_plugin* ozghub_adapter_entry(       \
      uint32_t host_abi_version, const ozghub_host_api* host);                      \
  extern "C" OZGHUB_ADAPTER_EXPORT const ozghub_plugin* ozghub_adapter_entry(       \
      uint32_t host_abi_version, const ozghub_host_api* host) {                     \
    (void)host_abi_version;                                                         \
    (void)host;                                                                     \
    return ::ozghub::sdk::detail::plugin<__VA_ARGS__>(plugin_name, plugin_version); \
  }
