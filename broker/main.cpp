// ozg-hub: the daemon. Wires the data path together:
//   AMQP ingress -> intake workers (decode, validate, route) -> committer (synced group commit)
//   -> outbox -> delivery threads -> adapters.
#include <malloc.h>
#include <prometheus/registry.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include "admin/admin_auth.hpp"
#include "admin/admin_server.hpp"
#include "admin/certificate_expiry.hpp"
#include "admin/ops_api.hpp"
#include "admin/process_metrics.hpp"
#include "common/log.hpp"
#include "common/periodic.hpp"
#include "common/thread_name.hpp"
#include "config/config.hpp"
#include "config/reloader.hpp"
#include "config/schema.hpp"
#include "crypto/keyring.hpp"
#include "delivery/delivery_host.hpp"
#include "delivery/plugin_loader.hpp"
#include "ingress/amqp_listener.hpp"
#include "ingress/ingress_gate.hpp"
#include "pipeline/committer.hpp"
#include "pipeline/intake.hpp"
#include "pipeline/outbox.hpp"
#include "pipeline/pipeline_metrics.hpp"
#include "pipeline/routing_state.hpp"
#include "registry.hpp"
#include "status/jws_signer.hpp"
#include "status/status_feed.hpp"
#include "store/disk_monitor.hpp"
#include "store/retention_sweeper.hpp"
#include "store/store.hpp"
#include "store/store_metrics.hpp"
#include "validation/xml_validator.hpp"

