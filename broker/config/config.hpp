// The daemon's configuration: one YAML file, validated as a whole.
//
// Every key has a default, so the daemon starts with no file at all (the demo). Unknown keys
// are errors; all errors are collected and reported together, each with file and line. Relative
// paths are resolved against the configuration file's folder (or the working directory for the
// embedded defaults). Loading may throw nothing: errors come back as a Status.
//
// Every key is declared in schema.cpp (its reference: docs/configuration.md, generated); an
// example of a complete file: config/ozg-hub.example.yaml.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/status.hpp"

namespace ozghub::config {

struct SchemaEntry {
  std::string namespace_uri;
  std::string xsd;
};

struct AdapterInstance {
  std::string name;                           // referenced by routing channels
  std::string type;                           // e.g. "transfer_dir", or a plugin's type
  std::map<std::string, std::string> params;  // every other key, unvalidated (see below)
  // Where the entry and each key were declared ("file:line"), for errors. The keys are checked
  // against the type's declared schema once the adapter types (and plugins) are known:
  // delivery/adapter_registry.hpp.
  std::string origin;
  std::map<std::string, std::string> param_origins;
  std::string base_dir;  // relative paths in params are resolved against it
};

// Vendors' adapter plugins: shared libraries loaded from one folder at startup.
struct Plugins {
  std::string directory;          // absolute after load; required when `load` is not empty
  std::vector<std::string> load;  // file names inside `directory` (no path separators)
  std::string origin;             // "file:line" of the `plugins` key
};

struct Limits {
  std::size_t max_message_bytes = 64u << 20;  // whole AMQP message
  std::size_t max_xml_bytes = 16u << 20;
  std::size_t max_attachments = 100;
  int max_xml_depth = 128;
  std::uint32_t credit_window = 256;  // link credit per sending link
  std::uint32_t max_inflight = 4096;  // received but not yet settled, over all links
};

struct RetryPolicy {
  int max_attempts = 10;
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{10 * 60 * 1000};
  double multiplier = 2.0;
  double jitter = 0.2;  // +/- fraction of each backoff
};

// HTTPS on the admin endpoint, with the amqps listener's TLS policy (crypto/tls_policy.hpp).
struct AdminTls {
  bool enabled = false;     // true when the file has an `admin.tls` section
  std::string certificate;  // PEM chain, the server's certificate first
  std::string key;          // PEM, unencrypted; RSA of at least 3072 bits or EC of at least 256
  // PEM CAs. When set, every request but /livez needs a client certificate chaining to one of
  // them (403 without one; a certificate that does not verify fails the handshake).
  std::string client_ca;
};

// The admin HTTP endpoint (metrics, dead letters; broker/admin/).
struct Admin {
  std::string host = "127.0.0.1";  // loopback by default: it can replay and purge
  std::uint16_t port = 9650;       // 0: any free port (logged as admin.listening)
  // admin.ready_certificate_days: /readyz answers not ready (certificate_expiring) while an
  // office certificate of the routing directory expires within this many days (0: only once
  // expired).
  int ready_certificate_days = 2;
  // A file holding the bearer token every request but /livez must carry (401 without it); mode
  // 0600, owned by the daemon's user (common/private_file.hpp). Empty: no token.
  std::string token_file;
  AdminTls tls;
};

// amqps: the TLS listener. The protocol versions and cipher suites are fixed by the hub (BSI
// TR-02102-2: TLS 1.2 with ECDHE and AES-GCM, or TLS 1.3), not configurable.
struct AmqpTls {
  bool enabled = false;  // true when the file has an `amqp.tls` section
  std::string host = "0.0.0.0";
  std::uint16_t port = 5671;
  std::string certificate;  // PEM chain, the server's certificate first
  std::string key;          // PEM, unencrypted; RSA of at least 3072 bits or EC of at least 256
  // PEM CAs. When set, every client must present a certificate chaining to one of them (mutual
  // TLS; Proton cannot ask for a certificate optionally); SASL EXTERNAL needs it.
  std::string client_ca;
  std::string origin;  // "file:line" of the section, for errors found later
};

// Who may log in and how (SASL), on the listeners above.
struct AmqpSecurity {
  // ANONYMOUS login and the plaintext `listen` port. For the demo and tests, never production.
  bool dev_mode = false;
  AmqpTls tls;
  bool external = true;       // SASL EXTERNAL: the client certificate (needs tls.client_ca)
  bool plain = false;         // SASL PLAIN, over TLS only (needs password_file)
  std::string password_file;  // "user:crypt-hash" lines (openssl passwd -6, mkpasswd)
};

// One portal or form server that may submit, and what it may submit.
struct SenderEntry {
  std::string name;                 // the authenticated identity (idempotency, manifest)
  std::string certificate_subject;  // matched after SASL EXTERNAL, e.g. "CN=amt24,O=Amt24,C=DE"
  std::string plain_user;           // matched after SASL PLAIN
  std::vector<std::string> addresses{"applications"};  // target addresses it may attach to
  bool all_services = false;                           // services: "*"
  std::vector<std::string> services;                   // LeiKa keys it may submit
  std::string origin;
};

// Free space on the file system of data_dir. Below the threshold (the larger of the two) the
// hub withholds link credit and reports not ready until space returns; nothing is rejected.
struct Storage {
  std::uint64_t min_free_bytes = 1ull << 30;
  int min_free_percent = 5;
  std::chrono::milliseconds check_interval{1000};
};

// A key-encryption key (broker/crypto/keyring.hpp). `id` is stored with every data key it wraps.
struct KekEntry {
  std::string id;
  std::string type;                // "file" or "pkcs11"
  std::string path;                // file: 32 random bytes, mode 0600, owned by the daemon's user
  bool create_if_missing = false;  // file: write a new key when missing (the demo only)
  std::string module;              // pkcs11: the module's path
  std::string token;               // pkcs11: the token's label
  std::string key;                 // pkcs11: the AES key's label
  std::string pin_file;            // pkcs11: the user PIN, mode 0600
  std::string origin;              // "file:line" of the entry
};

// Encryption at rest: every case is sealed under its own data key, wrapped by the active KEK.
struct Encryption {
  std::string active_kek;  // default: the only entry of `keks`
  std::vector<KekEntry> keks;
};

// Deletion after delivery (broker/store/store.hpp, retention).
struct Retention {
  // After the last channel is delivered (or its dead letter purged) the case's data key and
  // payload are deleted this much later.
  std::chrono::milliseconds payload{std::chrono::hours(24 * 7)};
  // The audit trail of a case (no personal data) is kept this long after the payload's deletion.
  std::chrono::milliseconds audit{std::chrono::hours(24 * 730)};
  std::chrono::milliseconds sweep_interval{std::chrono::minutes(1)};
};

// Signed status events for the senders, read from `status/<sender>` (broker/status/). Enabled
// when a signing key is set.
struct StatusEvents {
  std::string signing_key;  // PEM: EC P-256 (ES256) or RSA of at least 3072 bits (PS256)
  std::string key_id;       // the JWS `kid`; empty: the key's RFC 7638 thumbprint
  std::chrono::milliseconds retention{std::chrono::hours(24 * 7)};
  std::uint64_t max_per_sender = 1'000'000;
  bool enabled() const { return !signing_key.empty(); }
};

// An outgoing connection to a queue on an external AMQP 1.0 broker that this hub consumes from
// (scale-out: several hubs as competing consumers on one queue; ingress/broker_connector.hpp).
struct ConnectorEntry {
  std::string name;    // scopes the sender identity: "<name>/<sender property>"
  std::string url;     // amqp://HOST:PORT or amqps://HOST:PORT
  std::string source;  // the address received from, e.g. "/queue/applications" (RabbitMQ)
  std::uint32_t credit_window = 0;  // 0: limits.credit_window
  std::string user;                 // SASL PLAIN (amqps only); empty: EXTERNAL or ANONYMOUS
  std::string password_file;        // PLAIN's password, one line, mode 0600
  std::string ca;                   // amqps: PEM CAs the broker's certificate must chain to
  std::string certificate;          // amqps: the hub's client certificate (SASL EXTERNAL)
  std::string key;
  std::chrono::milliseconds reconnect_initial{500};
  std::chrono::milliseconds reconnect_max{30000};
  std::string origin;  // "file:line" of the entry
};

struct Config {
  std::string listen_host = "0.0.0.0";  // the plaintext listener: dev_mode only
  std::uint16_t listen_port = 5672;
  AmqpSecurity amqp;
  std::vector<SenderEntry> senders;
  Admin admin;
  std::string data_dir = "ozg-hub-data";
  std::vector<SchemaEntry> schemas;
  std::string routing_directory;
  std::vector<AdapterInstance> adapters;
  Plugins plugins;
  Limits limits;
  int workers = 0;  // 0: one per core
  // Default concurrency of each adapter instance (its own `concurrency` overrides it).
  int delivery_threads = 16;
  // Deliveries each adapter instance keeps in memory; the rest of its backlog waits in the store
  // and is read in as the window drains.
  std::size_t delivery_window = 10000;
  std::size_t commit_max_batch = 2048;
  RetryPolicy retry;
  Storage storage;
  Encryption encryption;
  Retention retention;
  StatusEvents status_events;
  std::string log_level = "info";
  // json: JSON lines on stderr; journal: journald's native protocol; auto: journal when stderr
  // is connected to the journal ($JOURNAL_STREAM), else json (common/log.hpp).
  std::string log_format = "auto";
  std::vector<ConnectorEntry> connectors;
  // case_numbers.instance: the digit this hub puts after the date in its case numbers, so hubs
  // that share a queue and a transfer directory never issue the same number; -1: unset.
  int case_number_instance = -1;
};

// The configuration the daemon uses when started without a file: the demo setup, with paths
// relative to the project root.
extern const char* const kEmbeddedDefaults;

// A duration as the configuration writes it: an integer and a unit, "500ms", "30s", "15m",
// "12h", "7d". invalid_argument otherwise.
Result<std::chrono::milliseconds> parse_duration(const std::string& text);

// Checks the adapter entries against the adapter types, which are known only to the daemon (and
// may come from the plugins the same file names). Returns errors as "file:line: text"; they are
// reported together with the file's own. Called only when the file parsed.
using AdapterCheck = std::function<std::vector<std::string>(const Plugins& plugins,
                                                            const std::vector<AdapterInstance>&)>;

// Parses `yaml` (named `source` in error messages); `base_dir` resolves relative paths.
Result<Config> parse(const std::string& yaml, const std::string& source,
                     const std::string& base_dir, const AdapterCheck& check = {});
// Reads and parses a file.
Result<Config> load_file(const std::string& path, const AdapterCheck& check = {});
// The embedded defaults, relative paths resolved against the working directory.
Result<Config> load_defaults(const AdapterCheck& check = {});

}  // namespace ozghub::config
