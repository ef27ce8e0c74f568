#include "transfer_dir/transfer_dir_adapter.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "adapters/mini_json.hpp"
#include "crypto/cms.hpp"
#include "crypto/content_key.hpp"
#include "crypto/openssl_cli.hpp"
#include "test_support.hpp"

namespace ozghub::adapters {
namespace {

namespace fs = std::filesystem;
namespace json = ozghub::testing::json;
using delivery::DeliveryRequest;
using delivery::DeliveryResult;
using delivery::Outcome;
using ozghub::testing::demo_cert;
using ozghub::testing::openssl_decrypt;
using ozghub::testing::read_file;
using ozghub::testing::TempDir;
using ozghub::testing::unwrap_content_key;
using ozghub::testing::write_file;

constexpr char kCaseNumber[] = "20261123000000000042";
constexpr char kOfficeId[] = "moeckern-buergeramt";
constexpr char kUmlautName[] = "Geburtsurkunde_M\xC3\xBCller.pdf";

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(gen() & 0xff);
  return s;
}

Case make_case(std::string case_number = kCaseNumber) {
  Case c;
  c.case_number = std::move(case_number);
  c.office_id = kOfficeId;
  c.app.message_id = "msg-0001";
  c.app.sender = "amt24";
  c.app.area_id = "150865040225";
  c.app.service_id = "99050012104000";
  c.app.schema = "urn:ozg-hub:antrag:1";
  c.app.xml = "<?xml version=\"1.0\"?>\n<antrag><name>Erika M\xC3\xBCller</name></antrag>\n";
  c.app.received_at_ms = 1795434814056;  // 2026-11-23T11:53:34.056Z
  c.app.attachments = {
      {kUmlautName, "application/pdf", random_bytes(8192, 1)},
      {"../../etc/passwd", "text/plain", "root:x:0:0:root:/root:/bin/sh\n"},
      {kUmlautName, "application/pdf", random_bytes(100, 2)},
      {"leer.txt", "text/plain", ""},
  };
  return c;
}

routing::Office make_office(std::map<std::string, std::string> params = {}) {
  routing::Office office;
  office.id = kOfficeId;
  office.name = "Stadt Möckern, Bürgeramt";
  routing::Channel channel;
  channel.adapter = "transfer";
  channel.params = std::move(params);
  office.channels.push_back(std::move(channel));
  return office;
}

DeliveryResult deliver(TransferDirAdapter& adapter, const Case& c, const routing::Office& office,
                       const crypto::Recipient* recipient = nullptr) {
  const delivery::Params params(office.channels.front().params);
  const DeliveryRequest request{
      c, office, params, nullptr, recipient, 1, std::chrono::steady_clock::now()};
  return adapter.deliver(request);
}

std::vector<std::string> list_dir(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool has_temp_folders(const fs::path& office_dir) {
  const auto names = list_dir(office_dir);
  return std::any_of(names.begin(), names.end(),
                     [](const std::string& n) { return n.starts_with(".tmp-"); });
}

json::Value read_manifest(const fs::path& case_dir) {
  const std::string text = read_file(case_dir / "manifest.json");
  auto parsed = json::parse(text);
  EXPECT_TRUE(parsed.has_value()) << "manifest.json is not valid JSON:\n" << text;
  return parsed ? *parsed : json::Value{};
}

// The stored names of make_case()'s attachments, in order.
const std::vector<std::string> kStoredAttachmentNames = {
    kUmlautName, "_._.__etc_passwd", "Geburtsurkunde_M\xC3\xBCller-2.pdf", "leer.txt"};

// Checks every manifest entry against the bytes on disk, recomputing sizes and hashes.
void expect_manifest_matches_disk(const fs::path& case_dir, const json::Value& manifest) {
  ASSERT_TRUE(manifest.has("files"));
  std::set<std::string> listed;
  for (const auto& f : manifest["files"].arr()) {
    const std::string name = f["name"].str();
    listed.insert(name);
    const std::string bytes = read_file(case_dir / name);
    EXPECT_TRUE(fs::is_regular_file(case_dir / name)) << name;
    EXPECT_EQ(f["size"].num(), static_cast<double>(bytes.size())) << name;
    EXPECT_EQ(f["sha256"].str(), crypto::sha256_hex(bytes)) << name;
  }
  listed.insert("manifest.json");
  const auto on_disk = list_dir(case_dir);
  EXPECT_EQ(std::set<std::string>(on_disk.begin(), on_disk.end()), listed);
}

TEST(TransferDirAdapter, WritesCaseFolderWithManifest) {
  TempDir tmp;
  TransferDirAdapter adapter(tmp.path());
  const Case c = make_case();
  const auto office = make_office();
  const DeliveryResult r = deliver(adapter, c, office);
  ASSERT_EQ(r.outcome, Outcome::kDelivered) << r.error;
  EXPECT_TRUE(r.error.empty());

  const fs::path office_dir = tmp.path() / kOfficeId;
  const fs::path case_dir = office_dir / kCaseNumber;
  EXPECT_EQ(list_dir(office_dir), std::vector<std::string>{kCaseNumber});
  std::vector<std::string> expected = kStoredAttachmentNames;
  expected.push_back("application.xml");
  expected.push_back("manifest.json");
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(list_dir(case_dir), expected);

  EXPECT_EQ(read_file(case_dir / "application.xml"), c.app.xml);
  for (std::size_t i = 0; i < c.app.attachments.size(); ++i) {
    EXPECT_TRUE(read_file(case_dir / kStoredAttachmentNames[i]) == c.app.attachments[i].data)
        << kStoredAttachmentNames[i];
  }

  const std::string text = read_file(case_dir / "manifest.json");
  EXPECT_TRUE(text.starts_with("{\n  \"format\": \"ozg-hub-transfer/1\",\n")) << text;
  EXPECT_TRUE(text.ends_with("}\n"));
  const json::Value m = read_manifest(case_dir);
  ASSERT_TRUE(m.is_object());
  const std::vector<std::string> order = {"format",      "case_number", "message_id", "sender",
                                          "received_at", "area_id",     "service_id", "office_id",
                                          "schema",      "encrypted",   "files"};
  EXPECT_EQ(m.key_order, order);
  EXPECT_EQ(m["format"].str(), "ozg-hub-transfer/1");
  EXPECT_EQ(m["case_number"].str(), kCaseNumber);
  EXPECT_EQ(m["message_id"].str(), "msg-0001");
  EXPECT_EQ(m["sender"].str(), "amt24");
  EXPECT_EQ(m["received_at"].str(), "2026-11-23T11:53:34.056Z");
  EXPECT_EQ(m["area_id"].str(), "150865040225");
  EXPECT_EQ(m["service_id"].str(), "99050012104000");
  EXPECT_EQ(m["office_id"].str(), kOfficeId);
  EXPECT_EQ(m["schema"].str(), "urn:ozg-hub:antrag:1");
  EXPECT_FALSE(m["encrypted"].boolean());

  const auto& files = m["files"].arr();
  ASSERT_EQ(files.size(), 5u);
  EXPECT_EQ(files[0]["name"].str(), "application.xml");
  EXPECT_EQ(files[0]["role"].str(), "application");
  EXPECT_EQ(files[0]["content_type"].str(), "application/xml");
  const std::vector<std::string> file_keys = {"name", "role", "content_type", "size", "sha256"};
  for (std::size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(files[i].key_order, file_keys);
    if (i == 0) continue;
    EXPECT_EQ(files[i]["name"].str(), kStoredAttachmentNames[i - 1]);
    EXPECT_EQ(files[i]["role"].str(), "attachment");
    EXPECT_EQ(files[i]["content_type"].str(), c.app.attachments[i - 1].content_type);
  }
  EXPECT_EQ(files[4]["size"].num(), 0);
  expect_manifest_matches_disk(case_dir, m);
  EXPECT_FALSE(has_temp_folders(office_dir));
}

TEST(TransferDirAdapter, EncryptedCaseDecryptsWithOpensslCli) {
  TempDir tmp;
  TransferDirAdapter adapter(tmp.path());
  auto recipient = crypto::Recipient::from_pem_file(demo_cert().string());
  ASSERT_OK(recipient);
  const Case c = make_case();
  auto office = make_office();
  office.certificate_path = demo_cert().string();
  const DeliveryResult r = deliver(adapter, c, office, recipient->get());
  ASSERT_EQ(r.outcome, Outcome::kDelivered) << r.error;

  const fs::path case_dir = tmp.path() / kOfficeId / kCaseNumber;
  const json::Value m = read_manifest(case_dir);
  ASSERT_TRUE(m.is_object());
  EXPECT_TRUE(m["encrypted"].boolean());
  expect_manifest_matches_disk(case_dir, m);

  std::vector<std::string> plain_names = {"application.xml"};
  std::vector<const std::string*> originals = {&c.app.xml};
  for (std::size_t i = 0; i < c.app.attachments.size(); ++i) {
    plain_names.push_back(kStoredAttachmentNames[i]);
    originals.push_back(&c.app.attachments[i].data);
  }
  const auto& files = m["files"].arr();
  ASSERT_EQ(files.size(), plain_names.size());
  TempDir out;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto& f = files[i];
    EXPECT_EQ(f["name"].str(), plain_names[i] + ".p7m");
    EXPECT_FALSE(fs::exists(case_dir / plain_names[i])) << "plaintext left: " << plain_names[i];
    const fs::path decrypted = out.path() / std::to_string(i);
    ASSERT_EQ(openssl_decrypt(case_dir / f["name"].str(), decrypted), "") << f["name"].str();
    const std::string plain = read_file(decrypted);
    EXPECT_TRUE(plain == *originals[i]) << plain_names[i];
    EXPECT_EQ(f["plain_size"].num(), static_cast<double>(plain.size()));
    EXPECT_EQ(f["plain_sha256"].str(), crypto::sha256_hex(plain));
    EXPECT_NE(f["sha256"].str(), f["plain_sha256"].str());
  }
  EXPECT_EQ(files[0]["content_type"].str(), "application/xml");
  EXPECT_FALSE(has_temp_folders(tmp.path() / kOfficeId));

  // One content-encryption key for every file of the case (one RSA operation per case).
  const std::string key = unwrap_content_key(read_file(case_dir / files[0]["name"].str()));
  ASSERT_FALSE(key.empty());
  for (std::size_t i = 1; i < files.size(); ++i) {
    EXPECT_EQ(unwrap_content_key(read_file(case_dir / files[i]["name"].str())), key) << i;
  }
}

TEST(TransferDirAdapter, SecondDeliveryOfTheSameCaseWritesNothing) {
  TempDir tmp;
  TransferDirAdapter adapter(tmp.path());
  const Case c = make_case();
  const auto office = make_office();
  ASSERT_EQ(deliver(adapter, c, office).outcome, Outcome::kDelivered);

  // Back-date everything so any rewrite, even within the same clock tick, shows.
  const fs::path office_dir = tmp.path() / kOfficeId;
  const fs::path case_dir = office_dir / kCaseNumber;
  const timespec old_times[2] = {{1000000000, 0}, {1000000000, 0}};
  std::vector<fs::path> paths = {office_dir, case_dir};
  for (const auto& name : list_dir(case_dir)) paths.push_back(case_dir / name);
  for (const auto& p : paths) ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), old_times, 0), 0);
  const std::string manifest_before = read_file(case_dir / "manifest.json");

  Case again = make_case();
  again.app.attachments.pop_back();  // a changed payload must not matter either
  const DeliveryResult r = deliver(adapter, again, office);
  EXPECT_EQ(r.outcome, Outcome::kDelivered) << r.error;
  for (const auto& p : paths) {
    struct stat st {};
    ASSERT_EQ(::stat(p.c_str(), &st), 0);
    EXPECT_EQ(st.st_mtim.tv_sec, 1000000000) << p;
    EXPECT_EQ(st.st_mtim.tv_nsec, 0) << p;
  }
  EXPECT_EQ(read_file(case_dir / "manifest.json"), manifest_before);
  EXPECT_EQ(list_dir(office_dir), std::vector<std::string>{kCaseNumber});
}

