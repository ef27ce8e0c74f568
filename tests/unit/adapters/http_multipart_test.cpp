#include "http/multipart_body.hpp"
#include "test_support.hpp"

namespace ozghub::adapters::http {
namespace {

TEST(HttpMultipart, PartsInOrderWithUniqueNamesAndAnUnusedBoundary) {
  std::vector<Attachment> attachments = {
      {"Ausweis.pdf", "application/pdf", std::string("%PDF-\0\r\n--x", 11)},
      {"Ausweis.pdf", "image/png; name=evil", "png"},
      {"a\"b\\c.txt", "text/plain", ""},
  };
  auto m = form_data("<antrag/>", "application/xml", attachments);
  const std::string prefix = "multipart/form-data; boundary=";
  ASSERT_EQ(m.content_type.rfind(prefix, 0), 0u);
  const std::string boundary = m.content_type.substr(prefix.size());
  EXPECT_GE(boundary.size(), 40u);
  const std::string expected =
      "--" + boundary +
      "\r\nContent-Disposition: form-data; name=\"application\"; filename=\"application.xml\""
      "\r\nContent-Type: application/xml\r\n\r\n<antrag/>\r\n"
      "--" +
      boundary +
      "\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"Ausweis.pdf\""
      "\r\nContent-Type: application/pdf\r\n\r\n" +
      attachments[0].data +
      "\r\n"
      "--" +
      boundary +
      "\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"Ausweis-2.pdf\""
      "\r\nContent-Type: image/png\r\n\r\npng\r\n"
      "--" +
      boundary +
      "\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"a_b_c.txt\""
      "\r\nContent-Type: text/plain\r\n\r\n\r\n"
      "--" +
      boundary + "--\r\n";
  EXPECT_EQ(m.body, expected);
  // Every call draws a new boundary.
  EXPECT_NE(form_data("<antrag/>", "application/xml", {}).content_type, m.content_type);
}

TEST(HttpMultipart, FileNamesAreQuotedWithoutControlCharacters) {
  EXPECT_EQ(form_data_file_name("Bescheid \xC3\xBC.pdf"), "\"Bescheid \xC3\xBC.pdf\"");
  EXPECT_EQ(form_data_file_name("x\r\ny\"\\"), "\"x%0D%0Ay%22%5C\"");
}

}  // namespace
}  // namespace ozghub::adapters::http
