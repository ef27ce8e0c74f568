#include "config/config.hpp"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <type_traits>

#include "config/schema.hpp"
#include "crypto/key_strength.hpp"

namespace ozghub::config {

const char* const kEmbeddedDefaults = R"yaml(# ozg-hub embedded defaults: the demo setup.
listen: "0.0.0.0:5672"
amqp:
  dev_mode: true  # plaintext and ANONYMOUS: a demo, not a production setup
data_dir: ozg-hub-data
schemas:
  - namespace: "urn:ozg-hub:schema:antrag:1.0"
    xsd: schemas/ozg-antrag/ozg-antrag-1.0.xsd
routing:
  directory: config/routing.demo.yaml
adapters:
  transfer:
    type: transfer_dir
    root: ozg-hub-data/transfer
encryption:
  keks:
    demo:
      type: file
      path: ozg-hub-demo-kek.key
      create_if_missing: true
)yaml";

namespace {

// Walks the YAML tree, collecting every error with its line instead of stopping at the first.
class Reader {
 public:
  Reader(std::string source, std::string base_dir)
      : source_(std::move(source)), base_dir_(std::move(base_dir)) {}

  void error(const YAML::Node& at, const std::string& what) {
    std::ostringstream os;
    os << source_;
    if (at.IsDefined() && at.Mark().line >= 0) os << ':' << at.Mark().line + 1;
    os << ": " << what;
    errors_.push_back(os.str());
  }

  // Reports keys of `map` that the schema (schema.cpp) does not declare under `section`
  // (default: `where`; "" is the top level).
  void check_keys(const YAML::Node& map, const std::string& where) {
    check_keys(map, where, where);
  }
  void check_keys(const YAML::Node& map, const std::string& where, std::string_view section) {
    if (!map.IsMap()) {
      error(map, where + " must be a mapping");
      return;
    }
    const auto known = schema::children(section);
    for (const auto& kv : map) {
      auto key = kv.first.as<std::string>("");
      if (std::find(known.begin(), known.end(), key) != known.end()) continue;
      std::string list;
      for (auto k : known) {
        if (!list.empty()) list += ", ";
        list += k;
      }
      std::string msg = "unknown key '";
      msg.append(key).append("' in ").append(where).append(" (known: ").append(list).append(")");
      error(kv.first, msg);
    }
  }

  template <typename T>
  void read(const YAML::Node& map, const char* key, T& out, const std::string& where) {
    YAML::Node n = map[key];
    if (!n.IsDefined() || n.IsNull()) return;
    if (!n.IsScalar()) {
      error(n, where + "." + key + " must be a scalar");
      return;
    }
    try {
      if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
        auto v = n.as<long long>();
        if (v < 0 || static_cast<unsigned long long>(v) >
                         static_cast<unsigned long long>(std::numeric_limits<T>::max())) {
          error(n, where + "." + key + " is out of range");
          return;
        }
        out = static_cast<T>(v);
      } else {
        out = n.as<T>();
      }
    } catch (const YAML::Exception&) {
      error(n, where + "." + key + ": '" + n.Scalar() + "' is not a valid value");
    }
  }

  void read_duration(const YAML::Node& map, const char* key, std::chrono::milliseconds& out,
                     const std::string& where) {
    std::string text;
    read(map, key, text, where);
    if (text.empty()) return;
    auto d = parse_duration(text);
    if (!d) {
      error(map[key], where + "." + key + ": " + d.status().message());
      return;
    }
    out = *d;
  }

  void read_ms(const YAML::Node& map, const char* key, std::chrono::milliseconds& out,
               const std::string& where) {
    long long v = out.count();
    read(map, key, v, where);
    out = std::chrono::milliseconds(v);
  }

  std::string path(const std::string& p) const {
    if (p.empty()) return p;
    std::filesystem::path fp(p);
    if (fp.is_absolute()) return fp.lexically_normal().string();
    return (std::filesystem::path(base_dir_) / fp).lexically_normal().string();
  }

  // An error already formatted as "file:line: text".
  void error_text(std::string e) { errors_.push_back(std::move(e)); }

  // "file:line" of a node, for errors reported later by other components.
  std::string origin(const YAML::Node& at) const {
    if (!at.IsDefined() || at.Mark().line < 0) return source_;
    return source_ + ":" + std::to_string(at.Mark().line + 1);
  }
  const std::string& base_dir() const { return base_dir_; }