TEST(TransferDirAdapter, RemovesStaleTemporaryFolderOfTheSameCaseOnly) {
  TempDir tmp;
  TransferDirAdapter adapter(tmp.path());
  const fs::path office_dir = tmp.path() / kOfficeId;
  // What a crash mid-write leaves behind.
  const fs::path stale = office_dir / (std::string(".tmp-") + kCaseNumber);
  fs::create_directories(stale);
  write_file(stale / "application.xml", "<antrag><na");
  const fs::path other = office_dir / std::string(".tmp-20261123000000000043");
  fs::create_directories(other);
  write_file(other / "application.xml", "<antrag/>");

  const Case c = make_case();
  const DeliveryResult r = deliver(adapter, c, make_office());
  ASSERT_EQ(r.outcome, Outcome::kDelivered) << r.error;
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(other / "application.xml")) << "another case's folder was touched";
  EXPECT_EQ(read_file(office_dir / kCaseNumber / "application.xml"), c.app.xml);
}

TEST(TransferDirAdapter, LeavesTemporaryFolderOfALiveAttemptAlone) {
  TempDir tmp;
  TransferDirAdapter adapter(tmp.path());
  const fs::path office_dir = tmp.path() / kOfficeId;
  const fs::path live = office_dir / (std::string(".tmp-") + kCaseNumber);
  fs::create_directories(live);
  write_file(live / "application.xml", "<antrag/>");
  // A concurrent attempt (another thread or hub) holds the lock on its own temporary folder.
  const int fd = ::open(live.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);

  // The case is tried again later; the live attempt's files are untouched.
  const DeliveryResult r = deliver(adapter, make_case(), make_office());
  EXPECT_EQ(r.outcome, Outcome::kRetryLater) << r.error;
  EXPECT_NE(r.error.find("in use by another attempt"), std::string::npos) << r.error;
  EXPECT_TRUE(fs::exists(live / "application.xml"));
  ::close(fd);
  // Once the holder is gone the folder is stale and the delivery goes through.
  EXPECT_EQ(deliver(adapter, make_case(), make_office()).outcome, Outcome::kDelivered);
}

