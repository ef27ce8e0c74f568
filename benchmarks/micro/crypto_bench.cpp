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

// The same structure written by OpenSSL's CMS API (the baseline encrypt() replaced).
void BM_CmsEncryptWithCmsApi(benchmark::State& state) {
  static const auto recipient = demo_recipient();
  const std::string data = payload(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    auto der = ozghub::crypto::detail::encrypt_with_cms_api(data, *recipient);
    if (!der.is_ok()) state.SkipWithError(der.status().message().c_str());
    benchmark::DoNotOptimize(der);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CmsEncryptWithCmsApi)->Arg(8 << 10)->Arg(64 << 10)->Arg(1 << 20);

// A further file of the same case: its key is already wrapped (crypto::Envelope).
void BM_CmsEnvelopeSeal(benchmark::State& state) {
  static const auto recipient = demo_recipient();
  const std::string data = payload(static_cast<std::size_t>(state.range(0)));
  auto envelope = ozghub::crypto::Envelope::create(*recipient);
  if (!envelope.is_ok()) std::abort();
  for (auto _ : state) {
    auto der = envelope->seal(data);
    if (!der.is_ok()) state.SkipWithError(der.status().message().c_str());
    benchmark::DoNotOptimize(der);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CmsEnvelopeSeal)->Arg(8 << 10)->Arg(1 << 20);

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