  Status status() const {
    if (errors_.empty()) return Status::ok();
    std::string msg = std::to_string(errors_.size()) + " configuration error(s):";
    for (const auto& e : errors_) msg += "\n  " + e;
    return Status::invalid_argument(msg);
  }

 private:
  std::string source_;
  std::string base_dir_;
  std::vector<std::string> errors_;
};

void parse_host_port(Reader& r, const YAML::Node& n, const std::string& key, const char* example,
                     std::string& host, std::uint16_t& port) {
  if (!n.IsDefined()) return;
  auto s = n.as<std::string>("");
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    r.error(n, key + " must be HOST:PORT, e.g. \"" + example + "\"");
    return;
  }
  try {
    int p = std::stoi(s.substr(colon + 1));
    if (p < 0 || p > 65535) throw std::out_of_range("port");
    port = static_cast<std::uint16_t>(p);
    host = s.substr(0, colon);
  } catch (const std::exception&) {
    r.error(n, key + ": '" + s.substr(colon + 1) + "' is not a port number (0-65535)");
  }
}

void parse_listen(Reader& r, const YAML::Node& n, Config& c) {
  parse_host_port(r, n, "listen", "0.0.0.0:5672", c.listen_host, c.listen_port);
}

void parse_schemas(Reader& r, const YAML::Node& n, Config& c) {
  if (!n.IsDefined()) return;
  if (!n.IsSequence()) {
    r.error(n, "schemas must be a list of {namespace, xsd}");
    return;
  }
  c.schemas.clear();
  for (const auto& e : n) {
    r.check_keys(e, "schemas[]");
    SchemaEntry s;
    r.read(e, "namespace", s.namespace_uri, "schemas[]");
    r.read(e, "xsd", s.xsd, "schemas[]");
    if (s.namespace_uri.empty() || s.xsd.empty()) {
      r.error(e, "schemas[] needs both 'namespace' and 'xsd'");
      continue;
    }
    s.xsd = r.path(s.xsd);
    c.schemas.push_back(std::move(s));
  }
}

void parse_adapters(Reader& r, const YAML::Node& n, Config& c) {
  if (!n.IsDefined()) return;
  if (!n.IsMap()) {
    r.error(n, "adapters must map instance names to {type, ...}");
    return;
  }
  c.adapters.clear();
  for (const auto& kv : n) {
    AdapterInstance a;
    a.name = kv.first.as<std::string>("");
    a.origin = r.origin(kv.first);
    a.base_dir = r.base_dir();
    if (!kv.second.IsMap()) {
      r.error(kv.second, "adapters." + a.name + " must be a mapping with a 'type'");
      continue;
    }
    for (const auto& p : kv.second) {
      auto key = p.first.as<std::string>("");
      if (!p.second.IsScalar()) {
        r.error(p.second, "adapters." + a.name + "." + key + " must be a scalar");
        continue;
      }
      if (key == "type") {
        a.type = p.second.Scalar();
      } else {
        a.params[key] = p.second.Scalar();
        a.param_origins[key] = r.origin(p.first);
      }
    }
    if (a.type.empty()) {
      r.error(kv.second, "adapters." + a.name + " has no 'type'");
      continue;
    }
    c.adapters.push_back(std::move(a));
  }
}

void parse_plugins(Reader& r, const YAML::Node& n, Config& c) {
  if (!n.IsDefined()) return;
  r.check_keys(n, "plugins");
  if (!n.IsMap()) return;
  c.plugins.origin = r.origin(n);
  r.read(n, "directory", c.plugins.directory, "plugins");
  c.plugins.directory = r.path(c.plugins.directory);
  if (auto l = n["load"]; l.IsDefined()) {
    if (!l.IsSequence()) {
      r.error(l, "plugins.load must be a list of file names");
      return;
    }
    for (const auto& e : l) {
      auto name = e.as<std::string>("");
      if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
        r.error(e, "plugins.load: '" + name +
                       "' must be a file name inside plugins.directory, without a path");
        continue;
      }
      c.plugins.load.push_back(name);
    }
  }
  if (!c.plugins.load.empty() && c.plugins.directory.empty()) {
    r.error(n, "plugins.directory is required when plugins.load names libraries");
  }
}

