/* A plugin written against the plain C ABI, compiled as C99: checks that adapter_abi.h is usable
 * from C, and lets the host's tests see an invalid outcome (42) and a missing error text. */
#include <stddef.h>

#include "ozghub/adapter_abi.h"

static int32_t raw_create(const ozghub_params* params, const ozghub_host_api* host, void** instance,
                          char* error, size_t error_capacity) {
  static int the_instance;
  (void)params;
  (void)host;
  (void)error;
  (void)error_capacity;
  *instance = &the_instance;
  return OZGHUB_OK;
}

static int32_t raw_bind(void* instance, const ozghub_office_info* office,
                        const ozghub_params* params, void** channel, char* error,
                        size_t error_capacity) {
  (void)instance;
  (void)office;
  (void)params;
  (void)error;
  (void)error_capacity;
  *channel = NULL;
  return OZGHUB_OK;
}

static void raw_unbind(void* instance, void* channel) {
  (void)instance;
  (void)channel;
}

static void raw_deliver(void* instance, void* channel, const ozghub_delivery_view* delivery,
                        ozghub_delivery_result* result) {
  (void)instance;
  (void)channel;
  (void)delivery;
  result->outcome = 42;
}

static void raw_destroy(void* instance) { (void)instance; }

static const ozghub_adapter_type raw_type = {sizeof(ozghub_adapter_type),
                                             "test_raw",
                                             "plain C test adapter",
                                             NULL,
                                             0,
                                             raw_create,
                                             raw_bind,
                                             raw_unbind,
                                             raw_deliver,
                                             raw_destroy};
static const ozghub_adapter_type* const raw_types[] = {&raw_type};
static const ozghub_plugin raw_plugin = {
    sizeof(ozghub_plugin), OZGHUB_ADAPTER_ABI_VERSION, "raw_plugin", "0", raw_types, 1};

OZGHUB_ADAPTER_EXPORT const ozghub_plugin* ozghub_adapter_entry(uint32_t host_abi_version,
                                                                const ozghub_host_api* host) {
  (void)host_abi_version;
  (void)host;
  return &raw_plugin;
}