TEST(TransferDirAdapter, ChannelRootOverridesTheConfiguredRoot) {
  TempDir configured;
  TempDir channel_root;
  TransferDirAdapter adapter(configured.path());
  const auto office = make_office({{"root", channel_root.path().string()}});
  ASSERT_EQ(deliver(adapter, make_case(), office).outcome, Outcome::kDelivered);
  EXPECT_TRUE(fs::exists(channel_root.path() / kOfficeId / kCaseNumber / "manifest.json"));
  EXPECT_FALSE(fs::exists(configured.path() / kOfficeId));
}

// A channel's root is usually a mount point; writing into a local folder in its place would
// hide the missing mount from everyone.
TEST(TransferDirAdapter, MissingChannelRootIsRetriedNotCreated) {
  TempDir tmp;
  TransferDirAdapter adapter(tmp.path());
  const fs::path missing = tmp.path() / "mnt" / "transfer";
  const auto office = make_office({{"root", missing.string()}});
  const DeliveryResult r = deliver(adapter, make_case(), office);
  EXPECT_EQ(r.outcome, Outcome::kRetryLater);
  EXPECT_EQ(r.error, "transfer_dir: open root folder failed: No such file or directory");
  EXPECT_FALSE(fs::exists(missing));
}

TEST(TransferDirAdapter, ConstructorCreatesMissingRoot) {
  TempDir tmp;
  const fs::path root = tmp.path() / "a" / "b";
  TransferDirAdapter adapter(root);
  EXPECT_TRUE(fs::is_directory(root));
  EXPECT_EQ(deliver(adapter, make_case(), make_office()).outcome, Outcome::kDelivered);
}