// A list of scalars (or one scalar) into `out`; false after reporting an error.
bool read_list(Reader& r, const YAML::Node& n, const std::string& key,
               std::vector<std::string>& out) {
  out.clear();
  if (n.IsScalar()) {
    out.push_back(n.Scalar());
    return true;
  }
  if (!n.IsSequence()) {
    r.error(n, key + " must be a list");
    return false;
  }
  for (const auto& e : n) {
    if (!e.IsScalar()) {
      r.error(e, key + " must be a list of strings");
      return false;
    }
    out.push_back(e.Scalar());
  }
  return true;
}

bool valid_kek_id(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char ch : id) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' && ch != '.') {
      return false;
    }
  }
  return true;
}

void require_readable(Reader& r, const YAML::Node& at, const std::string& key,
                      const std::string& file) {
  if (!file.empty() && ::access(file.c_str(), R_OK) != 0) {
    r.error(at, key + ": cannot read " + file);
  }
}

void parse_tls(Reader& r, const YAML::Node& n, AmqpTls& t) {
  r.check_keys(n, "amqp.tls");
  if (!n.IsMap()) return;
  t.enabled = true;
  t.origin = r.origin(n);
  parse_host_port(r, n["listen"], "amqp.tls.listen", "0.0.0.0:5671", t.host, t.port);
  r.read(n, "certificate", t.certificate, "amqp.tls");
  r.read(n, "key", t.key, "amqp.tls");
  r.read(n, "client_ca", t.client_ca, "amqp.tls");
  t.certificate = r.path(t.certificate);
  t.key = r.path(t.key);
  t.client_ca = r.path(t.client_ca);
  if (t.certificate.empty() || t.key.empty()) {
    r.error(n, "amqp.tls needs 'certificate' and 'key'");
  } else if (std::string e = crypto::check_server_key(t.certificate, t.key); !e.empty()) {
    r.error(n["key"], "amqp.tls.key: " + e);
  }
  require_readable(r, n["client_ca"], "amqp.tls.client_ca", t.client_ca);
}

void parse_amqp(Reader& r, const YAML::Node& n, AmqpSecurity& a) {
  if (!n.IsDefined()) return;
  r.check_keys(n, "amqp");
  if (!n.IsMap()) return;
  r.read(n, "dev_mode", a.dev_mode, "amqp");
  if (auto t = n["tls"]; t.IsDefined()) parse_tls(r, t, a.tls);
  auto sasl = n["sasl"];
  if (!sasl.IsDefined()) return;
  r.check_keys(sasl, "amqp.sasl");
  if (!sasl.IsMap()) return;
  r.read(sasl, "password_file", a.password_file, "amqp.sasl");
  a.password_file = r.path(a.password_file);
  if (auto m = sasl["mechanisms"]; m.IsDefined()) {
    std::vector<std::string> mechs;
    if (read_list(r, m, "amqp.sasl.mechanisms", mechs)) {
      a.external = a.plain = false;
      for (const auto& mech : mechs) {
        if (mech == "EXTERNAL") {
          a.external = true;
        } else if (mech == "PLAIN") {
          a.plain = true;
        } else {
          r.error(m, "amqp.sasl.mechanisms: '" + mech +
                         "' is not EXTERNAL or PLAIN (ANONYMOUS comes only with amqp.dev_mode)");
        }
      }
    }
    if (!a.tls.enabled && (a.external || a.plain)) {
      r.error(m,
              "amqp.sasl.mechanisms: EXTERNAL and PLAIN need amqp.tls (PLAIN never travels "
              "in plaintext)");
    }
  }
  if (a.plain && a.password_file.empty()) {
    r.error(sasl, "amqp.sasl: PLAIN needs password_file");
  }
  require_readable(r, sasl["password_file"], "amqp.sasl.password_file", a.password_file);
  if (a.tls.enabled && a.external && a.tls.client_ca.empty()) {
    r.error(sasl, "amqp.sasl: EXTERNAL needs amqp.tls.client_ca (or mechanisms: [PLAIN])");
  }
}

