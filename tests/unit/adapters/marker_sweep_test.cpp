// Removing old application markers (`markers_days` on the transfer directory with
// `idempotency: application`).
#include "transfer_dir/marker_sweep.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "test_support.hpp"
#include "transfer_dir/application_marker.hpp"
#include "transfer_dir/transfer_dir_adapter.hpp"

namespace ozghub::adapters {
namespace {

namespace fs = std::filesystem;
using ozghub::testing::TempDir;

constexpr std::int64_t kDay = 86400;

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Sets the modification time of `path` itself (not of what a symbolic link points to).
void age(const fs::path& path, std::int64_t days) {
  const timespec when{static_cast<time_t>(now_s() - days * kDay), 0};
  const timespec times[2] = {when, when};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << path;
}

// A marker for application `message_id` naming `case_number`, `days` old.
fs::path make_marker(const fs::path& markers, const std::string& message_id, std::int64_t days,
                     const std::string& case_number = "20261123100000000001") {
  fs::create_directories(markers);
  const fs::path marker = markers / application_marker_name("rabbit/portal-a", message_id);
  fs::create_symlink(case_number, marker);
  age(marker, days);
  return marker;
}

bool present(const fs::path& p) { return fs::symlink_status(p).type() != fs::file_type::not_found; }

TEST(MarkerSweep, RemovesOnlyMarkersOlderThanTheCutoff) {
  TempDir dir;
  const fs::path markers = dir.path() / kApplicationMarkers;
  const fs::path old_marker = make_marker(markers, "old", 10);
  const fs::path young_marker = make_marker(markers, "young", 1);
  // Not markers: a regular file with a marker's name, a link with another name.
  const fs::path file = markers / application_marker_name("rabbit/portal-a", "file");
  ozghub::testing::write_file(file, "x");
  age(file, 10);
  const fs::path other_link = markers / "README";
  fs::create_symlink("20261123100000000001", other_link);
  age(other_link, 10);

  auto swept = remove_markers_older_than(markers.string(), now_s() - 5 * kDay);
  ASSERT_OK(swept);
  EXPECT_EQ(swept->removed, 1u);
  EXPECT_EQ(swept->kept, 1u);
  EXPECT_FALSE(present(old_marker));
  EXPECT_TRUE(present(young_marker));
  EXPECT_TRUE(present(file));
  EXPECT_TRUE(present(other_link));
}

TEST(MarkerSweep, AMissingFolderHoldsNoMarkers) {
  TempDir dir;
  auto swept = remove_markers_older_than((dir.path() / "none").string(), now_s());
  ASSERT_OK(swept);
  EXPECT_EQ(swept->removed + swept->kept, 0u);
}

TEST(MarkerSweep, AMarkerFolderThatIsALinkIsNotFollowed) {
  TempDir dir;
  const fs::path real = dir.path() / "elsewhere";
  const fs::path marker = make_marker(real, "old", 10);
  fs::create_directory_symlink(real, dir.path() / kApplicationMarkers);
  EXPECT_FALSE(remove_markers_older_than((dir.path() / kApplicationMarkers).string(), now_s()));
  EXPECT_TRUE(present(marker));
}

TEST(MarkerSweep, MarkerNames) {
  EXPECT_TRUE(is_marker_name(application_marker_name("a", "b")));
  EXPECT_FALSE(is_marker_name(std::string(63, 'a')));
  EXPECT_FALSE(is_marker_name(std::string(64, 'A')));
  EXPECT_FALSE(is_marker_name(std::string(64, 'g')));
}

// The adapter's own sweeper: at start and hourly, in the instance root's office folders.
TEST(MarkerSweep, TheAdapterRemovesOldClaimsInItsRootWhenItStarts) {
  TempDir dir;
  const fs::path markers = dir.path() / "kreisverwaltung" / kApplicationMarkers;
  const fs::path old_marker = make_marker(markers, "old", 31);
  const fs::path young_marker = make_marker(markers, "young", 29);
  TransferDirAdapter adapter(dir.path(), TransferDirAdapter::SyncMode::kPerFile, true, 30);
  for (int i = 0; i < 500 && present(old_marker); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(present(old_marker));
  EXPECT_TRUE(present(young_marker));
}

TEST(MarkerSweep, TheAdapterAlsoSweepsAChannelRootItClaimedIn) {
  TempDir instance_root;
  TempDir channel_root;
  TransferDirAdapter adapter(instance_root.path(), TransferDirAdapter::SyncMode::kPerFile, true,
                             30);
  Case c;
  c.case_number = "20261123100000000001";
  c.office_id = "kreisverwaltung";
  c.app.message_id = "m-1";
  c.app.sender = "rabbit/portal-a";
  c.app.xml = "<antrag/>\n";
  routing::Office office;
  office.id = c.office_id;
  const delivery::Params params({{"root", channel_root.path().string()}});
  const delivery::DeliveryRequest request{
      c, office, params, nullptr, nullptr, 1, std::chrono::steady_clock::now()};
  ASSERT_EQ(adapter.deliver(request).outcome, delivery::Outcome::kDelivered);
  const fs::path marker = channel_root.path() / c.office_id / kApplicationMarkers /
                          application_marker_name(c.app.sender, c.app.message_id);
  ASSERT_TRUE(present(marker));
  adapter.sweep_markers();
  EXPECT_TRUE(present(marker));  // a day old at most
  age(marker, 31);
  adapter.sweep_markers();
  EXPECT_FALSE(present(marker));
}

TEST(MarkerSweep, WithoutMarkersDaysNothingIsRemoved) {
  TempDir dir;
  const fs::path marker = make_marker(dir.path() / "office" / kApplicationMarkers, "old", 3650);
  TransferDirAdapter adapter(dir.path(), TransferDirAdapter::SyncMode::kPerFile, true, 0);
  adapter.sweep_markers();
  EXPECT_TRUE(present(marker));
}

}  // namespace
}  // namespace ozghub::adapters
