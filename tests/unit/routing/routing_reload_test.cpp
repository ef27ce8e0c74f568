// A reload swaps the routing directory while lookups continue: each lookup answers wholly from
// the directory it took (old or new), never from a mix, and nothing crashes. Runs under TSan in
// CI, so the directories are moderate (100,000 bulk rules each) and the run is time-bounded.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "common/current.hpp"
#include "routing/routing_directory.hpp"
#include "test_support.hpp"

namespace ozghub::routing {
namespace {

using ozghub::testing::corpus_dir;
using ozghub::testing::TempDir;
using ozghub::testing::write_file;

struct Query {
  std::string ars;
  std::string leika;
};

// A directory of `rules` bulk rules over the Gemeinden of GV100AD: every rule of generation
// `gen` names an office "<gen>-<n>", and generation b gives each (service, area) another office
// than generation a, so an answer shows which directory it came from.
std::string write_directory(const std::filesystem::path& dir, const std::string& gen,
                            const std::vector<std::string>& gemeinden, std::size_t services,
                            std::size_t offices) {
  std::string yaml =
      "areas:\n  gv100ad: " + (corpus_dir() / "areas" / "GV100AD_301123.txt").string() +
      "\noffices:\n";
  for (std::size_t o = 0; o < offices; ++o) {
    yaml +=
        "  - { id: " + gen + "-" + std::to_string(o) + ", name: N, channels: [{ adapter: t }] }\n";
  }
  yaml += "responsibilities_file: " + gen + ".tsv\n";
  const std::size_t shift = gen == "a" ? 0 : 1;
  std::string tsv;
  for (std::size_t g = 0; g < gemeinden.size(); ++g) {
    for (std::size_t s = 0; s < services; ++s) {
      tsv += std::to_string(99000000000000ULL + s) + "\t" + gemeinden[g] + "\t" + gen + "-" +
             std::to_string((g + s + shift) % offices) + "\n";
    }
    // A catch-all per Kreis (GV100AD lists a Kreis's Gemeinden together).
    if (g == 0 || gemeinden[g].substr(0, 5) != gemeinden[g - 1].substr(0, 5)) {
      tsv += "*\t" + gemeinden[g].substr(0, 5) + "\t" + gen + "-" + std::to_string(shift) + "\n";
    }
  }
  write_file(dir / (gen + ".tsv"), tsv);
  write_file(dir / (gen + ".yaml"), yaml);
  return (dir / (gen + ".yaml")).string();
}

TEST(RoutingReload, LookupsDuringReloadsAnswerFromOneDirectory) {
  auto areas =
      AreaDirectory::load_gv100ad((corpus_dir() / "areas" / "GV100AD_301123.txt").string());
  ASSERT_OK(areas);
  std::vector<std::string> gemeinden;
  areas->for_each([&](std::string_view ars, std::string_view) {
    if (ars.size() == 12 && gemeinden.size() < 2000) gemeinden.emplace_back(ars);
  });
  ASSERT_EQ(gemeinden.size(), 2000u);
  TempDir tmp;
  const std::size_t services = 50;  // 2000 x 50 = 100,000 rules, plus the Kreis catch-alls
  const std::string a = write_directory(tmp.path(), "a", gemeinden, services, 97);
  const std::string b = write_directory(tmp.path(), "b", gemeinden, services, 97);
  auto first = RoutingDirectory::load(a);
  ASSERT_OK(first);
  ASSERT_GE((*first)->responsibility_count(), 100000u);

  // Queries that a service rule answers, that the Kreis catch-all answers, and that miss.
  std::vector<Query> queries;
  for (std::size_t i = 0; i < gemeinden.size(); i += 7) {
    queries.push_back({gemeinden[i], std::to_string(99000000000000ULL + i % services)});
    queries.push_back({gemeinden[i], "99999999999999"});
    queries.push_back({gemeinden[i].substr(0, 9), "99000000000001"});
  }
  // The expected office of each query in each generation, from a quiet load of each.
  auto expected = [&](const RoutingDirectory& d) {
    std::vector<std::string> out;
    for (const Query& q : queries) {
      auto r = d.lookup(q.ars, q.leika);
      const auto* m = std::get_if<RouteMatch>(&r);
      out.push_back(m ? m->office->id
                      : std::string(condition_symbol(std::get<Rejection>(r).condition)));
    }
    return out;
  };
  auto second = RoutingDirectory::load(b);
  ASSERT_OK(second);
  const std::vector<std::string> want_a = expected(**first);
  const std::vector<std::string> want_b = expected(**second);
  std::size_t differ = 0;
  for (std::size_t i = 0; i < queries.size(); ++i) differ += want_a[i] != want_b[i] ? 1 : 0;
  ASSERT_GT(differ, queries.size() / 2);  // the generations tell themselves apart
  second->reset();

  Current<RoutingDirectory> current(*first);
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> wrong{0};
  std::atomic<std::size_t> lookups{0};
  std::atomic<std::size_t> saw_b{0};
  auto reader = [&](std::size_t offset) {
    std::size_t i = offset;
    while (!stop.load()) {
      auto d = current.get();
      const Query& q = queries[i];
      auto r = d->lookup(q.ars, q.leika);
      const auto* m = std::get_if<RouteMatch>(&r);
      const std::string got =
          m ? m->office->id : std::string(condition_symbol(std::get<Rejection>(r).condition));
      // Which generation this snapshot is, from its own office list: the answer must be that
      // generation's, and the rule must agree with the office.
      const bool is_b = d->offices().front().id[0] == 'b';
      if (got != (is_b ? want_b[i] : want_a[i])) wrong.fetch_add(1);
      if (m != nullptr && d->responsibility(m->rule).office_id != m->office->id) wrong.fetch_add(1);
      if (is_b) saw_b.fetch_add(1);
      lookups.fetch_add(1);
      if (++i == queries.size()) i = 0;
    }
  };
  std::vector<std::thread> readers;
  for (std::size_t t = 0; t < 2; ++t) readers.emplace_back(reader, t * 101);

  // The readers see the first generation, then reloads through the real loader alternate the
  // files for about a second, ending on the second generation, which the readers see too.
  auto run_a_while = [&] {
    const std::size_t before = lookups.load();
    while (lookups.load() < before + 1000) std::this_thread::yield();
  };
  run_a_while();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  int reloads = 0;
  do {
    auto next = RoutingDirectory::load(reloads % 2 == 0 ? b : a);
    if (!next.is_ok()) {
      ADD_FAILURE() << next.status().message();
      break;
    }
    current.set(*next);
    ++reloads;
  } while (std::chrono::steady_clock::now() < deadline || reloads % 2 == 0);
  run_a_while();
  stop = true;
  for (auto& t : readers) t.join();

  EXPECT_EQ(wrong.load(), 0u) << "of " << lookups.load() << " lookups over " << reloads
                              << " reloads";
  EXPECT_GT(saw_b.load(), 0u);
  EXPECT_LT(saw_b.load(), lookups.load());
}

}  // namespace
}  // namespace ozghub::routing
