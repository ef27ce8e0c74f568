/* ozg-hub adapter plugin ABI: the stable C boundary between the ozg-hub daemon (the host) and a
 * vendor's adapter shared library (the plugin). Plain C99; also compiles as C++.
 *
 * Most vendors do not use this header directly: ozghub/adapter_sdk.hpp wraps it in C++17 and
 * defines the entry point with OZGHUB_ADAPTER(...). It maps onto the daemon's one adapter
 * interface (an adapter type with a parameter schema; instances created from validated
 * parameters; one binding per office channel; deliver() attempting one delivery).
 *
 * Handshake
 *   The host dlopens the library (RTLD_NOW | RTLD_LOCAL) and looks up one symbol,
 *   OZGHUB_ADAPTER_ENTRY_SYMBOL ("ozghub_adapter_entry"), of type ozghub_adapter_entry_fn. It
 *   calls it once, passing its own ABI version and its host function table. The plugin returns
 *   its plugin table, which states the ABI version the plugin was built for. When that version
 *   differs from the host's, the host refuses the library with an error naming both versions and
 *   never calls anything else in it. Within one ABI version structs only grow at their end; every
 *   struct starts with `struct_size` (sizeof as the writer compiled it) so a reader can tell
 *   which fields exist. Arrays are arrays of pointers, so element sizes never matter.
 *
 * Lifecycle (host's view)
 *   1. entry(): once per library, at startup.
 *   2. create(): once per configured adapter instance, with the instance's validated parameters.
 *   3. bind(): once per (office, channel) naming the instance, again on every routing reload.
 *   4. deliver(): for every delivery attempt on a bound channel.
 *   5. unbind(): when the routing snapshot holding the binding is dropped (after the last
 *      deliver() on it has returned).
 *   6. destroy(): at shutdown, after every binding of the instance is unbound.
 *   The host never unloads (dlclose) a library: its code and static data live as long as the
 *   process.
 *
 * Thread-safety
 *   entry(), create(), bind(), unbind() and destroy() are called from one thread at a time, but
 *   bind()/unbind() may run while deliver() runs on other threads with other bindings of the
 *   same instance. deliver() is called concurrently from up to `concurrency` threads (a host
 *   setting per instance), also on the same channel: it must be thread-safe. Every host function
 *   is thread-safe.
 *
 * Ownership and lifetime (the rule for every pointer below, stated again where it matters)
 *   - "borrowed": the pointer belongs to the caller and is valid only for the duration of the
 *     call it was passed to. Copy what must be kept.
 *   - Strings are UTF-8 and NUL-terminated unless given as ozghub_bytes (pointer + size).
 *   - Tables the plugin returns (plugin table, types, parameter specs) are owned by the plugin
 *     and must stay valid and unchanged until the process exits (static storage).
 *   - The host function table passed to entry() and create() is owned by the host and stays
 *     valid until the process exits; a plugin may keep the pointer.
 *   - No memory allocated on one side is freed on the other, except through
 *     ozghub_host_api.free_buffer for buffers the host allocated.
 *
 * Errors
 *   No C++ exception, longjmp or signal may cross this boundary: a plugin function returns. The
 *   C++ SDK catches everything at the boundary. Error texts go into host-provided fixed
 *   buffers (`error`, `error_capacity`, always NUL-terminated by the writer, truncated when
 *   longer); nothing is allocated for them. Error texts and log messages must never contain
 *   personal data: no names, addresses, file names or XML content taken from an application.
 *   Say "cannot write container: No space left on device", not which file of whom.
 */
#ifndef OZGHUB_ADAPTER_ABI_H
#define OZGHUB_ADAPTER_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* C names in the C style: snake_case structs, upper-case constants. */
/* NOLINTBEGIN(readability-identifier-naming) */

/* The ABI version this header describes. A host accepts only plugins built for exactly its
 * version. */
#define OZGHUB_ADAPTER_ABI_VERSION_CURRENT 1u

/* The version a plugin built from this header declares. OZGHUB_ADAPTER_ABI_VERSION_OVERRIDE
 * exists only to build plugins that test the host's refusal of a mismatch; never set it in a real
 * plugin. */
