// The routing directory at national scale: loads a directory written by generate_directory.py
// through the real loader, prints the load time and memory, then times lookups of realistic
// queries (Google Benchmark), and a reload that swaps the directory while lookups continue.
//
// Usage: ozg-hub-national-routing-bench DIR [--benchmark_... flags]
//   DIR holds routing.yaml (and the bulk file it names) and queries.tsv ("ARS LEIKA" lines).
// benchmarks/run_national_routing.sh generates DIR and runs this.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "common/current.hpp"
#include "routing/routing_directory.hpp"

namespace {

using ozghub::routing::RouteMatch;
using ozghub::routing::RoutingDirectory;
using Clock = std::chrono::steady_clock;

struct Query {
  std::string ars;
  std::string leika;
};

// A field in KiB of /proc/self/status (VmRSS, VmHWM) or another such file, or -1.
long status_kib(const std::string& field, const char* file = "/proc/self/status") {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

double mib(long kib) { return static_cast<double>(kib) / 1024.0; }

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::vector<Query> read_queries(const std::string& path) {
  std::vector<Query> out;
  std::ifstream in(path);
  Query q;
  while (in >> q.ars >> q.leika) out.push_back(q);
  return out;
}

std::shared_ptr<const RoutingDirectory> load_or_exit(const std::string& path) {
  auto d = RoutingDirectory::load(path);
  if (!d) {
    std::fprintf(stderr, "%s\n", d.status().message().c_str());
    std::exit(1);
  }
  return *d;
}

// What the queries do on this directory: routed by a service rule, by a "*" rule, rejected.
void print_outcomes(const RoutingDirectory& d, const std::vector<Query>& queries) {
  std::size_t service = 0, wildcard = 0, rejected = 0;
  for (const Query& q : queries) {
    auto r = d.lookup(q.ars, q.leika);
    if (const auto* m = std::get_if<RouteMatch>(&r)) {
      (d.responsibility(m->rule).service == "*" ? wildcard : service)++;
    } else {
      rejected++;
    }
  }
  std::printf("queries: %zu (%zu by a service rule, %zu by a \"*\" rule, %zu rejected)\n",
              queries.size(), service, wildcard, rejected);
}

// Each lookup timed on its own (the clock costs some 20 ns of each figure).
void print_latencies(const RoutingDirectory& d, const std::vector<Query>& queries) {
  std::vector<double> ns;
  ns.reserve(queries.size());
  for (const Query& q : queries) {
    auto t0 = Clock::now();
    auto r = d.lookup(q.ars, q.leika);
    benchmark::DoNotOptimize(r);
    ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count());
  }
  std::sort(ns.begin(), ns.end());
  auto at = [&](double p) { return ns[static_cast<std::size_t>(p * (ns.size() - 1))]; };
  std::printf("lookup latency, each timed alone: p50 %.0f ns, p90 %.0f ns, p99 %.0f ns\n", at(0.5),
              at(0.9), at(0.99));
}

// A reload while a thread keeps looking up: how long, how much memory (two directories live
// at once), and that every lookup answered.
void reload_under_lookups(const std::string& path, std::shared_ptr<const RoutingDirectory> d,
                          const std::vector<Query>& queries) {
  ozghub::Current<RoutingDirectory> current(std::move(d));
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> done{0};
  double worst_us = 0;
  std::thread reader([&] {
    std::size_t i = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      auto t0 = Clock::now();
      auto snapshot = current.get();
      auto r = snapshot->lookup(queries[i].ars, queries[i].leika);
      benchmark::DoNotOptimize(r);
      worst_us =
          std::max(worst_us, std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      done.fetch_add(1, std::memory_order_relaxed);
      if (++i == queries.size()) i = 0;
    }
  });
  auto t0 = Clock::now();
  auto fresh = load_or_exit(path);
  const double load_s = seconds_since(t0);
  const std::size_t before_swap = done.load();
  current.set(std::move(fresh));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  stop = true;
  reader.join();
  std::printf(
      "reload under lookups: %.2f s to load the new directory, %zu lookups meanwhile, %zu after "
      "the swap in 0.2 s, slowest lookup %.0f us, VmHWM %.0f MiB\n",
      load_s, before_swap, done.load() - before_swap, worst_us, mib(status_kib("VmHWM")));
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR [--benchmark_... flags]\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const std::string path = dir + "/routing.yaml";
  const std::vector<Query> queries = read_queries(dir + "/queries.tsv");
  if (queries.empty()) {
    std::fprintf(stderr, "%s/queries.tsv: no queries\n", dir.c_str());
    return 1;
  }

  const long rss_before = status_kib("VmRSS");
  auto t0 = Clock::now();
  const std::clock_t cpu0 = std::clock();
  auto d = load_or_exit(path);
  const double load_s = seconds_since(t0);
  const double load_cpu_s = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
  const long rss_after = status_kib("VmRSS");
  std::printf("load: %.2f s (%.2f s CPU) for %zu responsibilities, %zu offices, %zu areas\n",
              load_s, load_cpu_s, d->responsibility_count(), d->offices().size(),
              d->areas().size());
  std::printf(
      "memory: VmHWM %.0f MiB (peak of the process so far), VmRSS %.0f MiB, of which "
      "the directory %.0f MiB (%.0f MiB in huge pages)\n",
      mib(status_kib("VmHWM")), mib(rss_after), mib(rss_after - rss_before),
      mib(status_kib("AnonHugePages", "/proc/self/smaps_rollup")));
  print_outcomes(*d, queries);
  print_latencies(*d, queries);

  benchmark::RegisterBenchmark("BM_NationalLookup", [&](benchmark::State& state) {
    std::size_t i = 0;
    for (auto _ : state) {
      auto r = d->lookup(queries[i].ars, queries[i].leika);
      benchmark::DoNotOptimize(r);
      if (++i == queries.size()) i = 0;
    }
  });
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();

  reload_under_lookups(path, d, queries);
  return 0;
}
