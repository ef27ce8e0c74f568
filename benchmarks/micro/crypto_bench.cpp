// Encryption cost per application: the hub encrypts every file of every case for its office.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <random>
#include <string>

#include "crypto/cms.hpp"

namespace {

using ozghub::crypto::Recipient;

std::string payload(std::size_t n) {
  std::mt19937 gen(1);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(gen() & 0xff);
  return s;
}

std::shared_ptr<const Recipient> demo_recipient() {
  auto r = Recipient::from_pem_file(std::string(OZGHUB_SOURCE_DIR) +
                                    "/config/demo-certs/moeckern-buergeramt.pem");
  if (!r.is_ok()) std::abort();
  return *r;
}

void BM_CmsEncrypt(benchmark::State& state) {
  static const auto recipient = demo_recipient();
  const std::string data = payload(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    auto der = ozghub::crypto::encrypt(data, *recipient);
    if (!der.is_ok()) state.SkipWithError(der.status().message().c_str());
    benchmark::DoNotOptimize(der);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
  state.SetItemsProcessed(state.iterations());
}
// 8 KiB is a typical application XML; 1 MiB a scanned attachment.
BENCHMARK(BM_CmsEncrypt)->Arg(8 << 10)->Arg(64 << 10)->Arg(1 << 20);
BENCHMARK(BM_CmsEncrypt)->Arg(8 << 10)->Threads(4)->UseRealTime();

void BM_Sha256(benchmark::State& state) {
  const std::string data = payload(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(ozghub::crypto::sha256_hex(data));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Sha256)->Arg(8 << 10)->Arg(1 << 20);

void BM_RecipientFromPemFile(benchmark::State& state) {
  const std::string path =
      std::string(OZGHUB_SOURCE_DIR) + "/config/demo-certs/moeckern-buergeramt.pem";
  for (auto _ : state) benchmark::DoNotOptimize(Recipient::from_pem_file(path));
}
BENCHMARK(BM_RecipientFromPemFile);

}  // namespace
