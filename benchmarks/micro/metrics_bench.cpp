// What the pipeline's metrics cost per application, to compare with the work they measure
// (BM_ValidateAntrag8KiB in the same run):
//   build/benchmarks/ozghub_micro_benchmarks
//   --benchmark_filter='PipelineMetrics|ValidateAntrag8KiB$'
#include <benchmark/benchmark.h>
#include <prometheus/registry.h>

#include <chrono>

#include "pipeline/pipeline_metrics.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using ozghub::pipeline::PipelineMetrics;
using ozghub::pipeline::Stage;
using ozghub::pipeline::StageTimings;

// One application as the intake and the committer account for it: counted as received, three
// stages timed (two clock reads each), the worker's batch of 32 added to the histograms, counted
// as accepted, and its share of one group commit's batch size and sync time.
void BM_PipelineMetricsPerApplication(benchmark::State& state) {
  prometheus::Registry registry;
  PipelineMetrics metrics(registry);
  StageTimings timings;
  std::size_t in_batch = 0;
  for (auto _ : state) {
    metrics.received();
    for (Stage s : {Stage::kValidation, Stage::kRouting, Stage::kEncryption}) {
      const auto start = Clock::now();
      benchmark::ClobberMemory();
      timings.observe(s, Clock::now() - start);
    }
    metrics.accepted(false);
    if (++in_batch == 32) {
      metrics.add(timings);
      metrics.committed(32, std::chrono::milliseconds(2));
      in_batch = 0;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PipelineMetricsPerApplication);
BENCHMARK(BM_PipelineMetricsPerApplication)->Threads(2)->UseRealTime();

}  // namespace
