// The transfer directory's idempotency by application (`idempotency: application`): of two
// cases of one application (two hubs behind one broker queue) exactly one folder is written.
#include "transfer_dir/application_marker.hpp"

#include <filesystem>

#include "test_support.hpp"
#include "transfer_dir/transfer_dir_adapter.hpp"

namespace ozghub::adapters {
namespace {

namespace fs = std::filesystem;
using delivery::Outcome;
using ozghub::testing::TempDir;

constexpr char kOffice[] = "kreisverwaltung";

Case make_case(const std::string& case_number, const std::string& message_id) {
  Case c;
  c.case_number = case_number;
  c.office_id = kOffice;
  c.app.message_id = message_id;
  c.app.sender = "rabbit/portal-a";
  c.app.area_id = "150860015015";
  c.app.service_id = "99085001000000";
  c.app.xml = "<antrag/>\n";
  return c;
}

class ApplicationMarkerTest : public ::testing::Test {
 protected:
  Outcome deliver(const Case& c) {
    const delivery::Params params;
    const delivery::DeliveryRequest request{
        c, office_, params, nullptr, nullptr, 1, std::chrono::steady_clock::now()};
    return adapter_.deliver(request).outcome;
  }
  fs::path office_dir() const { return dir_.path() / kOffice; }
  fs::path marker(const Case& c) const {
    return office_dir() / kApplicationMarkers /
           application_marker_name(c.app.sender, c.app.message_id);
  }

  TempDir dir_;
  routing::Office office_ = [] {
    routing::Office o;
    o.id = kOffice;
    return o;
  }();
  TransferDirAdapter adapter_{dir_.path(), TransferDirAdapter::SyncMode::kPerFile, true};
};

TEST_F(ApplicationMarkerTest, TheSecondCaseOfAnApplicationWritesNothing) {
  const Case first = make_case("20261123100000000001", "m-1");
  const Case second = make_case("20261123200000000007", "m-1");
  EXPECT_EQ(deliver(first), Outcome::kDelivered);
  EXPECT_EQ(deliver(second), Outcome::kDelivered);
  EXPECT_TRUE(fs::exists(office_dir() / first.case_number / "manifest.json"));
  EXPECT_FALSE(fs::exists(office_dir() / second.case_number));
  EXPECT_FALSE(fs::exists(office_dir() / (".tmp-" + second.case_number)));
  EXPECT_EQ(fs::read_symlink(marker(first)).string(), first.case_number);
  // Another application is not affected; a retry of the owner is still delivered.
  EXPECT_EQ(deliver(make_case("20261123200000000008", "m-2")), Outcome::kDelivered);
  EXPECT_TRUE(fs::exists(office_dir() / "20261123200000000008"));
  EXPECT_EQ(deliver(first), Outcome::kDelivered);
}

TEST_F(ApplicationMarkerTest, AnOwnerStillWritingMakesTheOtherCaseWait) {
  const Case owner = make_case("20261123100000000001", "m-1");
  const Case other = make_case("20261123200000000007", "m-1");
  // The owner's hub died after claiming, while writing its temporary folder.
  fs::create_directories(office_dir() / kApplicationMarkers);
  fs::create_directory_symlink(owner.case_number, marker(owner));
  fs::create_directories(office_dir() / (".tmp-" + owner.case_number));
  EXPECT_EQ(deliver(other), Outcome::kRetryLater);
  EXPECT_FALSE(fs::exists(office_dir() / other.case_number));
  // Restarted, the owner writes its case (its claim, its stale temporary folder) ...
  EXPECT_EQ(deliver(owner), Outcome::kDelivered);
  EXPECT_TRUE(fs::exists(office_dir() / owner.case_number / "manifest.json"));
  // ... and the other case's retry finds it delivered.
  EXPECT_EQ(deliver(other), Outcome::kDelivered);
  EXPECT_FALSE(fs::exists(office_dir() / other.case_number));
}

TEST_F(ApplicationMarkerTest, AFolderThePickedUpOwnerLeftIsNotWrittenAgain) {
  const Case owner = make_case("20261123100000000001", "m-1");
  ASSERT_EQ(deliver(owner), Outcome::kDelivered);
  fs::remove_all(office_dir() / owner.case_number);  // the office took it
  EXPECT_EQ(deliver(make_case("20261123200000000007", "m-1")), Outcome::kDelivered);
  EXPECT_FALSE(fs::exists(office_dir() / "20261123200000000007"));
}

TEST(ApplicationMarkerName, SenderAndMessageIdBothCount) {
  EXPECT_EQ(application_marker_name("a", "b").size(), 64u);
  EXPECT_NE(application_marker_name("a", "bc"), application_marker_name("ab", "c"));
  EXPECT_EQ(application_marker_name("a", "b"), application_marker_name("a", "b"));
}

}  // namespace
}  // namespace ozghub::adapters
