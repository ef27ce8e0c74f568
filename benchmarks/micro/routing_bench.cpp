// Routing: loading the whole GV100AD file, and a lookup in the demo directory.
#include <benchmark/benchmark.h>

#include <string>

#include "routing/area_directory.hpp"
#include "routing/routing_directory.hpp"

namespace {

const std::string kGv100ad = std::string(OZGHUB_CORPUS_DIR) + "/areas/GV100AD_301123.txt";

void BM_Gv100adLoad(benchmark::State& state) {
  for (auto _ : state) {
    auto dir = ozghub::routing::AreaDirectory::load_gv100ad(kGv100ad);
    if (!dir) state.SkipWithError(dir.status().message().c_str());
    benchmark::DoNotOptimize(dir);
  }
}
BENCHMARK(BM_Gv100adLoad)->Unit(benchmark::kMillisecond);

void BM_LookupDemoDirectory(benchmark::State& state) {
  auto dir = ozghub::routing::RoutingDirectory::load(std::string(OZGHUB_SOURCE_DIR) +
                                                     "/config/routing.demo.yaml");
  if (!dir) {
    state.SkipWithError(dir.status().message().c_str());
    return;
  }
  for (auto _ : state) {
    auto r = (*dir)->lookup("150860140140", "99108047050001");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_LookupDemoDirectory);

}  // namespace