// Nothing from the application may appear in an error: it ends up in logs and dead letters.
void expect_no_personal_data(const std::string& error, const Case& c) {
  EXPECT_TRUE(error.starts_with("transfer_dir: ")) << error;
  for (const std::string& secret :
       {c.case_number, c.app.message_id, c.app.sender, std::string("M\xC3\xBCller"),
        std::string("passwd"), std::string("Geburtsurkunde"), std::string("antrag")}) {
    EXPECT_EQ(error.find(secret), std::string::npos) << error << " contains " << secret;
  }
}

TEST(TransferDirAdapter, RootThatIsAFileIsRetriedWithoutPersonalData) {
  TempDir tmp;
  const fs::path root = tmp.path() / "not-a-folder";
  write_file(root, "x");
  TransferDirAdapter adapter(root);
  const Case c = make_case();
  const DeliveryResult r = deliver(adapter, c, make_office());
  EXPECT_EQ(r.outcome, Outcome::kRetryLater);
  EXPECT_EQ(r.error, "transfer_dir: open root folder failed: Not a directory");
  expect_no_personal_data(r.error, c);
}

TEST(TransferDirAdapter, OfficeFolderThatIsAFileIsRetried) {
  TempDir tmp;
  write_file(tmp.path() / kOfficeId, "x");
  TransferDirAdapter adapter(tmp.path());
  const Case c = make_case();
  const DeliveryResult r = deliver(adapter, c, make_office());
  EXPECT_EQ(r.outcome, Outcome::kRetryLater);
  EXPECT_EQ(r.error, "transfer_dir: open office folder failed: Not a directory");
  expect_no_personal_data(r.error, c);
}