#ifdef OZGHUB_ADAPTER_ABI_VERSION_OVERRIDE
#define OZGHUB_ADAPTER_ABI_VERSION (OZGHUB_ADAPTER_ABI_VERSION_OVERRIDE)
#else
#define OZGHUB_ADAPTER_ABI_VERSION OZGHUB_ADAPTER_ABI_VERSION_CURRENT
#endif

/* The name of the one symbol a plugin exports. */
#define OZGHUB_ADAPTER_ENTRY_SYMBOL "ozghub_adapter_entry"

#if defined(_WIN32)
#define OZGHUB_ADAPTER_EXPORT __declspec(dllexport)
#else
#define OZGHUB_ADAPTER_EXPORT __attribute__((visibility("default")))
#endif

/* Error text buffers the host provides are at least this large (bytes, with the NUL). */
#define OZGHUB_ERROR_CAPACITY 512u

/* ---- Enumerations (passed as int32_t so their size is fixed) ---------------------------- */

enum { OZGHUB_LOG_DEBUG = 0, OZGHUB_LOG_INFO = 1, OZGHUB_LOG_WARN = 2, OZGHUB_LOG_ERROR = 3 };

enum {
  OZGHUB_PARAM_STRING = 0,
  OZGHUB_PARAM_PATH = 1,  /* relative paths are resolved against the declaring file's folder */
  OZGHUB_PARAM_INT = 2,   /* decimal integer in [min, max] */
  OZGHUB_PARAM_BOOL = 3,  /* "true" or "false" */
  OZGHUB_PARAM_CHOICE = 4 /* one of `choices` */
};

enum {
  OZGHUB_SCOPE_INSTANCE = 0, /* only in the adapter entry of the main configuration */
  OZGHUB_SCOPE_CHANNEL = 1,  /* only in a routing channel's `params` */
  OZGHUB_SCOPE_EITHER = 2    /* in either; a channel's value overrides the instance's */
};

enum {
  OZGHUB_OUTCOME_DELIVERED = 0,
  OZGHUB_OUTCOME_RETRY_LATER = 1, /* the host retries with backoff (or after retry_after_ms) */
  OZGHUB_OUTCOME_REJECTED = 2     /* permanent: the delivery goes to the dead letters */
  /* Any other value is treated as RETRY_LATER by the host. */
};

/* Return codes of host functions and of create()/bind(). */
enum {
  OZGHUB_OK = 0,
  OZGHUB_ERROR = 1,         /* failed; the error buffer says why */
  OZGHUB_NO_CERTIFICATE = 2 /* encrypt_for_office: the office has no certificate */
};

/* ---- Data crossing the boundary ---------------------------------------------------------- */

/* A byte range. Borrowed; not NUL-terminated. `data` may be NULL when `size` is 0. */
typedef struct ozghub_bytes {
  const uint8_t* data;
  size_t size;
} ozghub_bytes;

/* One declared configuration key of an adapter type. Owned by the plugin, static storage. */
typedef struct ozghub_param_spec {
  uint32_t struct_size;       /* sizeof(ozghub_param_spec) */
  const char* name;           /* the key; not "concurrency" or "timeout_ms" (host keys) */
  int32_t kind;               /* OZGHUB_PARAM_* */
  int32_t scope;              /* OZGHUB_SCOPE_* */
  int32_t required;           /* nonzero: required after merging instance and channel values */
  const char* default_value;  /* NULL or "": no default */
  const char* const* choices; /* OZGHUB_PARAM_CHOICE: `choice_count` strings; else NULL */
  size_t choice_count;
  int64_t min; /* OZGHUB_PARAM_INT bounds, inclusive; ignored for other kinds */
  int64_t max;
  const char* description; /* one line, for --check-config and docs; may be NULL */
} ozghub_param_spec;

/* One validated parameter value (defaults applied, paths absolute). Borrowed. */
typedef struct ozghub_param {
  uint32_t struct_size; /* sizeof(ozghub_param) */
  const char* name;
  const char* value;
} ozghub_param;

/* Validated parameters. Borrowed: valid during the call they are passed to (create, bind,
 * deliver). Only declared keys appear; a key without value and without default is absent. */