bool is_leika_key(const std::string& s) {
  return s.size() == 14 &&
         std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

void parse_sender(Reader& r, const YAML::Node& e, const AmqpSecurity& a, SenderEntry& s) {
  r.check_keys(e, "senders[]");
  if (!e.IsMap()) return;
  s.origin = r.origin(e);
  r.read(e, "name", s.name, "senders[]");
  r.read(e, "certificate_subject", s.certificate_subject, "senders[]");
  r.read(e, "plain_user", s.plain_user, "senders[]");
  if (s.name.empty()) r.error(e, "senders[] needs a 'name'");
  if (s.certificate_subject.empty() && s.plain_user.empty()) {
    r.error(e, "senders[] '" + s.name + "' needs certificate_subject or plain_user");
  }
  if (!s.certificate_subject.empty() && !(a.tls.enabled && a.external)) {
    r.error(e["certificate_subject"],
            "senders[] '" + s.name + "': certificate_subject needs SASL EXTERNAL over amqp.tls");
  }
  if (!s.plain_user.empty() && !a.plain) {
    r.error(e["plain_user"], "senders[] '" + s.name + "': plain_user needs SASL PLAIN");
  }
  if (auto n = e["addresses"];
      n.IsDefined() && read_list(r, n, "senders[].addresses", s.addresses)) {
    for (const auto& address : s.addresses) {
      if (address != "applications") {
        r.error(n, "senders[].addresses: unknown address '" + address +
                       "' (the hub receives on 'applications')");
      }
    }
  }
  auto services = e["services"];
  if (!services.IsDefined()) {
    r.error(e, "senders[] '" + s.name + "' needs 'services': a list of LeiKa keys, or \"*\"");
  } else if (services.IsScalar() && services.Scalar() == "*") {
    s.all_services = true;
  } else if (read_list(r, services, "senders[].services", s.services)) {
    for (const auto& key : s.services) {
      if (!is_leika_key(key)) {
        r.error(services, "senders[].services: '" + key + "' is not a 14-digit LeiKa key");
      }
    }
  }
}

void parse_senders(Reader& r, const YAML::Node& n, Config& c) {
  if (!n.IsDefined()) return;
  if (!n.IsSequence()) {
    r.error(n, "senders must be a list of {name, certificate_subject/plain_user, services}");
    return;
  }
  std::set<std::string> names;
  std::set<std::string> subjects;
  std::set<std::string> users;
  for (const auto& e : n) {
    SenderEntry s;
    parse_sender(r, e, c.amqp, s);
    if (!s.name.empty() && !names.insert(s.name).second) {
      r.error(e, "senders[]: the name '" + s.name + "' is used twice");
    }
    if (!s.certificate_subject.empty() && !subjects.insert(s.certificate_subject).second) {
      r.error(e, "senders[]: the certificate_subject of '" + s.name + "' is used twice");
    }
    if (!s.plain_user.empty() && !users.insert(s.plain_user).second) {
      r.error(e, "senders[]: the plain_user of '" + s.name + "' is used twice");
    }
    c.senders.push_back(std::move(s));
  }
}

// connectors: queues on external brokers (ingress/broker_connector.hpp).
void parse_connector(Reader& r, const YAML::Node& e, ConnectorEntry& c) {
  r.check_keys(e, "connectors[]");
  if (!e.IsMap()) return;
  c.origin = r.origin(e);
  const std::string where = "connectors[]";
  r.read(e, "name", c.name, where);
  r.read(e, "url", c.url, where);
  r.read(e, "source", c.source, where);
  r.read(e, "credit_window", c.credit_window, where);
  r.read(e, "user", c.user, where);
  r.read(e, "password_file", c.password_file, where);
  r.read(e, "ca", c.ca, where);
  r.read(e, "certificate", c.certificate, where);
  r.read(e, "key", c.key, where);
  r.read_ms(e, "reconnect_initial_ms", c.reconnect_initial, where);
  r.read_ms(e, "reconnect_max_ms", c.reconnect_max, where);
  c.password_file = r.path(c.password_file);
  c.ca = r.path(c.ca);
  c.certificate = r.path(c.certificate);
  c.key = r.path(c.key);
  if (c.name.empty()) r.error(e, "connectors[] needs a 'name'");
  if (c.source.empty()) r.error(e, "connectors[] '" + c.name + "' needs a 'source' address");
  const bool tls = c.url.starts_with("amqps://");
  const std::string rest =
      c.url.substr(c.url.find("://") == std::string::npos ? 0 : c.url.find("://") + 3);
  const auto colon = rest.rfind(':');
  if (!(tls || c.url.starts_with("amqp://")) || colon == std::string::npos || colon == 0 ||
      colon + 1 == rest.size() || rest.find('/') != std::string::npos) {
    r.error(e["url"].IsDefined() ? e["url"] : e,
            "connectors[] '" + c.name + "': url must be amqp://HOST:PORT or amqps://HOST:PORT");
  }
  // Credentials in the URL would reach the log (connector.connected names the URL) and bypass
  // password_file's permission check.
  if (rest.find('@') != std::string::npos) {
    r.error(e["url"].IsDefined() ? e["url"] : e,
            "connectors[] '" + c.name +
                "': url must not carry credentials (user@); use 'user' and 'password_file'");
  }
  if (!c.user.empty() && !tls) {
    r.error(e["user"], "connectors[] '" + c.name + "': user (SASL PLAIN) needs an amqps url");
  }
  if (!c.user.empty() && c.password_file.empty()) {
    r.error(e, "connectors[] '" + c.name + "': user needs password_file");
  }
  if (tls && c.ca.empty()) {
    r.error(e, "connectors[] '" + c.name + "': an amqps url needs 'ca' to verify the broker");
  }
  if (!tls && !(c.ca.empty() && c.certificate.empty() && c.key.empty())) {
    r.error(e, "connectors[] '" + c.name + "': ca, certificate and key need an amqps url");
  }
  if (c.certificate.empty() != c.key.empty()) {
    r.error(e, "connectors[] '" + c.name + "': certificate and key go together");
  } else if (!c.certificate.empty()) {
    if (std::string err = crypto::check_server_key(c.certificate, c.key); !err.empty()) {
      r.error(e["key"], "connectors[].key: " + err);
    }
  }
  require_readable(r, e["ca"], "connectors[].ca", c.ca);
  require_readable(r, e["password_file"], "connectors[].password_file", c.password_file);
  if (c.reconnect_initial.count() < 1 || c.reconnect_max < c.reconnect_initial ||
      c.reconnect_max > std::chrono::hours(1)) {
    r.error(e, "connectors[] '" + c.name +
                   "': reconnect_initial_ms must be at least 1 and at most reconnect_max_ms, "
                   "which is at most 3600000 (an hour)");
  }
}

void parse_connectors(Reader& r, const YAML::Node& root, Config& c) {
  if (auto n = root["connectors"]; n.IsDefined()) {
    if (!n.IsSequence()) {
      r.error(n, "connectors must be a list of {name, url, source}");
    } else {
      std::set<std::string> names;
      for (const auto& e : n) {
        ConnectorEntry entry;
        parse_connector(r, e, entry);
        if (!entry.name.empty() && !names.insert(entry.name).second) {
          r.error(e, "connectors[]: the name '" + entry.name + "' is used twice");
        }
        c.connectors.push_back(std::move(entry));
      }
    }
  }
  if (auto n = root["case_numbers"]; n.IsDefined()) {
    r.check_keys(n, "case_numbers");
    if (!n.IsMap()) return;
    int instance = -1;
    r.read(n, "instance", instance, "case_numbers");
    if (n["instance"].IsDefined() && (instance < 0 || instance > 9)) {
      r.error(n["instance"], "case_numbers.instance must be a digit, 0 to 9");
    }
    c.case_number_instance = instance;
  }
}

// Combinations that would leave the hub open, or closed to everyone.
void check_login(Reader& r, const YAML::Node& root, const Config& c) {
  if (c.amqp.dev_mode) return;
  if (!c.amqp.tls.enabled) {
    // Only connectors: the hub receives from its brokers and listens on no port.
    if (c.connectors.empty()) {
      r.error(root,
              "amqp.tls is required unless amqp.dev_mode is true: without TLS nobody can "
              "log in (PLAIN and EXTERNAL need TLS, ANONYMOUS needs dev_mode)");
    }
  } else if (c.senders.empty()) {
    r.error(root,
            "senders is empty: nobody may submit (add an entry per portal, or set "
            "amqp.dev_mode for a test setup)");
  }
  if (root["listen"].IsDefined()) {
    r.error(root["listen"],
            "listen is the plaintext port, opened only with amqp.dev_mode; "
            "amqps listens on amqp.tls.listen");
  }
}

void parse_encryption(Reader& r, const YAML::Node& n, Config& c) {
  if (!n.IsDefined()) return;
  r.check_keys(n, "encryption");
  if (!n.IsMap()) return;
  r.read(n, "active_kek", c.encryption.active_kek, "encryption");
  auto keks = n["keks"];
  if (keks.IsDefined() && !keks.IsMap()) {
    r.error(keks, "encryption.keks must map key ids to {type, ...}");
    return;
  }
  c.encryption.keks.clear();
  for (const auto& kv : keks) {
    KekEntry k;
    k.id = kv.first.as<std::string>("");
    k.origin = r.origin(kv.first);
    const std::string where = "encryption.keks." + k.id;
    if (!valid_kek_id(k.id)) {
      r.error(kv.first, where + ": a key id is 1-64 letters, digits, '-', '_' or '.'");
    }
    r.check_keys(kv.second, where, "encryption.keks.*");
    if (!kv.second.IsMap()) continue;
    r.read(kv.second, "type", k.type, where);
    r.read(kv.second, "path", k.path, where);
    r.read(kv.second, "create_if_missing", k.create_if_missing, where);
    r.read(kv.second, "module", k.module, where);
    r.read(kv.second, "token", k.token, where);
    r.read(kv.second, "key", k.key, where);
    r.read(kv.second, "pin_file", k.pin_file, where);
    k.path = r.path(k.path);
    k.pin_file = r.path(k.pin_file);
    if (k.type == "file") {
      if (k.path.empty()) r.error(kv.second, where + ": type file needs 'path'");
      if (!k.module.empty() || !k.token.empty() || !k.key.empty() || !k.pin_file.empty()) {
        r.error(kv.second, where + ": module, token, key and pin_file are for type pkcs11");
      }
    } else if (k.type == "pkcs11") {
      if (k.module.empty() || k.token.empty() || k.key.empty() || k.pin_file.empty()) {
        r.error(kv.second, where + ": type pkcs11 needs 'module', 'token', 'key' and 'pin_file'");
      }
      if (!k.path.empty() || k.create_if_missing) {
        r.error(kv.second, where + ": path and create_if_missing are for type file");
      }
    } else {
      r.error(kv.second, where + ".type must be file or pkcs11");
    }
    c.encryption.keks.push_back(std::move(k));
  }
  if (c.encryption.active_kek.empty()) {
    if (c.encryption.keks.size() == 1) {
      c.encryption.active_kek = c.encryption.keks.front().id;
    } else if (c.encryption.keks.size() > 1) {
      r.error(n, "encryption.active_kek is required when more than one KEK is configured");
    }
  } else {
    bool known = false;
    for (const auto& k : c.encryption.keks) known = known || k.id == c.encryption.active_kek;
    if (!known) {
      r.error(n["active_kek"], "encryption.active_kek: '" + c.encryption.active_kek +
                                   "' is not one of encryption.keks");
    }
  }
}

void parse_retention(Reader& r, const YAML::Node& n, Config& c) {
  if (!n.IsDefined()) return;
  r.check_keys(n, "retention");
  if (!n.IsMap()) return;
  r.read_duration(n, "payload", c.retention.payload, "retention");
  r.read_duration(n, "audit", c.retention.audit, "retention");
  r.read_duration(n, "sweep_interval", c.retention.sweep_interval, "retention");
  if (c.retention.sweep_interval.count() <= 0) {
    r.error(n["sweep_interval"], "retention.sweep_interval must be more than 0");
  }
}

void parse_status_events(Reader& r, const YAML::Node& n, StatusEvents& e) {
  if (!n.IsDefined()) return;
  r.check_keys(n, "status_events");
  if (!n.IsMap()) return;
  r.read(n, "signing_key", e.signing_key, "status_events");
  e.signing_key = r.path(e.signing_key);
  require_readable(r, n["signing_key"], "status_events.signing_key", e.signing_key);
  r.read(n, "key_id", e.key_id, "status_events");
  r.read_duration(n, "retention", e.retention, "status_events");
  r.read(n, "max_per_sender", e.max_per_sender, "status_events");
  if (e.retention.count() <= 0)
    r.error(n["retention"], "status_events.retention must be more than 0");
  if (e.max_per_sender < 1)
    r.error(n["max_per_sender"], "status_events.max_per_sender must be at least 1");
}

void parse_admin(Reader& r, const YAML::Node& n, Admin& a) {
  if (!n.IsDefined()) return;
  r.check_keys(n, "admin");
  if (!n.IsMap()) return;
  parse_host_port(r, n["listen"], "admin.listen", "127.0.0.1:9650", a.host, a.port);
  r.read(n, "ready_certificate_days", a.ready_certificate_days, "admin");
  r.read(n, "token_file", a.token_file, "admin");
  a.token_file = r.path(a.token_file);
  require_readable(r, n["token_file"], "admin.token_file", a.token_file);
  auto t = n["tls"];
  if (!t.IsDefined()) return;
  r.check_keys(t, "admin.tls");
  if (!t.IsMap()) return;
  a.tls.enabled = true;
  r.read(t, "certificate", a.tls.certificate, "admin.tls");
  r.read(t, "key", a.tls.key, "admin.tls");
  r.read(t, "client_ca", a.tls.client_ca, "admin.tls");
  a.tls.certificate = r.path(a.tls.certificate);
  a.tls.key = r.path(a.tls.key);
  a.tls.client_ca = r.path(a.tls.client_ca);
  if (a.tls.certificate.empty() || a.tls.key.empty()) {
    r.error(t, "admin.tls needs 'certificate' and 'key'");
  } else if (std::string e = crypto::check_server_key(a.tls.certificate, a.tls.key); !e.empty()) {
    r.error(t["key"], "admin.tls.key: " + e);
  }
  require_readable(r, t["client_ca"], "admin.tls.client_ca", a.tls.client_ca);
}

Result<Config> parse_node(const YAML::Node& root, Reader& r, const AdapterCheck& check) {
  Config c;
  if (root.IsNull() || !root.IsDefined()) return c;
  r.check_keys(root, "the top level", "");
  if (!root.IsMap()) return r.status();
  parse_listen(r, root["listen"], c);
  parse_amqp(r, root["amqp"], c.amqp);
  parse_senders(r, root["senders"], c);
  parse_connectors(r, root, c);
  check_login(r, root, c);
  parse_admin(r, root["admin"], c.admin);
  r.read(root, "data_dir", c.data_dir, "top level");
  c.data_dir = r.path(c.data_dir);
  parse_schemas(r, root["schemas"], c);
  if (auto n = root["routing"]; n.IsDefined()) {
    r.check_keys(n, "routing");
    r.read(n, "directory", c.routing_directory, "routing");
  }
  c.routing_directory = r.path(c.routing_directory);
  parse_adapters(r, root["adapters"], c);
  parse_plugins(r, root["plugins"], c);
  if (auto n = root["limits"]; n.IsDefined()) {
    r.check_keys(n, "limits");
    r.read(n, "max_message_bytes", c.limits.max_message_bytes, "limits");
    r.read(n, "max_xml_bytes", c.limits.max_xml_bytes, "limits");
    r.read(n, "max_attachments", c.limits.max_attachments, "limits");
    r.read(n, "max_xml_depth", c.limits.max_xml_depth, "limits");
    r.read(n, "credit_window", c.limits.credit_window, "limits");
    r.read(n, "max_inflight", c.limits.max_inflight, "limits");
    if (c.limits.credit_window == 0)
      r.error(n["credit_window"], "limits.credit_window must be > 0");
    if (c.limits.max_inflight < c.limits.credit_window) {
      r.error(n, "limits.max_inflight must be at least limits.credit_window");
    }
  }
  r.read(root, "workers", c.workers, "top level");
  r.read(root, "delivery_threads", c.delivery_threads, "top level");
  r.read(root, "delivery_window", c.delivery_window, "top level");
  if (c.delivery_window < 1) r.error(root["delivery_window"], "delivery_window must be at least 1");
  if (auto n = root["commit"]; n.IsDefined()) {
    r.check_keys(n, "commit");
    r.read(n, "max_batch", c.commit_max_batch, "commit");
  }
  if (auto n = root["retry"]; n.IsDefined()) {
    r.check_keys(n, "retry");
    r.read(n, "max_attempts", c.retry.max_attempts, "retry");
    r.read_ms(n, "initial_backoff_ms", c.retry.initial_backoff, "retry");
    r.read_ms(n, "max_backoff_ms", c.retry.max_backoff, "retry");
    r.read(n, "multiplier", c.retry.multiplier, "retry");
    r.read(n, "jitter", c.retry.jitter, "retry");
    if (c.retry.max_attempts < 1) r.error(n, "retry.max_attempts must be at least 1");
    if (c.retry.multiplier < 1.0) r.error(n, "retry.multiplier must be at least 1.0");
    if (c.retry.jitter < 0.0 || c.retry.jitter >= 1.0) r.error(n, "retry.jitter must be in [0, 1)");
  }
  if (auto n = root["storage"]; n.IsDefined()) {
    r.check_keys(n, "storage");
    r.read(n, "min_free_bytes", c.storage.min_free_bytes, "storage");
    r.read(n, "min_free_percent", c.storage.min_free_percent, "storage");
    r.read_ms(n, "check_interval_ms", c.storage.check_interval, "storage");
    if (c.storage.min_free_percent > 100) {
      r.error(n["min_free_percent"], "storage.min_free_percent must be at most 100");
    }
    if (c.storage.check_interval.count() < 1) {
      r.error(n["check_interval_ms"], "storage.check_interval_ms must be at least 1");
    }
  }
  parse_encryption(r, root["encryption"], c);
  parse_retention(r, root["retention"], c);
  parse_status_events(r, root["status_events"], c.status_events);
  r.read(root, "log_level", c.log_level, "top level");
  if (c.log_level != "debug" && c.log_level != "info" && c.log_level != "warn" &&
      c.log_level != "error") {
    r.error(root["log_level"], "log_level must be debug, info, warn or error");
  }
  r.read(root, "log_format", c.log_format, "top level");
  if (c.log_format != "auto" && c.log_format != "json" && c.log_format != "journal") {
    r.error(root["log_format"], "log_format must be auto, json or journal");
  }
  if (c.routing_directory.empty()) r.error(root, "routing.directory is required");
  if (c.adapters.empty()) r.error(root, "at least one adapter instance is required");
  if (check) {
    for (auto& e : check(c.plugins, c.adapters)) r.error_text(std::move(e));
  }
  if (Status s = r.status(); !s.is_ok()) return s;
  return c;
}

}  // namespace

