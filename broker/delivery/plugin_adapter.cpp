#include "delivery/plugin_adapter.hpp"

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>

#include "common/log.hpp"
#include "ozghub/adapter_host_views.hpp"

namespace ozghub::delivery {
namespace {

// What ozghub_delivery_view::host_context points to during one deliver() call.
struct DeliverContext {
  const crypto::Recipient* recipient;
};

void copy_text(char* buf, std::size_t cap, std::string_view text) {
  if (buf == nullptr || cap == 0) return;
  std::size_t n = std::min(text.size(), cap - 1);
  std::memcpy(buf, text.data(), n);
  buf[n] = '\0';
}

using abi::bytes;

// The ABI promises a plugin that create, bind, unbind and destroy of an instance run one at a
// time. bind runs on the thread that loads the routing directory, but a binding is released
// (unbind) wherever the last delivery holding its routing snapshot ends: this lock serialises
// them.
struct ControlLock {
  std::mutex mutex;
};

class PluginBinding final : public ChannelBinding {
 public:
  PluginBinding(const ozghub_adapter_type& type, void* instance, const Params& params,
                std::shared_ptr<ControlLock> control)
      : type_(type), instance_(instance), params_(params.all()), control_(std::move(control)) {}
  ~PluginBinding() override {
    std::lock_guard lock(control_->mutex);
    type_.unbind(instance_, channel_);
  }
  PluginBinding(const PluginBinding&) = delete;
  PluginBinding& operator=(const PluginBinding&) = delete;

  void set_channel(void* channel) { channel_ = channel; }
  void* channel() const { return channel_; }
  const ozghub_params* params() const { return params_.view(); }

 private:
  const ozghub_adapter_type& type_;
  void* instance_;
  void* channel_ = nullptr;
  abi::ParamsView params_;
  std::shared_ptr<ControlLock> control_;
};

class PluginAdapter final : public Adapter {
 public:
  PluginAdapter(const ozghub_adapter_type& type, void* instance, std::string label)
      : type_(type), instance_(instance), label_(std::move(label)) {}
  ~PluginAdapter() override {
    std::lock_guard lock(control_->mutex);
    type_.destroy(instance_);
  }
  PluginAdapter(const PluginAdapter&) = delete;
  PluginAdapter& operator=(const PluginAdapter&) = delete;

  Result<std::shared_ptr<const ChannelBinding>> bind(const ChannelContext& channel) override {
    try {
      auto binding = std::make_shared<PluginBinding>(type_, instance_, channel.params, control_);
      ozghub_office_info office{sizeof(ozghub_office_info), channel.office.id.c_str(),
                                channel.office.name.c_str(), channel.recipient != nullptr ? 1 : 0};
      char error[OZGHUB_ERROR_CAPACITY] = {};
      void* handle = nullptr;
      std::int32_t rc = OZGHUB_ERROR;
      {
        std::lock_guard lock(control_->mutex);
        rc = type_.bind(instance_, &office, binding->params(), &handle, error, sizeof(error));
      }
      error[sizeof(error) - 1] = '\0';
      // A handle the plugin stored even for a refused channel is released with the binding.
      binding->set_channel(handle);
      if (rc != OZGHUB_OK) {
        return Status::invalid_argument(label_ + ": " + (error[0] ? error : "channel refused"));
      }
      return std::shared_ptr<const ChannelBinding>(std::move(binding));
    } catch (const std::exception&) {
      return Status::internal(label_ + ": out of memory binding a channel");
    }
  }

  DeliveryResult deliver(const DeliveryRequest& request) noexcept override {
    try {
      return deliver_view(request);
    } catch (const std::exception&) {
      return DeliveryResult::retry_later("out of memory preparing the delivery");
    }
  }

 private:
  DeliveryResult deliver_view(const DeliveryRequest& request) {
    const auto* binding = dynamic_cast<const PluginBinding*>(request.binding);
    if (binding == nullptr) return DeliveryResult::retry_later("channel is not bound");
    const Application& app = request.case_.app;
    const abi::AttachmentsView attachments(app.attachments);
    DeliverContext context{request.recipient};
    ozghub_delivery_view view{};
    view.struct_size = sizeof(view);
    view.case_number = bytes(request.case_.case_number);
    view.message_id = bytes(app.message_id);
    view.sender = bytes(app.sender);
    view.area_id = bytes(app.area_id);
    view.service_id = bytes(app.service_id);
    view.schema = bytes(app.schema);
    view.office_id = bytes(request.office.id);
    view.received_at_ms = app.received_at_ms;
    view.xml = bytes(app.xml);
    view.attachments = attachments.data();
    view.attachment_count = attachments.size();
    view.attempt = request.attempt;
    view.remaining_ms = request.remaining_ms();
    view.has_certificate = request.recipient != nullptr ? 1 : 0;
    view.params = binding->params();
    view.host_context = &context;

    char error[OZGHUB_ERROR_CAPACITY] = {};
    ozghub_delivery_result result{sizeof(result), OZGHUB_OUTCOME_RETRY_LATER, -1, error,
                                  sizeof(error)};
    type_.deliver(instance_, binding->channel(), &view, &result);
    error[sizeof(error) - 1] = '\0';
    return to_result(result, error);
  }