typedef struct ozghub_params {
  uint32_t struct_size; /* sizeof(ozghub_params) */
  const ozghub_param* const* items;
  size_t count;
} ozghub_params;

/* The office a channel belongs to. Borrowed, valid during bind(). */
typedef struct ozghub_office_info {
  uint32_t struct_size;    /* sizeof(ozghub_office_info) */
  const char* id;          /* [A-Za-z0-9._-]+, safe as a folder name */
  const char* name;        /* the office's display name (an authority, not a person) */
  int32_t has_certificate; /* nonzero: deliveries must be encrypted (encrypt_for_office) */
} ozghub_office_info;

/* One attachment of an application. Borrowed, valid during deliver(). Contains personal data. */
typedef struct ozghub_attachment_view {
  uint32_t struct_size; /* sizeof(ozghub_attachment_view) */
  ozghub_bytes name;    /* as the sender named it: sanitise before using it as a path */
  ozghub_bytes content_type;
  ozghub_bytes data;
} ozghub_attachment_view;

/* One delivery attempt. Everything is borrowed and valid only during the deliver() call; the
 * payloads are the host's own buffers (not copied). Contains personal data: log only
 * case_number, message_id, area_id, service_id, schema and office_id. */
typedef struct ozghub_delivery_view {
  uint32_t struct_size;     /* sizeof(ozghub_delivery_view) */
  ozghub_bytes case_number; /* 20 digits, YYYYMMDD + 12; the idempotency key */
  ozghub_bytes message_id;
  ozghub_bytes sender; /* may be empty */
  ozghub_bytes area_id;
  ozghub_bytes service_id;
  ozghub_bytes schema;
  ozghub_bytes office_id;
  int64_t received_at_ms; /* UTC, milliseconds since the epoch */
  ozghub_bytes xml;       /* the application XML, UTF-8 */
  const ozghub_attachment_view* const* attachments;
  size_t attachment_count;
  int32_t attempt;             /* 1 for the first attempt */
  int64_t remaining_ms;        /* time left for this attempt (at least 1); return by then */
  int32_t has_certificate;     /* nonzero: encrypt through host->encrypt_for_office */
  const ozghub_params* params; /* the channel's merged parameters (as passed to bind) */
  const void* host_context;    /* opaque to the plugin; identifies this delivery to the host */
} ozghub_delivery_view;

/* What deliver() reports. The host initialises it (outcome RETRY_LATER, retry_after_ms -1,
 * error "" in a buffer of error_capacity >= OZGHUB_ERROR_CAPACITY bytes) before the call; the
 * plugin sets outcome, optionally retry_after_ms, and writes a NUL-terminated text into `error`
 * (not for DELIVERED). The buffer is the host's; the plugin never keeps the pointer. */
typedef struct ozghub_delivery_result {
  uint32_t struct_size;   /* sizeof(ozghub_delivery_result), set by the host */
  int32_t outcome;        /* OZGHUB_OUTCOME_* */
  int64_t retry_after_ms; /* RETRY_LATER: wait at least this long; -1: the host's backoff */
  char* error;
  size_t error_capacity;
} ozghub_delivery_result;

/* A buffer the host allocated and hands to the plugin. The plugin owns it until it passes it
 * to host->free_buffer, exactly once (from any thread); it must not free() it itself. */
typedef struct ozghub_buffer {
  uint32_t struct_size; /* sizeof(ozghub_buffer), set by the plugin before the call */
  uint8_t* data;
  size_t size;
} ozghub_buffer;

/* ---- Host -> plugin: the functions the host offers -------------------------------------- */

typedef struct ozghub_host_api ozghub_host_api;
struct ozghub_host_api {
  uint32_t struct_size; /* sizeof(ozghub_host_api) as the host compiled it */
  uint32_t abi_version; /* the host's OZGHUB_ADAPTER_ABI_VERSION */

  /* Writes one structured log line, attributed to the plugin. `event` is a stable dotted id
   * ("xfall.write_failed"); `message` a short text. Neither may contain personal data. Both are
   * borrowed, NUL-terminated; `message` may be NULL. Thread-safe. */
  void (*log)(const ozghub_host_api* self, int32_t level, const char* event, const char* message);