Result<std::chrono::milliseconds> parse_duration(const std::string& text) {
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  const std::string unit = text.substr(digits);
  const std::string bad = "'" + text + "' is not a duration (e.g. 500ms, 30s, 15m, 12h, 7d)";
  if (digits == 0 || digits > 12) return Status::invalid_argument(bad);
  const long long n = std::stoll(text.substr(0, digits));
  using std::chrono::milliseconds;
  if (unit == "ms") return milliseconds(n);
  if (unit == "s") return milliseconds(n * 1000);
  if (unit == "m") return milliseconds(n * 60 * 1000);
  if (unit == "h") return milliseconds(n * 3600 * 1000);
  if (unit == "d") return milliseconds(n * 86400 * 1000);
  return Status::invalid_argument(bad);
}

Result<Config> parse(const std::string& yaml, const std::string& source,
                     const std::string& base_dir, const AdapterCheck& check) {
  Reader r(source, base_dir);
  try {
    YAML::Node root = YAML::Load(yaml);
    if (root.IsDefined() && !root.IsNull() && !root.IsMap()) {
      return Status::invalid_argument(source + ": the configuration must be a YAML mapping");
    }
    // Keys the file leaves out keep the defaults declared in config.hpp; routing.directory and
    // adapters have none and are required.
    return parse_node(root, r, check);
  } catch (const YAML::Exception& e) {
    return Status::invalid_argument(source + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

Result<Config> load_file(const std::string& path, const AdapterCheck& check) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::io_error(path + ": cannot read the configuration file");
  std::ostringstream ss;
  ss << in.rdbuf();
  auto base = std::filesystem::absolute(path).parent_path().string();
  return parse(ss.str(), path, base, check);
}

Result<Config> load_defaults(const AdapterCheck& check) {
  return parse(kEmbeddedDefaults, "<embedded defaults>", std::filesystem::current_path().string(),
               check);
}

}  // namespace ozghub::config