TEST(TransferDirAdapter, ReadOnlyOfficeFolderIsRetried) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores folder permissions";
  TempDir tmp;
  fs::create_directories(tmp.path() / kOfficeId);
  fs::permissions(tmp.path() / kOfficeId, fs::perms::owner_read | fs::perms::owner_exec);
  TransferDirAdapter adapter(tmp.path());
  const Case c = make_case();
  const DeliveryResult r = deliver(adapter, c, make_office());
  fs::permissions(tmp.path() / kOfficeId, fs::perms::owner_all);
  EXPECT_EQ(r.outcome, Outcome::kRetryLater);
  EXPECT_EQ(r.error, "transfer_dir: create temporary folder failed: Permission denied");
  expect_no_personal_data(r.error, c);
}

// A write that fails half-way (here: the file size limit, standing in for a full disk) must
// leave neither a case folder nor a temporary folder.
TEST(TransferDirAdapter, WriteFailureLeavesNothingBehind) {
  TempDir tmp;
  TransferDirAdapter adapter(tmp.path());
  const Case c = make_case();  // its first attachment is 8 KiB
  rlimit old_limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  const auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  rlimit small = old_limit;
  small.rlim_cur = 4096;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  const DeliveryResult r = deliver(adapter, c, make_office());
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old_limit), 0);
  ::signal(SIGXFSZ, old_handler);

  EXPECT_EQ(r.outcome, Outcome::kRetryLater);
  EXPECT_EQ(r.error, "transfer_dir: write failed: File too large");
  expect_no_personal_data(r.error, c);
  EXPECT_EQ(list_dir(tmp.path() / kOfficeId), std::vector<std::string>{});

  // The next attempt succeeds as if nothing had happened.
  EXPECT_EQ(deliver(adapter, c, make_office()).outcome, Outcome::kDelivered);
}

TEST(TransferDirAdapter, RefusesPlaintextForAnOfficeWithACertificate) {
  TempDir tmp;
  TransferDirAdapter adapter(tmp.path());
  auto office = make_office();
  office.certificate_path = demo_cert().string();
  const DeliveryResult r = deliver(adapter, make_case(), office, nullptr);
  EXPECT_EQ(r.outcome, Outcome::kRetryLater);
  EXPECT_FALSE(fs::exists(tmp.path() / kOfficeId));
}

