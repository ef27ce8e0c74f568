// The xfall_container plugin, loaded by the SDK's test kit exactly as ozg-hub loads it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "ozghub/adapter_testkit.hpp"

namespace {

namespace fs = std::filesystem;
using ozghub::testkit::FakeHost;
using ozghub::testkit::OfficeSpec;
using ozghub::testkit::SampleDelivery;

constexpr char kXml[] = "<antrag xmlns=\"urn:x\"><name>Erika</name></antrag>";
constexpr char kXmlBase64[] =
    "PGFudHJhZyB4bWxucz0idXJuOngiPjxuYW1lPkVyaWthPC9uYW1lPjwvYW50cmFnPg==";
// 768 bytes 0x00..0xff three times: every byte value, and a length that is a multiple of 3.
constexpr char kBinaryBase64[] =
    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+"
    "P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+"
    "AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmqq6ytrq+wsbKztLW2t7i5uru8vb6/"
    "wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj5OXm5+jp6uvs7e7v8PHy8/T19vf4+fr7/P3+/"
    "wABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj9AQUJDREV"
    "GR0hJSktMTU5PUFFSU1RVVldYWVpbXF1eX2BhYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ent8fX5/"
    "gIGCg4SFhoeIiYqLjI2Oj5CRkpOUlZaXmJmam5ydnp+goaKjpKWmp6ipqqusra6vsLGys7S1tre4ubq7vL2+"
    "v8DBwsPExcbHyMnKy8zNzs/Q0dLT1NXW19jZ2tvc3d7f4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3+Pn6+/z9/"
    "v8AAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/"
    "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl9gYWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+"
    "f4CBgoOEhYaHiImKi4yNjo+QkZKTlJWWl5iZmpucnZ6foKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr/"
    "AwcLDxMXGx8jJysvMzc7P0NHS09TV1tfY2drb3N3e3+Dh4uPk5ebn6Onq6+zt7u/w8fLz9PX29/j5+vv8/f7/";
constexpr char kBinarySha256[] = "f3a25aa93aa2fbba28d79260535bbd6a5eb0fc1c24a8b0f04e12b484c1dfe363";

std::string binary() {
  std::string s;
  for (int r = 0; r < 3; ++r) {
    for (int i = 0; i < 256; ++i) s += static_cast<char>(i);
  }
  return s;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

class XfallContainer : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    root_ =
        fs::temp_directory_path() / ("xfall-test-" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(root_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(root_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(root_, ec);
  }
  SampleDelivery sample() const {
    return SampleDelivery()
        .case_number("20240315000000000007")
        .message_id("msg-7")
        .sender("portal-a")
        .area_id("150860140140")
        .service_id("99085001000000")
        .schema("urn:x")
        .received_at_ms(1710504000123)  // 2024-03-15T12:00:00.123Z
        .xml(kXml)
        .attachment("Nachweis & Foto.bin", "application/octet-stream", binary());
  }
  fs::path root_;
  FakeHost host_{XFALL_PLUGIN};
};

TEST_F(XfallContainer, DeclaresItsTypeAndSchema) {
  EXPECT_EQ(host_.type_names(), std::vector<std::string>{"xfall_container"});
  const auto& t = host_.type("xfall_container");
  ASSERT_EQ(t.param_count, 1u);
  EXPECT_STREQ(t.params[0]->name, "root");
  EXPECT_EQ(t.params[0]->kind, OZGHUB_PARAM_PATH);
  EXPECT_EQ(t.params[0]->scope, OZGHUB_SCOPE_EITHER);
  EXPECT_TRUE(t.params[0]->required);
}

TEST_F(XfallContainer, WritesOneContainerWithEverythingEmbedded) {
  auto instance = host_.create("xfall_container", {{"root", root_.string()}});
  auto channel = instance->bind(OfficeSpec{"amt-7", "Amt Sieben", false});
  auto result = instance->deliver(*channel, sample());
  ASSERT_TRUE(result.delivered()) << result.error;

  fs::path file = root_ / "amt-7" / "20240315000000000007.xml";
  ASSERT_TRUE(fs::exists(file));
  std::string doc = read(file);
  EXPECT_EQ(doc.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xfall:container "
                      "xmlns:xfall=\"urn:ozg-hub:example:xfall-container:1\" version=\"1\">",
                      0),
            0u)
      << doc;
  EXPECT_TRUE(contains(doc, "<xfall:caseNumber>20240315000000000007</xfall:caseNumber>"));
  EXPECT_TRUE(contains(doc, "<xfall:serviceId>99085001000000</xfall:serviceId>"));
  EXPECT_TRUE(contains(doc, "<xfall:areaId>150860140140</xfall:areaId>"));
  EXPECT_TRUE(contains(doc, "<xfall:officeId>amt-7</xfall:officeId>"));
  EXPECT_TRUE(contains(doc, "<xfall:receivedAt>2024-03-15T12:00:00.123Z</xfall:receivedAt>"));
  EXPECT_TRUE(
      contains(doc, std::string("encoding=\"base64\">") + kXmlBase64 + "</xfall:application>"));
  EXPECT_TRUE(contains(doc, std::string("<xfall:attachment name=\"Nachweis &amp; Foto.bin\" "
                                        "contentType=\"application/octet-stream\" size=\"768\" "
                                        "sha256=\"") +
                                kBinarySha256 + "\" encoding=\"base64\">" + kBinaryBase64 +
                                "</xfall:attachment>"))
      << doc;
  // Nothing but the container: the temporary file is gone.
  EXPECT_EQ(std::distance(fs::directory_iterator(root_ / "amt-7"), fs::directory_iterator()), 1);
}

TEST_F(XfallContainer, ARepeatedDeliveryOfTheSameCaseIsHarmless) {
  auto instance = host_.create("xfall_container", {{"root", root_.string()}});
  auto channel = instance->bind(OfficeSpec{"amt-7", "Amt Sieben", false});
  ASSERT_TRUE(instance->deliver(*channel, sample()).delivered());
  fs::path file = root_ / "amt-7" / "20240315000000000007.xml";
  std::string first = read(file);
  auto again = instance->deliver(*channel, sample().xml("<other/>").attempt(2));
  EXPECT_TRUE(again.delivered()) << again.error;
  EXPECT_EQ(read(file), first);
}

TEST_F(XfallContainer, EncryptsThroughTheHostWhenTheOfficeHasACertificate) {
  auto instance = host_.create("xfall_container", {{"root", root_.string()}});
  auto channel = instance->bind(OfficeSpec{"amt-9", "Amt Neun", true});
  ASSERT_TRUE(instance->deliver(*channel, sample()).delivered());
  EXPECT_FALSE(fs::exists(root_ / "amt-9" / "20240315000000000007.xml"));
  std::string sealed = read(root_ / "amt-9" / "20240315000000000007.xml.p7m");
  EXPECT_FALSE(contains(sealed, "caseNumber"));
  std::string doc = FakeHost::test_decrypt(sealed);
  EXPECT_TRUE(contains(doc, "<xfall:caseNumber>20240315000000000007</xfall:caseNumber>"));
  EXPECT_TRUE(contains(doc, kBinaryBase64));
}

TEST_F(XfallContainer, AChannelMayNameItsOwnRoot) {
  auto instance = host_.create("xfall_container", {{"root", (root_ / "a").string()}});
  auto channel =
      instance->bind(OfficeSpec{"amt-7", "Amt", false}, {{"root", (root_ / "b").string()}});
  ASSERT_TRUE(instance->deliver(*channel, sample()).delivered());
  EXPECT_TRUE(fs::exists(root_ / "b" / "amt-7" / "20240315000000000007.xml"));
  EXPECT_FALSE(fs::exists(root_ / "a" / "amt-7"));
}

TEST_F(XfallContainer, AWriteFailureIsRetriedWithoutPersonalData) {
  auto instance = host_.create("xfall_container", {{"root", root_.string()}});
  auto channel = instance->bind(OfficeSpec{"amt-7", "Amt Sieben", false});
  // The office folder is replaced by a file: writing fails even for root.
  fs::remove_all(root_ / "amt-7");
  std::ofstream(root_ / "amt-7") << "x";
  auto result = instance->deliver(*channel, sample());
  EXPECT_TRUE(result.retry_later());
  EXPECT_EQ(result.error, "cannot write the container: Not a directory");
  auto logs = host_.logs();
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_EQ(logs[0].event, "xfall.write_failed");
  EXPECT_EQ(logs[0].level, OZGHUB_LOG_WARN);
  EXPECT_FALSE(contains(logs[0].message, "Erika"));
  EXPECT_FALSE(contains(logs[0].message, "Nachweis"));
}

TEST_F(XfallContainer, RootIsRequired) {
  auto instance = host_.create("xfall_container", {});
  EXPECT_THROW(instance->bind(OfficeSpec{}), std::runtime_error);
}

}  // namespace