  // `error` is the host's own buffer: the text is read from there, never through the result's
  // pointer, which the plugin might have pointed elsewhere (or at NULL).
  static DeliveryResult to_result(const ozghub_delivery_result& r, const char* error_buffer) {
    std::string error = error_buffer;
    std::optional<std::chrono::milliseconds> after;
    if (r.retry_after_ms >= 0) after = std::chrono::milliseconds(r.retry_after_ms);
    switch (r.outcome) {
      case OZGHUB_OUTCOME_DELIVERED:
        return DeliveryResult::delivered();
      case OZGHUB_OUTCOME_RETRY_LATER:
        return DeliveryResult::retry_later(error.empty() ? "adapter gave no reason" : error, after);
      case OZGHUB_OUTCOME_REJECTED:
        return DeliveryResult::rejected(error.empty() ? "adapter gave no reason" : error);
      default:
        return DeliveryResult::retry_later("adapter returned an invalid outcome " +
                                           std::to_string(r.outcome));
    }
  }

  const ozghub_adapter_type& type_;
  void* instance_;
  std::string label_;
  std::shared_ptr<ControlLock> control_ = std::make_shared<ControlLock>();
};

const char* or_empty(const char* s) { return s == nullptr ? "" : s; }

void host_log(const ozghub_host_api* self, std::int32_t level, const char* event,
              const char* message) {
  log::Level l = log::Level::kInfo;
  switch (level) {
    case OZGHUB_LOG_DEBUG:
      l = log::Level::kDebug;
      break;
    case OZGHUB_LOG_WARN:
      l = log::Level::kWarn;
      break;
    case OZGHUB_LOG_ERROR:
      l = log::Level::kError;
      break;
    default:
      break;
  }
  if (!log::enabled(l)) return;
  const auto* label = self != nullptr ? static_cast<const std::string*>(self->host_data) : nullptr;
  log::write(l, "plugin.log",
             {{"plugin", label != nullptr ? std::string_view(*label) : std::string_view()},
              {"plugin_event", or_empty(event)},
              {"message", or_empty(message)}});
}

std::int32_t host_encrypt(const ozghub_host_api* /*self*/, const ozghub_delivery_view* delivery,
                          ozghub_bytes plaintext, ozghub_buffer* out, char* error,
                          std::size_t error_capacity) {
  if (out == nullptr) {
    copy_text(error, error_capacity, "encrypt_for_office: no output buffer");
    return OZGHUB_ERROR;
  }
  out->data = nullptr;
  out->size = 0;
  if (delivery == nullptr || delivery->host_context == nullptr ||
      delivery->struct_size < sizeof(ozghub_delivery_view)) {
    copy_text(error, error_capacity, "encrypt_for_office is callable only during deliver()");
    return OZGHUB_ERROR;
  }
  const auto* context = static_cast<const DeliverContext*>(delivery->host_context);
  if (context->recipient == nullptr) {
    copy_text(error, error_capacity, "the office has no certificate");
    return OZGHUB_NO_CERTIFICATE;
  }
  std::string_view in(reinterpret_cast<const char*>(plaintext.data), plaintext.size);
  if (plaintext.data == nullptr) in = {};
  // No exception may cross the C ABI into the plugin: a failed allocation is an error code.
  Result<std::string> cms = Status::internal("encrypt_for_office: out of memory");
  try {
    cms = crypto::encrypt(in, *context->recipient);
  } catch (const std::bad_alloc&) {
  }
  if (!cms) {
    copy_text(error, error_capacity, cms.status().message());
    return OZGHUB_ERROR;
  }
  void* mem = std::malloc(cms->size() == 0 ? 1 : cms->size());
  if (mem == nullptr) {
    copy_text(error, error_capacity, "out of memory");
    return OZGHUB_ERROR;
  }
  std::memcpy(mem, cms->data(), cms->size());
  out->data = static_cast<std::uint8_t*>(mem);
  out->size = cms->size();
  return OZGHUB_OK;
}

void host_free_buffer(const ozghub_host_api* /*self*/, ozghub_buffer* buffer) {
  if (buffer == nullptr) return;
  std::free(buffer->data);
  buffer->data = nullptr;
  buffer->size = 0;
}

const char* kind_text(std::int32_t kind) {
  switch (kind) {
    case OZGHUB_PARAM_STRING:
      return "string";
    case OZGHUB_PARAM_PATH:
      return "path";
    case OZGHUB_PARAM_INT:
      return "int";
    case OZGHUB_PARAM_BOOL:
      return "bool";
    case OZGHUB_PARAM_CHOICE:
      return "choice";
    default:
      return nullptr;
  }
}

}  // namespace

Result<std::vector<ParamSpec>> convert_param_specs(const ozghub_adapter_type& type) {
  std::string tname = or_empty(type.name);
  std::vector<ParamSpec> out;
  if (type.param_count > 0 && type.params == nullptr) {
    return Status::invalid_argument("type '" + tname + "' declares " +
                                    std::to_string(type.param_count) + " keys but no table");
  }
  for (std::size_t i = 0; i < type.param_count; ++i) {
    const ozghub_param_spec* p = type.params[i];
    std::string where = "type '" + tname + "', key #" + std::to_string(i + 1);
    if (p == nullptr || p->struct_size < kParamSpecV1Size) {
      return Status::invalid_argument(where + ": missing or truncated parameter spec");
    }
    if (p->name == nullptr || p->name[0] == '\0') {
      return Status::invalid_argument(where + ": the key has no name");
    }
    where = "type '" + tname + "', key '" + p->name + "'";
    ParamSpec s;
    s.name = p->name;
    if (kind_text(p->kind) == nullptr) {
      return Status::invalid_argument(where + ": unknown kind " + std::to_string(p->kind));
    }
    s.kind = static_cast<ParamSpec::Kind>(p->kind);
    switch (p->scope) {
      case OZGHUB_SCOPE_INSTANCE:
        s.scope = ParamSpec::Scope::kInstance;
        break;
      case OZGHUB_SCOPE_CHANNEL:
        s.scope = ParamSpec::Scope::kChannel;
        break;
      case OZGHUB_SCOPE_EITHER:
        s.scope = ParamSpec::Scope::kEither;
        break;
      default:
        return Status::invalid_argument(where + ": unknown scope " + std::to_string(p->scope));
    }
    s.required = p->required != 0;
    s.default_value = or_empty(p->default_value);
    if (p->kind == OZGHUB_PARAM_CHOICE) {
      if (p->choice_count == 0 || p->choices == nullptr) {
        return Status::invalid_argument(where + ": a choice needs at least one value");
      }
      for (std::size_t c = 0; c < p->choice_count; ++c) {
        if (p->choices[c] == nullptr) {
          return Status::invalid_argument(where + ": choice #" + std::to_string(c + 1) +
                                          " is NULL");
        }
        s.choices.emplace_back(p->choices[c]);
      }
    }
    if (p->kind == OZGHUB_PARAM_INT) {
      if (p->min > p->max) return Status::invalid_argument(where + ": min is above max");
      s.min = p->min;
      s.max = p->max;
    }
    s.description = or_empty(p->description);
    out.push_back(std::move(s));
  }
  return out;
}

Result<AdapterType> make_plugin_type(const ozghub_adapter_type& type, const ozghub_host_api* host,
                                     const std::string& library) {
  if (type.struct_size < kAdapterTypeV1Size) {
    return Status::invalid_argument("an adapter type table is truncated (struct_size " +
                                    std::to_string(type.struct_size) + ")");
  }
  if (type.name == nullptr || type.name[0] == '\0') {
    return Status::invalid_argument("an adapter type has no name");
  }
  if (!type.create || !type.bind || !type.unbind || !type.deliver || !type.destroy) {
    return Status::invalid_argument("type '" + std::string(type.name) +
                                    "' lacks one of create, bind, unbind, deliver, destroy");
  }
  auto specs = convert_param_specs(type);
  if (!specs) return specs.status();
  AdapterType t;
  t.name = type.name;
  t.description = or_empty(type.description);
  t.params = std::move(*specs);
  const ozghub_adapter_type* tp = &type;
  std::string label = library + " type '" + t.name + "'";
  t.create = [tp, host, label](const Params& params) -> Result<std::unique_ptr<Adapter>> {
    abi::ParamsView c(params.all());
    char error[OZGHUB_ERROR_CAPACITY] = {};
    void* instance = nullptr;
    std::int32_t rc = tp->create(c.view(), host, &instance, error, sizeof(error));
    error[sizeof(error) - 1] = '\0';
    if (rc != OZGHUB_OK) {
      return Status::invalid_argument(label + ": " + (error[0] ? error : "create failed"));
    }
    return std::unique_ptr<Adapter>(std::make_unique<PluginAdapter>(*tp, instance, label));
  };
  return t;
}

void init_host_api(ozghub_host_api& api, const std::string* plugin_label) {
  api = {};
  api.struct_size = sizeof(ozghub_host_api);
  api.abi_version = OZGHUB_ADAPTER_ABI_VERSION;
  api.log = &host_log;
  api.encrypt_for_office = &host_encrypt;
  api.free_buffer = &host_free_buffer;
  api.host_data = const_cast<std::string*>(plugin_label);
}

}  // namespace ozghub::delivery