namespace {

using namespace ozghub;

constexpr char kUsage[] =
    "usage: ozg-hub [--config FILE] [--check-config FILE] [--config-reference]\n"
    "\n"
    "  --config FILE        run with this configuration (default: the embedded demo defaults,\n"
    "                       paths relative to the working directory)\n"
    "  --check-config FILE  validate the configuration, the schemas and the routing directory,\n"
    "                       print every error and exit (0: valid)\n"
    "  --config-reference   print the reference of every configuration key (Markdown) and exit\n"
    "  --adapter-types      list every adapter type and its configuration keys, and exit (with\n"
    "                       --config: including the types of the plugins it loads)\n"
    "  --status-jwks        with --config: print the public key of status_events.signing_key\n"
    "                       as a JWK Set (for the portals' verifiers) and exit\n";

int fail(const std::string& what) {
  log::error("startup.failed", {{"error", what}});
  std::fprintf(stderr, "ozg-hub: %s\n", what.c_str());
  return 2;
}

log::Level parse_level(const std::string& s) {
  if (s == "debug") return log::Level::kDebug;
  if (s == "warn") return log::Level::kWarn;
  if (s == "error") return log::Level::kError;
  return log::Level::kInfo;
}

struct Loaded {
  config::Config config;
  std::shared_ptr<const validation::SchemaCatalog> catalog;
  delivery::AdapterRegistry adapter_types;
  delivery::AdapterMap adapters;  // declared before `routing`, which points into it
  std::shared_ptr<const pipeline::RoutingSnapshot> routing;
  std::shared_ptr<const crypto::Keyring> keyring;
  std::shared_ptr<const status::JwsSigner> status_signer;  // null: no status events
};

// Everything that can be checked without opening the store or the port.
Status load_everything(const std::string& config_path, Loaded& l) {
  if (Status s = adapters::register_builtin_adapters(l.adapter_types); !s.is_ok()) return s;
  bool plugins_loaded = false;
  const config::AdapterCheck check = [&](const config::Plugins& plugins,
                                         const std::vector<config::AdapterInstance>& instances) {
    // Plugins add adapter types, so they are loaded before the instances are checked; once.
    std::vector<std::string> errors;
    if (!plugins_loaded) {
      plugins_loaded = true;
      if (Status s = delivery::load_plugins(plugins, l.adapter_types); !s.is_ok()) {
        std::string_view text = s.message();
        for (std::size_t pos = 0; pos <= text.size();) {
          std::size_t end = std::min(text.find('\n', pos), text.size());
          errors.emplace_back(text.substr(pos, end - pos));
          pos = end + 1;
        }
      }
    }
    for (auto& e : delivery::check_instances(l.adapter_types, instances)) {
      errors.push_back(std::move(e));
    }
    return errors;
  };
  auto cfg =
      config_path.empty() ? config::load_defaults(check) : config::load_file(config_path, check);
  if (!cfg) return cfg.status();
  l.config = std::move(*cfg);
  std::vector<validation::CatalogEntry> entries;
  for (const auto& s : l.config.schemas) entries.push_back({s.namespace_uri, s.xsd});
  auto catalog = validation::SchemaCatalog::load(entries);
  if (!catalog) return catalog.status();
  l.catalog = *catalog;
  auto adapters =
      delivery::create_adapters(l.adapter_types, l.config.adapters, l.config.delivery_threads);
  if (!adapters) return adapters.status();
  l.adapters = std::move(*adapters);
  auto routing = pipeline::RoutingSnapshot::load(l.config.routing_directory, l.adapters);
  if (!routing) return routing.status();
  l.routing = *routing;
  auto keyring = crypto::Keyring::open(l.config.encryption);
  if (!keyring) return keyring.status();
  l.keyring = *keyring;
  if (const auto& e = l.config.status_events; e.enabled()) {
    auto signer = status::JwsSigner::load(e.signing_key, e.key_id);
    if (!signer) return signer.status();
    l.status_signer = *signer;
  }
  if (!l.config.admin.token_file.empty()) {  // mode, owner and strength, as at startup
    if (auto token = admin::load_token(l.config.admin.token_file); !token) return token.status();
  }
  return Status::ok();
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  bool check_only = false;
  bool list_types = false;
  bool status_jwks = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--config-reference") {
      std::fputs(config::schema::reference_markdown().c_str(), stdout);
      return 0;
    }
    if (a == "--adapter-types") {
      list_types = true;
      continue;
    }
    if (a == "--status-jwks") {
      status_jwks = true;
      continue;
    }
    if ((a == "--config" || a == "--check-config") && i + 1 < argc) {
      config_path = argv[++i];
      check_only = a == "--check-config";
    } else if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else {
      std::fprintf(stderr, "ozg-hub: unknown argument '%s'\n%s", a.c_str(), kUsage);
      return 2;
    }
  }

  // Attachments and their encryptions are buffers of hundreds of KiB to MiB. glibc serves each
  // allocation above 128 KiB with a fresh mmap and returns it on free, and the page faults made
  // a 1 MiB CMS encryption cost 8 ms instead of under 1 ms. Keep such buffers in the heap;
  // give memory back to the system only when 64 MiB are free at its top.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);

  // Signals are taken by one thread with sigwait; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  validation::initialise_xml_library();
  if (list_types && config_path.empty()) {
    delivery::AdapterRegistry types;
    if (Status s = adapters::register_builtin_adapters(types); !s.is_ok()) return fail(s.message());
    for (const auto& name : types.names()) std::printf("%s\n", describe(*types.find(name)).c_str());
    return 0;
  }
  auto loaded = std::make_unique<Loaded>();
  if (Status s = load_everything(config_path, *loaded); !s.is_ok()) return fail(s.message());
  if (list_types) {
    for (const auto& name : loaded->adapter_types.names()) {
      std::printf("%s\n", describe(*loaded->adapter_types.find(name)).c_str());
    }
    return 0;
  }
  if (status_jwks) {
    if (!loaded->status_signer) return fail("status_events.signing_key is not configured");
    std::printf("%s\n", loaded->status_signer->jwks().c_str());
    return 0;
  }
  if (check_only) {
    std::printf("%s: configuration, schemas and routing directory are valid\n",
                config_path.c_str());
    return 0;
  }
  Loaded& l = *loaded;
  log::set_min_level(parse_level(l.config.log_level));
  log::set_format(log::format_named(l.config.log_format));

  std::error_code ec;
  std::filesystem::create_directories(l.config.data_dir, ec);
  if (ec) return fail("cannot create data_dir " + l.config.data_dir + ": " + ec.message());
  const std::string store_dir = (std::filesystem::path(l.config.data_dir) / "store").string();
  auto keys = std::make_shared<crypto::KeyringState>(std::move(l.keyring));
  auto store =
      store::Store::open(store_dir, {keys,
                                     l.config.retention.payload,
                                     l.config.retention.audit,
                                     {l.status_signer != nullptr, l.config.status_events.retention,
                                      l.config.status_events.max_per_sender},
                                     l.config.case_number_instance});
  if (!store) return fail(store.status().message());

  pipeline::RoutingState routing;
  routing.set(std::move(l.routing));  // the state owns it; a reload can release it
  auto metrics_registry = std::make_shared<prometheus::Registry>();
  delivery::DeliveryMetrics delivery_metrics(*metrics_registry);
  pipeline::PipelineMetrics pipeline_metrics(*metrics_registry);
  admin::ProcessMetrics process_metrics(*metrics_registry);
  delivery::DeliveryHost delivery(**store, routing, l.adapters, l.config.retry, delivery_metrics,
                                  l.config.delivery_window);
  auto recovered = delivery.recover();
  if (!recovered) {
    const Status& s = recovered.status();  // kCorruption: a malformed record of ours
    return fail(s.code() == Status::Code::kCorruption
                    ? store::damaged_store_message(store_dir, s.message())
                    : s.message());
  }
  pipeline::Committer committer(**store, delivery, l.config.commit_max_batch, &pipeline_metrics);
  int workers = l.config.workers > 0
                    ? l.config.workers
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  pipeline::Intake intake(l.config.limits, l.catalog, routing, committer, store->get(), keys.get(),
                          &pipeline_metrics);
  store::RetentionSweeper sweeper(**store, *keys, l.config.retention.sweep_interval,
                                  *metrics_registry);
  ingress::IngressGate gate;
  status::StatusMetrics status_metrics(*metrics_registry, (*store)->status_events());
  status::StatusFeed status_feed((*store)->status_events(), l.status_signer, &status_metrics);
  ingress::AmqpListener listener(l.config, intake, gate);
  listener.set_status_feed(&status_feed);
  listener.attach_metrics(*metrics_registry);

  admin::AdminApi admin_api(metrics_registry, delivery, **store);
  admin::probe_adapters(admin_api.readiness(), false);
  // Gauges that are polled: the store's size and oldest case, RSS, certificate expiry.
  store::StoreMetrics store_metrics(**store, *metrics_registry);
  admin::CertificateExpiry certificates(routing, admin_api.readiness(),
                                        l.config.admin.ready_certificate_days, *metrics_registry);
  Periodic gauges;
  gauges.start("gauges", std::chrono::seconds(5), [&] {
    const std::int64_t now = pipeline::now_ms();
    store_metrics.refresh(now);
    process_metrics.refresh();
    certificates.refresh(now / 1000);
    return false;
  });
  store::DiskMonitor disk(l.config.data_dir, l.config.storage, *metrics_registry, [&](bool low) {
    gate.set_paused(low);
    admin_api.readiness().set("disk_low", low);
  });
  if (auto checked = disk.check(); !checked) return fail(checked.status().message());
  config::ReloadMetrics reload_metrics(*metrics_registry);
  config::Reloader reloader(config_path,
                            {&l.adapter_types, &l.adapters, &routing, keys.get(),
                             [&](const config::RetryPolicy& r) { delivery.set_retry_policy(r); },
                             [&] { sweeper.wake(); }},
                            reload_metrics);
  admin_api.set_reloader(&reloader);
  admin::OpsApi ops_api(
      {**store, routing, delivery, l.adapters, delivery_metrics, intake, committer});
  admin_api.attach(ops_api);
  admin::AdminServer admin_server(admin_api);
  if (Status s = admin_server.start(l.config.admin); !s.is_ok()) {
    return fail(s.message());
  }
  disk.start();
  delivery.start();
  admin::probe_adapters(admin_api.readiness(), true);
  sweeper.start();
  ops_api.start();
  status_feed.start();
  committer.start();
  intake.start(workers);
  log::info("hub.started",
            {{"data_dir", l.config.data_dir},
             {"offices", std::to_string(routing.get()->directory->offices().size())},
             {"responsibilities", std::to_string(routing.get()->directory->responsibility_count())},
             {"schemas", std::to_string(l.config.schemas.size())},
             {"recovered_deliveries", std::to_string(*recovered)},
             {"workers", std::to_string(workers)}});

  std::thread signal_thread([&] {
    set_thread_name("signals");
    for (;;) {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0) continue;
      if (sig == SIGHUP) {
        reloader.reload();  // logs what it did
        continue;
      }
      log::info("hub.stopping", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
      admin_api.readiness().set("stopping", true);
      listener.stop();
      return;
    }
  });

  admin_api.readiness().set("starting", false);
  Status s = listener.run();
  admin_api.readiness().set("stopping", true);
  if (!s.is_ok()) {
    log::error("amqp.failed", {{"error", s.message()}});
    // The signal thread is waiting in sigwait: a SIGTERM to the process ends it.
    ::kill(::getpid(), SIGTERM);
  }
  signal_thread.join();
  admin_server.stop();
  ops_api.stop();
  intake.stop();
  committer.stop();
  delivery.stop();
  status_feed.stop();
  disk.stop();
  gauges.stop();
  sweeper.stop();
  log::info("hub.stopped");
  return s.is_ok() ? 0 : 1;
}