TEST(TransferDirAdapter, RejectsOfficeIdsAndCaseNumbersThatAreNotSafeFolderNames) {
  TempDir tmp;
  TransferDirAdapter adapter(tmp.path());
  auto office = make_office();
  for (const char* id : {"..", ".", "", "a/b", ".hidden"}) {
    office.id = id;
    EXPECT_EQ(deliver(adapter, make_case(), office).outcome, Outcome::kRejected) << id;
  }
  for (const char* number : {"../../../../etc", "2026112300000000004", "2026112300000000004x"}) {
    EXPECT_EQ(deliver(adapter, make_case(number), make_office()).outcome, Outcome::kRejected)
        << number;
  }
  EXPECT_EQ(list_dir(tmp.path()), std::vector<std::string>{});
}

TEST(TransferDirAdapter, ManifestEscapesEveryString) {
  TempDir tmp;
  TransferDirAdapter adapter(tmp.path());
  Case c = make_case();
  c.app.sender = "Amt \"24\" \\ /\n\t\x01\x7f";
  c.app.message_id = "\xE2\x82\xAC \xF0\x9F\x98\x80 ok";  // € and an emoji stay as they are
  c.app.schema = "bad \xFF\xC3 utf8";                     // ill-formed bytes become U+FFFD
  c.app.received_at_ms = 0;
  c.app.attachments = {{"x\"y.pdf", "application/\"pdf\"", "data"}};
  ASSERT_EQ(deliver(adapter, c, make_office()).outcome, Outcome::kDelivered);
  const fs::path case_dir = tmp.path() / kOfficeId / kCaseNumber;
  const json::Value m = read_manifest(case_dir);
  ASSERT_TRUE(m.is_object());
  EXPECT_EQ(m["sender"].str(), c.app.sender);
  EXPECT_EQ(m["message_id"].str(), c.app.message_id);
  EXPECT_EQ(m["schema"].str(), "bad \xEF\xBF\xBD\xEF\xBF\xBD utf8");
  EXPECT_EQ(m["received_at"].str(), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(m["files"].arr()[1]["name"].str(), "x_y.pdf");
  EXPECT_EQ(m["files"].arr()[1]["content_type"].str(), "application/\"pdf\"");
  expect_manifest_matches_disk(case_dir, m);
}

TEST(TransferDirAdapter, ConcurrentDeliveriesFromManyThreads) {
  TempDir tmp;
  TransferDirAdapter adapter(tmp.path());
  const auto office = make_office();
  constexpr int kThreads = 8;
  constexpr int kCasesPerThread = 10;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCasesPerThread; ++i) {
        char number[21];
        std::snprintf(number, sizeof number, "202611230000%08d", t * 100 + i);
        if (deliver(adapter, make_case(number), office).outcome != Outcome::kDelivered) {
          ++failures;
        }
      }
      // All threads also race on one shared case; an attempt may be told to retry when it
      // collides with another, but the case must end up delivered exactly once, complete.
      for (int attempt = 0; attempt < 200; ++attempt) {
        if (deliver(adapter, make_case(), office).outcome == Outcome::kDelivered) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      ++failures;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  const fs::path office_dir = tmp.path() / kOfficeId;
  EXPECT_EQ(list_dir(office_dir).size(), static_cast<std::size_t>(kThreads * kCasesPerThread + 1));
  EXPECT_FALSE(has_temp_folders(office_dir));
  const fs::path shared_case = office_dir / kCaseNumber;
  expect_manifest_matches_disk(shared_case, read_manifest(shared_case));
  EXPECT_EQ(list_dir(shared_case).size(), 6u);
}

// ---------------------------------------------------------------------------------------------

struct SanitiseCase {
  std::string input;
  std::string expected;
};

TEST(TransferDirSanitise, Table) {
  const std::vector<SanitiseCase> table = {
      {"antrag.pdf", "antrag.pdf"},
      {"../../etc/passwd", "_._.__etc_passwd"},
      {"a/b", "a_b"},
      {"a\\b", "a_b"},
      {".hidden", "_hidden"},
      {".", "_"},
      {"..", "__"},
      {"x..y.pdf", "x._y.pdf"},
      {"application.xml", "_application.xml"},
      {"Application.XML", "_Application.XML"},
      {"manifest.json", "_manifest.json"},
      {"MANIFEST.JSON", "_MANIFEST.JSON"},
      {"application.xml.pdf", "application.xml.pdf"},
      {std::string("a\x01"
                   "b\nc\rd\te\x7f"
                   "f.pdf"),
       "a_b_c_d_e_f.pdf"},
      {std::string("nul\0byte.pdf", 12), "nul_byte.pdf"},
      {"C1\xC2\x85"
       "control.pdf",
       "C1_control.pdf"},
      {"", "attachment"},
      {kUmlautName, kUmlautName},
      {"\xC3\x84rztliches Attest (Kopie).pdf", "\xC3\x84rztliches Attest (Kopie).pdf"},
      {"\xFF\xFE.pdf", "__.pdf"},
      {"\xC3", "_"},
      {"\xE0\x80\x80.pdf", "___.pdf"},  // overlong NUL
      {"rechnung\xE2\x80\xAE"
       "fdp.exe",
       "rechnung_fdp.exe"},  // U+202E right-to-left override
      {"a:b*c?d<e>f|g\".pdf", "a_b_c_d_e_f_g_.pdf"},
      {"datei.pdf.", "datei.pdf_"},
      {"datei ", "datei_"},
      {"NUL.txt", "_NUL.txt"},
      {"com1", "_com1"},
      {"console.txt", "console.txt"},
  };
  for (const auto& [input, expected] : table) {
    EXPECT_EQ(TransferDirAdapter::sanitise_file_name(input), expected) << "input: " << input;
  }
}

TEST(TransferDirSanitise, LongNamesAreCutTo200BytesKeepingTheExtension) {
  const std::string ascii = TransferDirAdapter::sanitise_file_name(std::string(296, 'a') + ".pdf");
  EXPECT_EQ(ascii, std::string(196, 'a') + ".pdf");

  std::string umlauts;
  for (int i = 0; i < 150; ++i) umlauts += "\xC3\xBC";  // 300 bytes of "ü"
  const std::string cut = TransferDirAdapter::sanitise_file_name(umlauts + ".pdf");
  EXPECT_LE(cut.size(), 200u);
  EXPECT_TRUE(cut.ends_with(".pdf"));
  std::string expected_stem;
  for (int i = 0; i < 98; ++i) expected_stem += "\xC3\xBC";  // never half a character
  EXPECT_EQ(cut, expected_stem + ".pdf");

  EXPECT_EQ(TransferDirAdapter::sanitise_file_name(std::string(300, 'b')), std::string(200, 'b'));
  // A 40-byte "extension" is not one worth keeping.
  EXPECT_EQ(
      TransferDirAdapter::sanitise_file_name(std::string(250, 'c') + "." + std::string(40, 'd')),
      std::string(200 - 0, 'c'));
  // The cut must not leave ".." before the extension.
  const std::string dots = TransferDirAdapter::sanitise_file_name(
      std::string(195, 'e') + ".f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.pdf");
  EXPECT_LE(dots.size(), 200u);
  EXPECT_EQ(dots.find(".."), std::string::npos) << dots;
  EXPECT_TRUE(dots.ends_with(".pdf"));
}

TEST(TransferDirSanitise, DuplicatesGetANumberBeforeTheExtension) {
  std::vector<Attachment> attachments;
  for (const char* name :
       {"a.pdf", "a.pdf", "A.PDF", "a-2.pdf", "", "", "application.xml", "_application.xml",
        "noext", "noext", "archiv.tar.gz", "archiv.tar.gz"}) {
    attachments.push_back({name, "application/octet-stream", ""});
  }
  const std::vector<std::string> expected = {
      "a.pdf",      "a-2.pdf",      "A-3.PDF",          "a-2-2.pdf",
      "attachment", "attachment-2", "_application.xml", "_application-2.xml",
      "noext",      "noext-2",      "archiv.tar.gz",    "archiv.tar-2.gz"};
  EXPECT_EQ(TransferDirAdapter::unique_file_names(attachments), expected);

  // Long duplicates stay within the limit.
  const std::string long_name = std::string(300, 'z') + ".pdf";
  const auto names = TransferDirAdapter::unique_file_names(
      {{long_name, "", ""}, {long_name, "", ""}, {long_name, "", ""}});
  ASSERT_EQ(names.size(), 3u);
  EXPECT_EQ(names[0], std::string(196, 'z') + ".pdf");
  EXPECT_EQ(names[1], std::string(194, 'z') + "-2.pdf");
  EXPECT_EQ(names[2], std::string(194, 'z') + "-3.pdf");
}

// Whatever bytes come in, the result is a single safe path component of well-formed UTF-8.
TEST(TransferDirSanitise, RandomNamesAlwaysGiveASafeName) {
  std::mt19937 gen(12345);
  const std::string alphabet = std::string("./\\\x00\x01\x7f:aZ\xC3\xBC\xE2\x80\xAE\xFF", 16);
  for (int round = 0; round < 5000; ++round) {
    std::string name;
    const std::size_t len = gen() % 300;
    for (std::size_t i = 0; i < len; ++i) {
      name +=
          (gen() % 3 == 0) ? static_cast<char>(gen() & 0xff) : alphabet[gen() % alphabet.size()];
    }
    const std::string s = TransferDirAdapter::sanitise_file_name(name);
    ASSERT_FALSE(s.empty());
    ASSERT_LE(s.size(), 200u) << name;
    ASSERT_NE(s.front(), '.');
    ASSERT_EQ(s.find('/'), std::string::npos);
    ASSERT_EQ(s.find('\\'), std::string::npos);
    ASSERT_EQ(s.find(".."), std::string::npos);
    ASSERT_NE(s, "application.xml");
    ASSERT_NE(s, "manifest.json");
    for (const char ch : s) ASSERT_GE(static_cast<unsigned char>(ch), 0x20) << s;
    // Well-formed UTF-8: the JSON writer would otherwise have to alter it in the manifest.
    ASSERT_EQ(TransferDirAdapter::sanitise_file_name(s), s) << "not idempotent: " << name;
  }
}

// The shared-sync mode writes exactly what the per-file mode writes, from many threads at once.
TEST(TransferDirAdapter, FileSystemSyncModeWritesTheSameFoldersConcurrently) {
  TempDir per_file_root;
  TempDir shared_root;
  TransferDirAdapter per_file(per_file_root.path());
  TransferDirAdapter shared(shared_root.path(), TransferDirAdapter::SyncMode::kFileSystem);
  const auto office = make_office();
  constexpr int kThreads = 8;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        char number[21];
        std::snprintf(number, sizeof number, "202611230000%08d", t * 100 + i);
        if (deliver(shared, make_case(number), office).outcome != Outcome::kDelivered) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  const fs::path office_dir = shared_root.path() / kOfficeId;
  EXPECT_EQ(list_dir(office_dir).size(), static_cast<std::size_t>(kThreads * 5));
  EXPECT_FALSE(has_temp_folders(office_dir));

  ASSERT_EQ(deliver(per_file, make_case(), office).outcome, Outcome::kDelivered);
  ASSERT_EQ(deliver(shared, make_case(), office).outcome, Outcome::kDelivered);
  const fs::path a = per_file_root.path() / kOfficeId / kCaseNumber;
  const fs::path b = office_dir / kCaseNumber;
  ASSERT_EQ(list_dir(a), list_dir(b));
  for (const auto& name : list_dir(a)) {
    EXPECT_EQ(ozghub::testing::read_file(a / name), ozghub::testing::read_file(b / name)) << name;
  }
}

}  // namespace
}  // namespace ozghub::adapters