  /* Encrypts `plaintext` for the certificate of the office of `delivery` (CMS EnvelopedData,
   * DER, AES-256-GCM, RSA-OAEP; `openssl cms -decrypt -inform DER` opens it). Callable only
   * during deliver() with the view passed to it. On OZGHUB_OK, `out->data`/`out->size` hold a
   * buffer the host allocated; the plugin releases it with free_buffer. On failure `out` is
   * zeroed, and a NUL-terminated reason is written to `error` (capacity `error_capacity`, may be
   * 0). Returns OZGHUB_OK, OZGHUB_NO_CERTIFICATE or OZGHUB_ERROR. Thread-safe. */
  int32_t (*encrypt_for_office)(const ozghub_host_api* self, const ozghub_delivery_view* delivery,
                                ozghub_bytes plaintext, ozghub_buffer* out, char* error,
                                size_t error_capacity);

  /* Releases a buffer the host allocated (NULL data is fine) and zeroes it. Thread-safe. */
  void (*free_buffer)(const ozghub_host_api* self, ozghub_buffer* buffer);

  /* The host's own data; plugins do not touch it. */
  void* host_data;
};

/* ---- Plugin -> host: one adapter type ---------------------------------------------------- */

typedef struct ozghub_adapter_type {
  uint32_t struct_size; /* sizeof(ozghub_adapter_type) */
  const char* name;     /* what `type:` names in the configuration; [a-z0-9_]+, unique */
  const char* description;
  const ozghub_param_spec* const* params; /* the configuration schema */
  size_t param_count;

  /* Creates an instance from its validated instance-level parameters. `host` stays valid for
   * the process lifetime. On success stores an opaque instance pointer (owned by the plugin
   * until destroy()) in *instance and returns OZGHUB_OK; else writes the reason to `error` and
   * returns OZGHUB_ERROR. */
  int32_t (*create)(const ozghub_params* params, const ozghub_host_api* host, void** instance,
                    char* error, size_t error_capacity);

  /* Binds one office channel: checks the channel's merged parameters against the office and
   * prepares what deliveries need. May store NULL in *channel. The channel handle is owned by the
   * plugin until unbind(). Returns OZGHUB_OK or OZGHUB_ERROR with the reason in `error` (the host
   * adds office and line). */
  int32_t (*bind)(void* instance, const ozghub_office_info* office,
                  const ozghub_params* channel_params, void** channel, char* error,
                  size_t error_capacity);

  /* Releases a channel handle bind() returned (also NULL ones). No deliver() on it runs. */
  void (*unbind)(void* instance, void* channel);

  /* Attempts one delivery on `channel` (what bind() stored). Thread-safe; see
   * ozghub_delivery_result. Must return by delivery->remaining_ms. */
  void (*deliver)(void* instance, void* channel, const ozghub_delivery_view* delivery,
                  ozghub_delivery_result* result);

  /* Destroys an instance. Every channel of it is unbound already. */
  void (*destroy)(void* instance);
} ozghub_adapter_type;

/* What entry() returns. Static storage in the plugin. */
typedef struct ozghub_plugin {
  uint32_t struct_size;       /* sizeof(ozghub_plugin) */
  uint32_t abi_version;       /* OZGHUB_ADAPTER_ABI_VERSION the plugin was built with */
  const char* plugin_name;    /* for logs, e.g. "xfall_container" */
  const char* plugin_version; /* the vendor's version string, for logs */
  const ozghub_adapter_type* const* types;
  size_t type_count;
} ozghub_plugin;

/* The entry point. `host_abi_version` equals host->abi_version. A plugin always returns its
 * table (the host decides about the version); it returns NULL only when it cannot work at all
 * (then it should log why through host->log when the versions agree). Called once. */
typedef const ozghub_plugin* (*ozghub_adapter_entry_fn)(uint32_t host_abi_version,
                                                        const ozghub_host_api* host);

/* NOLINTEND(readability-identifier-naming) */

#ifdef __cplusplus
}
#endif

#endif /* OZGHUB_ADAPTER_ABI_H */
