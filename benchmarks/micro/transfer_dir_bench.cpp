// One delivery into a transfer directory: write, hash, (encrypt,) make durable, rename. The syncs
// dominate, so the figures depend on the file system the folder is on: OZGHUB_BENCH_DIR (default
// the temp dir) chooses it, e.g. a dedicated volume. The 16-thread variants measure the whole
// process's CPU time (kernel included), which is what a delivery costs the machine; compare the
// `sync: file` (fsync per file and folder) and `sync: filesystem` (shared syncfs) rows.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "crypto/cms.hpp"
#include "transfer_dir/transfer_dir_adapter.hpp"

namespace {

namespace fs = std::filesystem;
using ozghub::Case;
using ozghub::adapters::TransferDirAdapter;
using ozghub::delivery::DeliveryRequest;
using ozghub::delivery::Outcome;

// Offices pick their cases up; an office folder that grows without bound is not the steady
// state, and the per-delivery scan for stale temporary folders would skew the figure.
constexpr std::int64_t kCasesPerOfficeFolder = 1000;

std::string xml_of_size(std::size_t n) {
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<antrag>";
  while (xml.size() + 40 < n)
    xml +=
        "<feld name=\"x\">Musterstra\xC3\x9F"
        "e 1</feld>\n";
  xml += "</antrag>\n";
  xml.resize(n, ' ');
  return xml;
}

class BenchRoot {
 public:
  BenchRoot() {
    std::random_device rd;
    const char* dir = std::getenv("OZGHUB_BENCH_DIR");
    const fs::path base =
        dir != nullptr && *dir != '\0' ? fs::path(dir) : fs::temp_directory_path();
    path_ = base / ("ozghub-bench-" + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~BenchRoot() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

BenchRoot& bench_root() {
  static BenchRoot root;
  return root;
}

// One adapter per sync mode, shared by the benchmark's threads as the lane's threads share it
// (the group syncs are per adapter).
TransferDirAdapter& adapter_for(TransferDirAdapter::SyncMode mode) {
  static TransferDirAdapter per_file(bench_root().path(), TransferDirAdapter::SyncMode::kPerFile);
  static TransferDirAdapter shared(bench_root().path(), TransferDirAdapter::SyncMode::kFileSystem);
  return mode == TransferDirAdapter::SyncMode::kPerFile ? per_file : shared;
}

void deliver_cases(benchmark::State& state, const ozghub::crypto::Recipient* recipient,
                   int attachments = 0,
                   TransferDirAdapter::SyncMode mode = TransferDirAdapter::SyncMode::kPerFile) {
  BenchRoot& root = bench_root();
  TransferDirAdapter& adapter = adapter_for(mode);
  ozghub::routing::Office office;
  office.id = "bench-office-" + std::to_string(state.thread_index());
  office.channels.emplace_back().adapter = "transfer";
  const ozghub::delivery::Params params;
  Case c;
  c.office_id = office.id;
  c.app.message_id = "bench";
  c.app.sender = "bench";
  c.app.area_id = "150865040225";
  c.app.service_id = "99050012104000";
  c.app.schema = "urn:ozg-hub:antrag:1";
  c.app.xml = xml_of_size(8 << 10);
  c.app.received_at_ms = 1795434814056;
  for (int i = 0; i < attachments; ++i) {
    c.app.attachments.push_back(
        {"Anlage " + std::to_string(i) + ".pdf", "application/pdf", std::string(8 << 10, 'p')});
  }

  std::int64_t n = 0;
  for (auto _ : state) {
    if (n > 0 && n % kCasesPerOfficeFolder == 0) {
      state.PauseTiming();
      std::error_code ec;
      fs::remove_all(root.path() / office.id, ec);
      state.ResumeTiming();
    }
    std::string serial = std::to_string(n++);
    serial.insert(0, 10 - serial.size(), '0');
    c.case_number = "20261123" + std::to_string(10 + state.thread_index()) + serial;
    const DeliveryRequest request{
        c, office, params, nullptr, recipient, 1, std::chrono::steady_clock::now()};
    const auto result = adapter.deliver(request);
    if (result.outcome != Outcome::kDelivered) state.SkipWithError(result.error.c_str());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() *
                          static_cast<std::int64_t>(c.app.xml.size() + (8 << 10) * attachments));
  std::error_code ec;
  fs::remove_all(root.path() / office.id, ec);
}

void BM_TransferDirDeliverPlain8KiB(benchmark::State& state) { deliver_cases(state, nullptr); }
BENCHMARK(BM_TransferDirDeliverPlain8KiB)->UseRealTime();
BENCHMARK(BM_TransferDirDeliverPlain8KiB)->Threads(4)->UseRealTime();

const std::shared_ptr<const ozghub::crypto::Recipient>& encrypted_recipient() {
  static const auto recipient = [] {
    auto r = ozghub::crypto::Recipient::from_pem_file(std::string(OZGHUB_SOURCE_DIR) +
                                                      "/config/demo-certs/moeckern-buergeramt.pem");
    if (!r.is_ok()) std::abort();
    return *r;
  }();
  return recipient;
}

void BM_TransferDirDeliverEncrypted8KiB(benchmark::State& state) {
  deliver_cases(state, encrypted_recipient().get());
}
BENCHMARK(BM_TransferDirDeliverEncrypted8KiB)->UseRealTime();
BENCHMARK(BM_TransferDirDeliverEncrypted8KiB)->Threads(4)->UseRealTime();
BENCHMARK(BM_TransferDirDeliverEncrypted8KiB)->Threads(16)->UseRealTime()->MeasureProcessCPUTime();

void BM_TransferDirDeliverEncrypted8KiBSyncfs(benchmark::State& state) {
  deliver_cases(state, encrypted_recipient().get(), 0, TransferDirAdapter::SyncMode::kFileSystem);
}
BENCHMARK(BM_TransferDirDeliverEncrypted8KiBSyncfs)
    ->Threads(16)
    ->UseRealTime()
    ->MeasureProcessCPUTime();

// A case with five 8 KiB attachments: shows how the per-file cost adds up.
void BM_TransferDirDeliverPlain8KiBWith5Attachments(benchmark::State& state) {
  deliver_cases(state, nullptr, 5);
}
BENCHMARK(BM_TransferDirDeliverPlain8KiBWith5Attachments)->UseRealTime();

}  // namespace
