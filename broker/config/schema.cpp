#include "config/schema.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <sstream>

namespace ozghub::config::schema {
namespace {

constexpr Type kSection = Type::kSection, kMapping = Type::kMapping, kList = Type::kList,
               kString = Type::kString, kPath = Type::kPath, kHostPort = Type::kHostPort,
               kBoolean = Type::kBoolean, kInteger = Type::kInteger, kNumber = Type::kNumber,
               kDuration = Type::kDuration;
constexpr Apply kRestart = Apply::kRestart, kReload = Apply::kReload;

// clang-format off
// One line per key: path, type, default (YAML), reloadable, description.
constexpr Key kKeys[] = {
{"listen", kHostPort, "\"0.0.0.0:5672\"", kRestart, "The plaintext AMQP 1.0 listener (port 0: any free port, reported by `amqp.listening`). Opened only with `amqp.dev_mode`; without it, setting this is an error."},
{"amqp", kSection, "", kRestart, "Who may connect, and how. Without `dev_mode`, `amqp.tls` and at least one `senders` entry are required."},
{"amqp.dev_mode", kBoolean, "false", kRestart, "Opens the plaintext `listen` port and accepts SASL ANONYMOUS with anonymous senders allowed everything. Demo and tests only."},
{"amqp.tls", kSection, "", kRestart, "The amqps listener; present means enabled. Protocols and cipher suites are fixed (BSI TR-02102-2), not configurable."},
{"amqp.tls.listen", kHostPort, "\"0.0.0.0:5671\"", kRestart, "Address of the amqps listener."},
{"amqp.tls.certificate", kPath, "", kRestart, "PEM: the hub's certificate first, then its chain. Required."},
{"amqp.tls.key", kPath, "", kRestart, "PEM, unencrypted, readable only by the hub: RSA of at least 3072 bits or EC of at least 256. Required."},
{"amqp.tls.client_ca", kPath, "", kRestart, "PEM CAs of the portals' client certificates. When set, every client must present one (mutual TLS). Required for SASL EXTERNAL."},
{"amqp.sasl", kSection, "", kRestart, "Login mechanisms over TLS."},
{"amqp.sasl.mechanisms", kList, "[EXTERNAL]", kRestart, "EXTERNAL (the client certificate's subject names the sender) and/or PLAIN (user and password, over TLS only)."},
{"amqp.sasl.password_file", kPath, "", kRestart, "PLAIN users: one `user:hash` line each (`openssl passwd -6`, `mkpasswd -m yescrypt`). Required with PLAIN."},
{"senders", kList, "", kRestart, "The portals and form servers that may submit; a login matching no entry is refused."},
{"senders[].name", kString, "", kRestart, "The authenticated identity: replaces the message's `sender`, half of the idempotency key. Required, unique."},
{"senders[].certificate_subject", kString, "", kRestart, "Subject (RFC 2253) of the client certificate matched after SASL EXTERNAL."},
{"senders[].plain_user", kString, "", kRestart, "User name matched after SASL PLAIN."},
{"senders[].addresses", kList, "[applications]", kRestart, "Target addresses the sender may attach to."},
{"senders[].services", kList, "", kRestart, "LeiKa keys (14 digits) the sender may submit, or `\"*\"` for every service. Required."},
{"admin", kSection, "", kRestart, "The admin HTTP endpoint: /metrics, /livez, /readyz, /v1/... (`ozg-hubctl`)."},
{"admin.listen", kHostPort, "\"127.0.0.1:9650\"", kRestart, "Address of the admin endpoint; keep it on loopback (port 0: any free port, reported by `admin.listening`)."},
{"admin.ready_certificate_days", kInteger, "2", kRestart, "/readyz answers not ready (`certificate_expiring`) while an office certificate of the routing directory expires within this many days (0: only once expired)."},
{"admin.token_file", kPath, "", kRestart, "File with the bearer token every request but /livez must carry (401 without it): one line of at least 16 characters, mode 0600, owned by the daemon's user, no symbolic link. Unset: no token."},
{"admin.tls", kSection, "", kRestart, "HTTPS for the admin endpoint with the amqps listener's TLS policy (BSI TR-02102-2); present means enabled."},
{"admin.tls.certificate", kPath, "", kRestart, "PEM: the admin endpoint's certificate, then its chain. Required."},
{"admin.tls.key", kPath, "", kRestart, "PEM, unencrypted, readable only by the hub: RSA of at least 3072 bits or EC of at least 256. Required."},
{"admin.tls.client_ca", kPath, "", kRestart, "PEM CAs of the operators' client certificates. When set, every request but /livez needs a verified client certificate (403 otherwise)."},
{"data_dir", kPath, "ozg-hub-data", kRestart, "The data directory; the RocksDB store lives in `<data_dir>/store`."},
{"schemas", kList, "", kRestart, "Schema catalog: the XSDs applications are validated against (parsed once at startup)."},
{"schemas[].namespace", kString, "", kRestart, "Target namespace of the application's root element. Required."},
{"schemas[].xsd", kPath, "", kRestart, "The entry XSD for that namespace. Required."},
{"routing", kSection, "", kReload, "The routing directory."},
{"routing.directory", kPath, "", kReload, "The routing directory file (offices, channels, certificates, responsibilities, areas), with the bulk responsibilities files it names (`responsibilities_file`, for millions of rules; docs/operations/routing.md). Required. A reload reads them again; a directory that fails to load is not applied."},
{"adapters", kMapping, "", kRestart, "Adapter instances by name, referenced from the offices' channels. Each takes `type`, `concurrency`, `timeout_ms` and its type's keys (`ozg-hub --adapter-types`). At least one is required."},
{"adapters.*.type", kString, "", kRestart, "The adapter type: transfer_dir, http, smtp, or a plugin's type. Required."},
{"plugins", kSection, "", kRestart, "Vendors' adapter plugins, loaded at startup."},
{"plugins.directory", kPath, "", kRestart, "The folder the plugins are loaded from. Required when `load` names libraries."},
{"plugins.load", kList, "[]", kRestart, "File names of shared libraries inside `plugins.directory`."},
{"limits", kSection, "", kRestart, "What one application and one connection may take."},
{"limits.max_message_bytes", kInteger, "67108864", kRestart, "Largest AMQP message: XML plus attachments (`ozg:too-large`)."},
{"limits.max_xml_bytes", kInteger, "16777216", kRestart, "Largest application XML (`ozg:too-large`)."},
{"limits.max_attachments", kInteger, "100", kRestart, "Most attachments per application (`ozg:too-large`)."},
{"limits.max_xml_depth", kInteger, "128", kRestart, "Deepest element nesting (`ozg:forbidden-construct`)."},
{"limits.credit_window", kInteger, "256", kRestart, "Link credit per sending link (more than 0)."},
{"limits.max_inflight", kInteger, "4096", kRestart, "Applications received but not yet settled, over all links (at least `credit_window`)."},
{"workers", kInteger, "0", kRestart, "Validation and routing threads; 0: one per core."},
{"delivery_threads", kInteger, "16", kRestart, "Default `concurrency` of each adapter instance."},
{"delivery_window", kInteger, "10000", kRestart, "Deliveries each adapter instance holds in memory; the rest of a backlog waits in the store."},
{"commit", kSection, "", kRestart, "The group commit."},
{"commit.max_batch", kInteger, "2048", kRestart, "Applications per synced write at most."},
{"retry", kSection, "", kReload, "Delivery retries: exponential backoff with jitter. A reload applies to every retry scheduled after it."},
{"retry.max_attempts", kInteger, "10", kReload, "Attempts per delivery; then it becomes a dead letter (at least 1)."},
{"retry.initial_backoff_ms", kInteger, "1000", kReload, "Wait after the first failed attempt, in milliseconds."},
{"retry.max_backoff_ms", kInteger, "600000", kReload, "Longest wait between attempts, in milliseconds (a peer's Retry-After may exceed it, up to a day)."},
{"retry.multiplier", kNumber, "2.0", kReload, "Factor between consecutive waits (at least 1.0)."},
{"retry.jitter", kNumber, "0.2", kReload, "Each wait varies by up to this fraction either way (0 to below 1)."},
{"storage", kSection, "", kRestart, "Free space on the file system of `data_dir`. Below the larger threshold the hub grants no new link credit and /readyz answers 503 `disk_low`."},
{"storage.min_free_bytes", kInteger, "1073741824", kRestart, "Free bytes the hub keeps."},
{"storage.min_free_percent", kInteger, "5", kRestart, "Free share of the file system the hub keeps, in percent (0 to 100)."},
{"storage.check_interval_ms", kInteger, "1000", kRestart, "How often free space is checked, in milliseconds (at least 1)."},
{"encryption", kSection, "", kReload, "Encryption at rest: each case sealed under its own data key, wrapped by a key-encryption key (KEK). A reload opens the KEKs again (rotation without downtime)."},
{"encryption.active_kek", kString, "", kReload, "The KEK that wraps new data keys. Default: the only entry of `keks`; required with more than one."},
{"encryption.keks", kMapping, "", kReload, "KEKs by id (1-64 of A-Z a-z 0-9 . _ -); the id is stored with each data key. Keep a retired KEK until `ozghub_store_data_keys{kek=...}` shows 0."},
{"encryption.keks.*.type", kString, "", kReload, "`file` or `pkcs11`. Required."},
{"encryption.keks.*.path", kPath, "", kReload, "file: exactly 32 random bytes, owned by the daemon's user, mode 0600 or 0400."},
{"encryption.keks.*.create_if_missing", kBoolean, "false", kReload, "file: write a new key when the file is missing (the demo only)."},
{"encryption.keks.*.module", kPath, "", kReload, "pkcs11: the vendor's PKCS#11 library."},
{"encryption.keks.*.token", kString, "", kReload, "pkcs11: the token's label."},
{"encryption.keks.*.key", kString, "", kReload, "pkcs11: CKA_LABEL of the AES-256 key."},
{"encryption.keks.*.pin_file", kPath, "", kReload, "pkcs11: the user PIN; mode 0600, owned by the daemon's user."},
{"retention", kSection, "", kRestart, "Deletion after delivery."},
{"retention.payload", kDuration, "7d", kRestart, "A delivered case's data key and payload are deleted this much later (audited)."},
{"retention.audit", kDuration, "730d", kRestart, "The audit trail and idempotency record are kept this long after the payload's deletion."},
{"retention.sweep_interval", kDuration, "1m", kRestart, "How often deletions, audit expiries and re-wrapping after a KEK rotation run (more than 0)."},
{"status_events", kSection, "", kRestart, "Signed status events (accepted, delivered, failed, dead_lettered, deleted) that each sender reads from `status/<sender>` (docs/status-events.md). Enabled by `signing_key`."},
{"status_events.signing_key", kPath, "", kRestart, "PEM private key the hub signs the events with (JWS): EC P-256 for ES256 or RSA of at least 3072 bits for PS256; mode 0600, owned by the daemon's user, no symbolic link. Unset: no status events. `ozg-hub --status-jwks` prints its public key for the portals."},
{"status_events.key_id", kString, "", kRestart, "The `kid` in each event's JWS header. Default: the key's RFC 7638 JWK thumbprint."},
{"status_events.retention", kDuration, "7d", kRestart, "Events a sender has not accepted are removed this much after they were written (accepted ones at the next sweep, `retention.sweep_interval`)."},
{"status_events.max_per_sender", kInteger, "1000000", kRestart, "Events kept per sender at most; beyond it the oldest are removed, read or not."},
{"connectors", kList, "", kRestart, "Queues on external AMQP 1.0 brokers this hub consumes from, in addition to (or instead of) listening: several hubs on one queue are competing consumers (docs/operations/scale-out.md). A delivery is settled only after the hub's commit (accepted) or its rejection. Without `amqp.tls` and `dev_mode` the hub then listens on no port."},
{"connectors[].name", kString, "", kRestart, "The connector's name, unique; the sender identity of its applications is `<name>/<sender property>`. Give it the same name on every hub that consumes the same queue. Required."},
{"connectors[].url", kString, "", kRestart, "`amqp://HOST:PORT` or `amqps://HOST:PORT` (TLS with the hub's TLS policy). Required."},
{"connectors[].source", kString, "", kRestart, "The address to receive from, e.g. `/queue/applications` on RabbitMQ. Required."},
{"connectors[].credit_window", kInteger, "0", kRestart, "Link credit this connector holds at most; 0: `limits.credit_window`. Shares `limits.max_inflight` with the listener's links."},
{"connectors[].user", kString, "", kRestart, "SASL PLAIN user (amqps only). Unset: SASL EXTERNAL with `certificate`, else ANONYMOUS."},
{"connectors[].password_file", kPath, "", kRestart, "PLAIN's password: one line, mode 0600, owned by the daemon's user. Required with `user`."},
{"connectors[].ca", kPath, "", kRestart, "amqps: PEM CAs the broker's certificate must chain to; its host name is checked against the URL. Required for amqps."},
{"connectors[].certificate", kPath, "", kRestart, "amqps: PEM client certificate (and chain) of the hub, for SASL EXTERNAL or mutual TLS."},
{"connectors[].key", kPath, "", kRestart, "amqps: PEM private key of `certificate`, unencrypted, readable only by the hub."},
{"connectors[].reconnect_initial_ms", kInteger, "500", kRestart, "Wait before the first reconnect after the broker went away, in milliseconds; doubles per failed attempt."},
{"connectors[].reconnect_max_ms", kInteger, "30000", kRestart, "Longest wait between reconnects, in milliseconds (at most an hour)."},
{"case_numbers", kSection, "", kRestart, "Case numbers (Vorgangsnummern)."},
{"case_numbers.instance", kInteger, "", kRestart, "0-9: the digit this hub puts after the date of every case number (then an 11-digit sequence), so hubs that consume one queue and deliver to one transfer directory never issue the same number. Give each such hub its own. Unset: a 12-digit sequence (one hub)."},
{"log_level", kString, "info", kReload, "debug, info, warn or error."},
{"log_format", kString, "auto", kRestart, "auto, json or journal. auto: the journald native protocol when stderr is the journal ($JOURNAL_STREAM), else JSON lines on stderr."},
};
// clang-format on

// "a.b.c" -> {"a", "b", "c"}; "senders[].name" -> {"senders[]", "name"}.
std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> parts;
  for (std::size_t pos = 0; pos <= path.size();) {
    std::size_t dot = std::min(path.find('.', pos), path.size());
    parts.push_back(path.substr(pos, dot - pos));
    pos = dot + 1;
  }
  return parts;
}

// A key that lives inside a list entry or an operator-named mapping: compared with its
// collection, not alone.
bool inside_collection(std::string_view path) {
  return path.find("[]") != std::string_view::npos || path.find(".*") != std::string_view::npos;
}

// A node as text that does not depend on the YAML style (flow or block, quoting, key order).
void canonical(const YAML::Node& n, std::string& out) {
  if (!n.IsDefined() || n.IsNull()) {
    out += "~";
  } else if (n.IsScalar()) {
    out += '"' + n.Scalar() + '"';
  } else if (n.IsSequence()) {
    out += '[';
    for (const auto& e : n) {
      canonical(e, out);
      out += ',';
    }
    out += ']';
  } else {
    std::vector<std::pair<std::string, std::string>> entries;
    for (const auto& kv : n) {
      std::string v;
      canonical(kv.second, v);
      entries.emplace_back(kv.first.as<std::string>(""), std::move(v));
    }
    std::sort(entries.begin(), entries.end());
    out += '{';
    for (const auto& [k, v] : entries) out += '"' + k + "\":" + v + ',';
    out += '}';
  }
}

// The node at `parts[i..]` below `n`; undefined when absent. (Never assigns to a Node: in
// yaml-cpp that would write into the tree.)
YAML::Node at(const YAML::Node& n, const std::vector<std::string_view>& parts, std::size_t i) {
  if (i == parts.size()) return n;
  // A missing key's node is invalid in yaml-cpp: anything but IsDefined() on it throws.
  if (!n.IsDefined() || !n.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  const YAML::Node child = n[std::string(parts[i])];
  return at(child, parts, i + 1);
}

// The value of `key` in `root` as canonical text; its default when the file leaves it out.
std::string value_of(const YAML::Node& root, const Key& key) {
  const YAML::Node n = at(root, split(key.path), 0);
  std::string out;
  if ((!n.IsDefined() || n.IsNull()) && !key.default_value.empty()) {
    canonical(YAML::Load(std::string(key.default_value)), out);
  } else {
    canonical(n, out);
  }
  return out;
}

std::string markdown_cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::span<const Key> keys() { return kKeys; }

const Key* find(std::string_view path) {
  for (const auto& k : kKeys) {
    if (k.path == path) return &k;
  }
  return nullptr;
}

std::vector<std::string_view> children(std::string_view section) {
  std::vector<std::string_view> out;
  for (const auto& k : kKeys) {
    std::string_view rest = k.path;
    if (!section.empty()) {
      if (rest.size() <= section.size() + 1 || rest.substr(0, section.size()) != section ||
          rest[section.size()] != '.') {
        continue;
      }
      rest.remove_prefix(section.size() + 1);
    }
    if (rest.find('.') == std::string_view::npos) out.push_back(rest);
  }
  return out;
}

const char* type_name(Type type) {
  switch (type) {
    case Type::kSection:
      return "section";
    case Type::kMapping:
      return "mapping";
    case Type::kList:
      return "list";
    case Type::kString:
      return "string";
    case Type::kPath:
      return "path";
    case Type::kHostPort:
      return "HOST:PORT";
    case Type::kBoolean:
      return "boolean";
    case Type::kInteger:
      return "integer";
    case Type::kNumber:
      return "number";
    case Type::kDuration:
      return "duration";
  }
  return "?";
}

std::vector<const Key*> changed_keys(const YAML::Node& before, const YAML::Node& after) {
  std::vector<const Key*> out;
  for (const auto& k : kKeys) {
    if (k.type == Type::kSection || inside_collection(k.path)) continue;
    if (value_of(before, k) != value_of(after, k)) out.push_back(&k);
  }
  return out;
}

std::string reference_markdown() {
  std::ostringstream os;
  os << "# Configuration reference\n\n"
        "<!-- Generated by `ozg-hub --config-reference` from broker/config/schema.cpp; do not\n"
        "     edit. A test fails when this file differs from what the table generates. -->\n\n"
        "ozg-hub reads one YAML file (`ozg-hub --config FILE`). Every key is listed here; any\n"
        "other key is an error. `ozg-hub --check-config FILE` (or `ozg-hubctl check-config\n"
        "FILE`) reports every error at once, each with its file and line. Relative paths are\n"
        "relative to the configuration file's folder. `config/ozg-hub.example.yaml` shows a\n"
        "complete file.\n\n"
        "`[]` stands for every entry of a list, `*` for every name of a mapping whose names you\n"
        "choose. Durations are an integer and a unit: `500ms`, `30s`, `15m`, `12h`, `7d`.\n\n"
        "## Reload\n\n"
        "`kill -HUP` or `ozg-hubctl reload` (`POST /v1/reload` on the admin endpoint) reads the\n"
        "whole file again and validates it first: a file with any error is not applied at all\n"
        "(`ozg-hubctl reload` lists the errors and exits 1; the log says `config.reload_failed`).\n"
        "A valid file applies every key marked *reload* below at once (the routing directory is\n"
        "read again too), without losing work in flight; changed keys marked *restart* are not\n"
        "applied and are reported as `config.restart_required`. Metrics:\n"
        "`ozghub_config_reloads_total{result}`,\n"
        "`ozghub_config_last_reload_successful` and\n"
        "`ozghub_config_last_reload_success_timestamp_seconds`.\n\n"
        "## Keys\n\n"
        "| Key | Type | Default | Applied | Description |\n"
        "| --- | --- | --- | --- | --- |\n";
  for (const auto& k : kKeys) {
    os << "| `" << k.path << "` | " << type_name(k.type) << " | ";
    if (!k.default_value.empty()) os << '`' << markdown_cell(k.default_value) << '`';
    os << " | " << (k.apply == Apply::kReload ? "reload" : "restart") << " | "
       << markdown_cell(k.description) << " |\n";
  }
  return os.str();
}

}  // namespace ozghub::config::schema
