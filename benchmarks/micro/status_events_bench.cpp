// The cost of status events: what each event adds to the commit batch (the committer's thread
// and the delivery lanes pay it), and what signing one costs the status feed's worker.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "status/event_log.hpp"
#include "status/jws_signer.hpp"

namespace {

using ozghub::status::EventLog;
using ozghub::status::JwsSigner;

void BM_StatusEventAppend(benchmark::State& state) {
  const auto dir = std::filesystem::temp_directory_path() / "ozghub-status-bench";
  std::filesystem::remove_all(dir);
  rocksdb::Options o;
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
      {"status_events", rocksdb::ColumnFamilyOptions()}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(o, dir.string(), cfs, &handles, &raw).ok()) std::abort();
  {
    auto log = EventLog::open(*raw, handles[1], {true});
    if (!log.is_ok()) std::abort();
    const std::string case_number = "20261203000000000042";
    for (auto _ : state) {
      // As the committer does per accepted case (the batch is not written: CPU only).
      EventLog::Ticket ticket(**log);
      rocksdb::WriteBatch batch;
      (*log)->accepted(batch, ticket, "portal-a", case_number, "moeckern-buergeramt",
                       "3f2b7c1e-0d4a-4a8e-9c51-7e2f0b6d9a10", 1796284800000);
      benchmark::DoNotOptimize(batch);
    }
    state.SetItemsProcessed(state.iterations());
  }
  for (auto* h : handles) raw->DestroyColumnFamilyHandle(h);
  delete raw;
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_StatusEventAppend);

std::string pem_of(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  EVP_PKEY_free(key);
  return out;
}

void sign_loop(benchmark::State& state, EVP_PKEY* key) {
  auto signer = JwsSigner::from_pem(pem_of(key), "", "bench");
  if (!signer.is_ok()) std::abort();
  const std::string body =
      R"({"event_id":"3f2b7c1e-0d4a-4a8e-9c51-7e2f0b6d9a10","seq":17,"type":"delivered",)"
      R"("sender":"portal-a","case_number":"20261203000000000042",)"
      R"("time":"2026-12-03T07:00:00.123Z","channel":0,"adapter":"transfer","attempts":1})";
  for (auto _ : state) {
    auto jws = (*signer)->sign(body);
    benchmark::DoNotOptimize(jws);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_JwsSignEs256(benchmark::State& state) { sign_loop(state, EVP_EC_gen("P-256")); }
BENCHMARK(BM_JwsSignEs256);

void BM_JwsSignPs256(benchmark::State& state) { sign_loop(state, EVP_RSA_gen(3072)); }
BENCHMARK(BM_JwsSignPs256);

}  // namespace
