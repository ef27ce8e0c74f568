#include "routing/area_directory.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <vector>

#include "test_support.hpp"

namespace ozghub::routing {
namespace {

using ozghub::testing::corpus_dir;
using ozghub::testing::TempDir;
using ozghub::testing::write_file;

std::string gv100ad_path() { return (corpus_dir() / "areas" / "GV100AD_301123.txt").string(); }

// The real file is loaded once for all tests that only read it.
const AreaDirectory& germany() {
  static const Result<AreaDirectory> loaded = AreaDirectory::load_gv100ad(gv100ad_path());
  if (!loaded) {
    ADD_FAILURE() << loaded.status().message();
    static const AreaDirectory empty;
    return empty;
  }
  return loaded.value();
}

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

// A GV100AD record: the 22 key columns, the name padded to 50 characters, then `tail`.
std::string record(std::string_view key, std::string_view name, std::string_view tail = "") {
  std::string line(key);
  line.resize(22, ' ');
  line += name;
  line.append(50 - code_points(name), ' ');
  line += tail;
  return line;
}

TEST(AreaDirectory, ArsShape) {
  for (const char* ok : {"15", "150", "15086", "150860140", "150860140140", "01", "010020000000"}) {
    EXPECT_TRUE(is_valid_ars_shape(ok)) << ok;
  }
  for (const char* bad : {"", "1", "1508", "150860", "1508601", "15086014", "1508601401",
                          "15086014014", "1508601401400", "15086014014a", "15 86", "+15", "１５"}) {
    EXPECT_FALSE(is_valid_ars_shape(bad)) << bad;
  }
}

TEST(AreaDirectory, Gv100adMunicipalities) {
  const AreaDirectory& de = germany();
  const std::map<std::string, std::string> expected = {
      {"150860140140", "Möckern, Stadt"},          // Gemeindeverband and Gemeinde swapped
      {"150860015015", "Burg, Stadt"},             //
      {"150845053360", "Nebra (Unstrut), Stadt"},  // in Verbandsgemeinde Unstruttal (5053)
      {"010020000000", "Kiel, Landeshauptstadt"},  // kreisfreie Stadt
      {"146120000000", "Dresden, Stadt"},          // Saxony
      {"146260110110", "Görlitz, Stadt"},          // Saxony, Kreis Görlitz
      {"091620000000", "München, Landeshauptstadt"},
      {"096790143143", "Hausen b.Würzburg"},  // Bavaria, in a Verwaltungsgemeinschaft
  };
  for (const auto& [ars, name] : expected) {
    EXPECT_TRUE(de.contains(ars)) << ars;
    EXPECT_EQ(de.name(ars), name) << ars;
  }
  // The Gemeinde and Gemeindeverband digits read in record order instead of ARS order.
  EXPECT_FALSE(de.contains("150861400140"));
  EXPECT_FALSE(de.contains("010020000002"));
}

TEST(AreaDirectory, Gv100adHigherLevels) {
  const AreaDirectory& de = germany();
  EXPECT_EQ(de.name("15086"), "Jerichower Land");
  EXPECT_EQ(de.name("150860140"), "Möckern, Stadt");  // Satzart 50: the Einheitsgemeinde
  EXPECT_EQ(de.name("150845053"), "Unstruttal");
  EXPECT_EQ(de.name("15"), "Sachsen-Anhalt");
  EXPECT_EQ(de.name("14"), "Sachsen");
  EXPECT_EQ(de.name("091"), "Oberbayern");
  // A Land without Regierungsbezirke knows "LL0"; one with them (even former ones) does not.
  EXPECT_EQ(de.name("150"), "Sachsen-Anhalt");
  EXPECT_EQ(de.name("010"), "Schleswig-Holstein");
  EXPECT_EQ(de.name("110"), "Berlin");
  EXPECT_TRUE(de.contains("146"));
  EXPECT_FALSE(de.contains("140"));
  EXPECT_FALSE(de.contains("090"));
  EXPECT_FALSE(de.contains("159999999999"));
  EXPECT_EQ(de.name("159999999999"), "");
  EXPECT_EQ(de.name("1508"), "");
}

TEST(AreaDirectory, Gv100adCounts) {
  std::map<std::string, std::size_t> gemeinden;  // Land -> number of 12-digit keys
  std::map<std::size_t, std::size_t> by_length;
  germany().for_each([&](std::string_view ars, std::string_view) {
    ++by_length[ars.size()];
    if (ars.size() == 12) ++gemeinden[std::string(ars.substr(0, 2))];
  });
  EXPECT_EQ(gemeinden["14"], 418u);
  EXPECT_EQ(gemeinden["15"], 218u);
  // Record counts in the file: 16 x 10, 29 x 20, 400 x 40, 4597 x 50, 10981 x 60; plus "LL0"
  // for the nine Länder without Regierungsbezirke.
  EXPECT_EQ(by_length[2], 16u);
  EXPECT_EQ(by_length[3], 29u + 9u);
  EXPECT_EQ(by_length[5], 400u);
  EXPECT_EQ(by_length[9], 4597u);
  EXPECT_EQ(by_length[12], 10981u);
  EXPECT_EQ(germany().size(), 16u + 38u + 400u + 4597u + 10981u);
}

TEST(AreaDirectory, MalformedLinesAreReportedWithTheirNumbers) {
  TempDir tmp;
  auto path = tmp.path() / "bad.txt";
  write_file(path, record("102023113015", "Sachsen-Anhalt") + "\n" +          // 1: fine
                       "40202311301508\n" +                                   // 2: short Kreis key
                       record("4020231130150X6", "Jerichower Land") + "\n" +  // 3: non-digit key
                       record("6020231130150861400140", "Möckern, Stadt") + "\n" +  // 4: fine
                       record("7720231130150", "Anything") + "\n" +   // 5: unknown record type
                       "60202311\n" +                                 // 6: no date
                       record("6020231130150861400140", "") + "\n");  // 7: no name
  auto dir = AreaDirectory::load_gv100ad(path.string());
  ASSERT_FALSE(dir.is_ok());
  const std::string& m = dir.status().message();
  const std::string p = path.string();
  EXPECT_NE(m.find("5 error(s)"), std::string::npos) << m;
  EXPECT_NE(m.find(p + ":2: record of type 40 is too short"), std::string::npos) << m;
  EXPECT_NE(m.find(p + ":3: the key of a record of type 40 must be digits, got '150X6'"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find(p + ":5: unknown record type"), std::string::npos) << m;
  EXPECT_NE(m.find(p + ":6: expected a record type"), std::string::npos) << m;
  EXPECT_NE(m.find(p + ":7: record 150860140140 has no name"), std::string::npos) << m;
  EXPECT_EQ(m.find(":1:"), std::string::npos) << m;
  EXPECT_EQ(m.find(":4:"), std::string::npos) << m;
}

TEST(AreaDirectory, LatinOneIsReported) {
  TempDir tmp;
  auto path = tmp.path() / "latin1.txt";
  write_file(path, record("6020231130150861400140",
                          "M\xF6"
                          "ckern, Stadt") +
                       "\n");
  auto dir = AreaDirectory::load_gv100ad(path.string());
  ASSERT_FALSE(dir.is_ok());
  EXPECT_NE(dir.status().message().find(":1: not valid UTF-8"), std::string::npos)
      << dir.status().message();
}

TEST(AreaDirectory, ToleratesCrLfTrailingBlanksAndMissingFinalNewline) {
  TempDir tmp;
  auto path = tmp.path() / "gv.txt";
  write_file(path, record("102023113015", "Sachsen-Anhalt", "Magdeburg") + "\r\n" +
                       "\r\n" +  // blank line
                       record("402023113015086", "Jerichower Land", "Burg").substr(0, 40) +
                       "   \t\n" + record("6020231130150861400140", "Möckern, Stadt"));
  auto dir = AreaDirectory::load_gv100ad(path.string());
  ASSERT_OK(dir);
  EXPECT_EQ(dir->name("15"), "Sachsen-Anhalt");
  EXPECT_EQ(dir->name("150"), "Sachsen-Anhalt");
  EXPECT_EQ(dir->name("15086"), "Jerichower Land");
  EXPECT_EQ(dir->name("150860140140"), "Möckern, Stadt");
  EXPECT_EQ(dir->size(), 4u);
}

TEST(AreaDirectory, NameIsFiftyCharactersNotBytes) {
  // 50 umlauts are 100 bytes; the Verwaltungssitz column follows them directly.
  std::string name;
  for (int i = 0; i < 50; ++i) name += "ö";
  TempDir tmp;
  auto path = tmp.path() / "gv.txt";
  write_file(path, record("402023113015086", name, "Burg") + "\n");
  auto dir = AreaDirectory::load_gv100ad(path.string());
  ASSERT_OK(dir);
  EXPECT_EQ(dir->name("15086"), name);
}

TEST(AreaDirectory, MissingOrEmptyFile) {
  TempDir tmp;
  auto missing = AreaDirectory::load_gv100ad((tmp.path() / "nope.txt").string());
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kIoError);
  write_file(tmp.path() / "empty.txt", "\n");
  auto empty = AreaDirectory::load_gv100ad((tmp.path() / "empty.txt").string());
  ASSERT_FALSE(empty.is_ok());
  EXPECT_NE(empty.status().message().find("no areas"), std::string::npos);
}

TEST(AreaDirectory, AddByHand) {
  AreaDirectory dir;
  dir.add("150860140140", "Möckern, Stadt");
  dir.add("1508601", "ignored: not an ARS");
  dir.add("01", "Schleswig-Holstein");
  EXPECT_EQ(dir.size(), 2u);
  EXPECT_EQ(dir.name("150860140140"), "Möckern, Stadt");
  EXPECT_FALSE(dir.contains("1508601"));
  std::vector<std::string> keys;
  dir.for_each([&](std::string_view ars, std::string_view) { keys.emplace_back(ars); });
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"01", "150860140140"}));  // leading zero kept
}

}  // namespace
}  // namespace ozghub::routing
