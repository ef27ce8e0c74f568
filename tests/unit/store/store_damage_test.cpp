// A store whose own records are malformed is refused like one RocksDB finds damaged: start-up
// stops with damaged_store_message(), nothing is skipped. (Damage to RocksDB's files is tested
// through the daemon: tests/integration/test_store_damage.py.)
#include <rocksdb/db.h>

#include "store/store.hpp"
#include "test_support.hpp"

namespace ozghub::store {
namespace {

using ozghub::testing::TempDir;

// Writes one raw value into a column family of a closed store, as damage on disk would.
void put_raw(const std::string& dir, const std::string& cf, const std::string& key,
             const std::string& value) {
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  cfs.reserve(names.size());
  for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), dir, cfs, &handles, &db).ok());
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == cf) {
      ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handles[i], key, value).ok());
    }
  }
  for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
  ASSERT_TRUE(db->Close().ok());
  delete db;
}

std::string fresh_store(const TempDir& tmp) {
  std::string dir = (tmp.path() / "store").string();
  auto store = Store::open(dir);
  EXPECT_TRUE(store.is_ok()) << store.status().message();
  return dir;
}

TEST(StoreDamage, MalformedCaseNumberStateRefusesTheOpenWithTheStoreAndWhatToDo) {
  TempDir tmp;
  const std::string dir = fresh_store(tmp);
  put_raw(dir, rocksdb::kDefaultColumnFamilyName, "case_number_state", "garbage");
  auto store = Store::open(dir);
  ASSERT_FALSE(store.is_ok());
  EXPECT_EQ(store.status().code(), Status::Code::kCorruption);
  EXPECT_NE(store.status().message().find("the store in " + dir + " is damaged"), std::string::npos)
      << store.status().message();
  EXPECT_NE(store.status().message().find("restore the store from the last backup"),
            std::string::npos);
}

TEST(StoreDamage, MalformedOutboxEntryStopsTheRecoveryScan) {
  TempDir tmp;
  const std::string dir = fresh_store(tmp);
  put_raw(dir, "outbox", outbox_key("20261123000000000001", 0), "\x07not an entry");
  auto store = Store::open(dir);
  ASSERT_OK(store);
  int seen = 0;
  Status s = (*store)->scan_outbox([&](const OutboxEntry&) {
    ++seen;
    return Status::ok();
  });
  EXPECT_EQ(s.code(), Status::Code::kCorruption);  // main turns this into damaged_store_message
  EXPECT_EQ(seen, 0);
}

TEST(StoreDamage, DirectoryWithFilesButNoCurrentIsNotTakenForANewStore) {
  TempDir tmp;
  const std::string dir = fresh_store(tmp);
  std::filesystem::remove(std::filesystem::path(dir) / "CURRENT");
  auto store = Store::open(dir);
  ASSERT_FALSE(store.is_ok());
  EXPECT_EQ(store.status().code(), Status::Code::kCorruption);
  EXPECT_NE(store.status().message().find("CURRENT file is missing"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(dir) / "CURRENT"));
}

TEST(StoreDamage, EmptyOrMissingDirectoryIsANewStore) {
  TempDir tmp;
  std::filesystem::create_directories(tmp.path() / "empty");
  ASSERT_OK(Store::open((tmp.path() / "empty").string()));
  ASSERT_OK(Store::open((tmp.path() / "missing").string()));
}

}  // namespace
}  // namespace ozghub::store
