#include <openssl/evp.h>

#include <map>
#include <random>
#include <regex>
#include <vector>

#include "crypto/openssl_cli.hpp"
#include "smtp/mime_message.hpp"
#include "test_support.hpp"

namespace ozghub::adapters::smtp {
namespace {

using ozghub::testing::demo_cert;
using ozghub::testing::openssl_decrypt;
using ozghub::testing::read_file;
using ozghub::testing::TempDir;
using ozghub::testing::write_file;

constexpr char kCaseNumber[] = "20261123000000000042";
constexpr std::int64_t kNow = 1795434814;  // Mon, 23 Nov 2026 11:53:34 UTC
constexpr char kUmlautName[] = "Geburtsurkunde_M\xC3\xBCller.pdf";

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(gen() & 0xff);
  return s;
}

Case make_case() {
  Case c;
  c.case_number = kCaseNumber;
  c.office_id = "moeckern-buergeramt";
  c.app.message_id = "msg-geheim-0001";
  c.app.sender = "amt24-portal";
  c.app.area_id = "150860140140";
  c.app.service_id = "99050012104000";
  c.app.schema = "urn:ozg-hub:antrag:1";
  c.app.xml =
      "<?xml version=\"1.0\"?>\n<antrag><name>Erika Mustermann</name>\n"
      ".starts with a dot\n<ort>M\xC3\xBCnchen</ort></antrag>\n";
  c.app.received_at_ms = 1795434814056;
  c.app.attachments = {
      {kUmlautName, "application/pdf", random_bytes(8192, 1)},
      {"Lichtbild.jpg", "image/JPEG; name=x", random_bytes(1000, 2)},
      {"evil.txt", "text/plain\r\nBcc: victim@example.org", "plain text\r\n.\r\n"},
      {"leer.bin", "", ""},
  };
  return c;
}

routing::Office make_office() {
  routing::Office office;
  office.id = "moeckern-buergeramt";
  office.name =
      "Stadt M\xC3\xB6"
      "ckern, B\xC3\xBCrgeramt";
  return office;
}

MailSettings settings(MailMode mode = MailMode::kNotification) {
  MailSettings s;
  s.from = "ozg-hub@hub.example";
  s.from_name = "ozg-hub";
  s.to = "poststelle@moeckern.example";
  s.mode = mode;
  s.message_id_domain = "hub.example";
  s.channel_tag = channel_tag("moeckern-buergeramt", s.to, mode);
  return s;
}

std::string base64_decode(std::string_view in) {
  std::string clean;
  for (const char c : in) {
    if (c != '\r' && c != '\n' && c != ' ') clean += c;
  }
  if (clean.empty()) return {};
  std::string out(clean.size() / 4 * 3 + 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(clean.data()),
                                static_cast<int>(clean.size()));
  EXPECT_GE(n, 0) << "not base64";
  std::size_t len = n < 0 ? 0 : static_cast<std::size_t>(n);
  if (clean.ends_with("==")) {
    len -= 2;
  } else if (clean.ends_with("=")) {
    len -= 1;
  }
  out.resize(len);
  return out;
}

// Decodes quoted-printable written with CRLF line ends into text with LF line ends.
std::string qp_decode(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '=' && in.substr(i + 1).starts_with("\r\n")) {
      i += 2;
    } else if (in[i] == '=' && i + 2 < in.size()) {
      out += static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else if (in[i] == '\r' && in.substr(i).starts_with("\r\n")) {
      out += '\n';
      ++i;
    } else {
      out += in[i];
    }
  }
  return out;
}

// Splits a message or entity into its header block and body at the first empty line.
std::pair<std::string, std::string> split_head_body(const std::string& entity) {
  const std::size_t sep = entity.find("\r\n\r\n");
  EXPECT_NE(sep, std::string::npos);
  return {entity.substr(0, sep + 2), entity.substr(sep + 4)};
}

// Header name -> unfolded value.
std::map<std::string, std::string> headers(const std::string& head) {
  std::map<std::string, std::string> out;
  std::string last;
  std::size_t pos = 0;
  while (pos < head.size()) {
    const std::size_t end = head.find("\r\n", pos);
    const std::string line = head.substr(pos, end - pos);
    pos = end + 2;
    if (line.empty()) continue;
    if (line[0] == ' ' || line[0] == '\t') {
      out[last] += line;
    } else {
      const std::size_t colon = line.find(':');
      last = line.substr(0, colon);
      out[last] = line.substr(colon + 2);
    }
  }
  return out;
}

void expect_well_formed_lines(const std::string& message) {
  std::size_t pos = 0;
  while (pos < message.size()) {
    const std::size_t end = message.find("\r\n", pos);
    ASSERT_NE(end, std::string::npos) << "last line has no CRLF";
    const std::string_view line(message.data() + pos, end - pos);
    EXPECT_LE(line.size(), 78u) << line;
    EXPECT_EQ(line.find('\n'), std::string_view::npos) << "bare LF in: " << line;
    EXPECT_EQ(line.find('\r'), std::string_view::npos) << "bare CR in: " << line;
    EXPECT_FALSE(line.starts_with(".")) << line;
    for (const char c : line) {
      EXPECT_TRUE(c == '\t' || (c >= 0x20 && c < 0x7F)) << "8-bit or control octet in: " << line;
    }
    pos = end + 2;
  }
}

// The body parts of a multipart entity: each part's headers and decoded body.
struct Part {
  std::map<std::string, std::string> headers;
  std::string body;
};

std::vector<Part> multipart_parts(const std::string& entity) {
  const auto [head, body] = split_head_body(entity);
  const auto h = headers(head);
  const std::string type = h.at("Content-Type");
  const std::size_t b = type.find("boundary=\"");
  EXPECT_NE(b, std::string::npos);
  const std::string boundary = type.substr(b + 10, type.find('"', b + 10) - b - 10);
  const std::string delimiter = "--" + boundary;
  std::vector<Part> parts;
  std::size_t pos = body.find(delimiter);
  EXPECT_EQ(pos, 0u);
  while (pos != std::string::npos) {
    pos += delimiter.size();
    if (body.substr(pos, 2) == "--") {
      EXPECT_EQ(body.substr(pos), "--\r\n");
      break;
    }
    pos += 2;  // CRLF
    const std::size_t next = body.find("\r\n" + delimiter, pos);
    EXPECT_NE(next, std::string::npos);
    const std::string raw = body.substr(pos, next - pos);
    auto [ph, pb] =
        split_head_body(raw + (raw.find("\r\n\r\n") == std::string::npos ? "\r\n" : ""));
    Part p;
    p.headers = headers(ph);
    const std::string& cte = p.headers["Content-Transfer-Encoding"];
    p.body = cte == "base64" ? base64_decode(pb) : qp_decode(pb);
    parts.push_back(std::move(p));
    pos = next + 2;
  }
  return parts;
}

TEST(SmtpMime, NotificationHasTheHeadersAndNoPersonalData) {
  const Case c = make_case();
  auto mail = build_mail(c, make_office(), settings(), nullptr, kNow);
  ASSERT_OK(mail);
  expect_well_formed_lines(*mail);
  const auto [head, body] = split_head_body(*mail);
  const auto h = headers(head);
  EXPECT_EQ(h.at("From"), "ozg-hub <ozg-hub@hub.example>");
  EXPECT_EQ(h.at("To"), "poststelle@moeckern.example");
  EXPECT_EQ(h.at("Date"), "Mon, 23 Nov 2026 11:53:34 +0000");
  EXPECT_EQ(h.at("MIME-Version"), "1.0");
  EXPECT_EQ(h.at("X-OZG-Case-Number"), kCaseNumber);
  EXPECT_EQ(h.at("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(h.at("Content-Transfer-Encoding"), "quoted-printable");
  EXPECT_EQ(h.at("Subject"),
            "Neuer Antrag 20261123000000000042 (Leistung 99050012104000, Gebiet 150860140140)");
  EXPECT_TRUE(std::regex_match(h.at("Message-ID"),
                               std::regex("<20261123000000000042\\.[0-9a-f]{12}\\.ozg-hub@hub\\."
                                          "example>")))
      << h.at("Message-ID");

  const std::string text = qp_decode(body);
  for (const char* expected : {kCaseNumber, "99050012104000", "150860140140",
                               "2026-11-23T11:53:34.056Z", "moeckern-buergeramt"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << " missing in\n" << text;
  }
  // Nothing from the application besides its identifiers: not the XML, no attachment name,
  // not the sender's message id or identity.
  for (const char* secret : {"Mustermann", "Erika", "M\xC3\xBCnchen", "Geburtsurkunde", "Lichtbild",
                             "evil", "msg-geheim", "amt24"}) {
    EXPECT_EQ(mail->find(secret), std::string::npos) << secret;
    EXPECT_EQ(text.find(secret), std::string::npos) << secret;
  }
}

TEST(SmtpMime, MessageIdIsStablePerCaseAndChannel) {
  const Case c = make_case();
  const auto office = make_office();
  auto first = build_mail(c, office, settings(), nullptr, kNow);
  auto later = build_mail(c, office, settings(), nullptr, kNow + 3600);
  ASSERT_OK(first);
  ASSERT_OK(later);
  const auto id = [](const std::string& m) {
    return headers(split_head_body(m).first).at("Message-ID");
  };
  EXPECT_EQ(id(*first), id(*later));
  EXPECT_NE(headers(split_head_body(*first).first).at("Date"),
            headers(split_head_body(*later).first).at("Date"));

  MailSettings other_mailbox = settings();
  other_mailbox.to = "gewerbe@moeckern.example";
  other_mailbox.channel_tag = channel_tag(office.id, other_mailbox.to, other_mailbox.mode);
  auto other = build_mail(c, office, other_mailbox, nullptr, kNow);
  ASSERT_OK(other);
  EXPECT_NE(id(*first), id(*other));

  Case c2 = c;
  c2.case_number = "20261123000000000043";
  auto next_case = build_mail(c2, office, settings(), nullptr, kNow);
  ASSERT_OK(next_case);
  EXPECT_NE(id(*first), id(*next_case));

  EXPECT_EQ(channel_tag("a", "b@c.d", MailMode::kNotification),
            channel_tag("a", "b@c.d", MailMode::kNotification));
  EXPECT_NE(channel_tag("a", "b@c.d", MailMode::kNotification),
            channel_tag("a", "b@c.d", MailMode::kSmime));
}

TEST(SmtpMime, RefusesAMalformedCaseNumber) {
  Case c = make_case();
  c.case_number = "2026\r\nBcc: x@y.z";
  auto mail = build_mail(c, make_office(), settings(), nullptr, kNow);
  ASSERT_FALSE(mail.is_ok());
  EXPECT_EQ(mail.status().message().find("Bcc"), std::string::npos);
}

TEST(SmtpMime, NonAsciiSubjectPrefixIsEncodedAndFolded) {
  MailSettings s = settings();
  s.subject_prefix = "[OZG Zustellung für das Bürgeramt Möckern]";
  auto mail = build_mail(make_case(), make_office(), s, nullptr, kNow);
  ASSERT_OK(mail);
  expect_well_formed_lines(*mail);
  const std::string subject = headers(split_head_body(*mail).first).at("Subject");
  // Decode the encoded-words back to UTF-8.
  std::string decoded;
  std::smatch m;
  std::string rest = subject;
  const std::regex word("=\\?utf-8\\?B\\?([A-Za-z0-9+/=]+)\\?=");
  while (std::regex_search(rest, m, word)) {
    decoded += base64_decode(m[1].str());
    rest = m.suffix();
  }
  EXPECT_EQ(decoded, s.subject_prefix +
                         " Neuer Antrag 20261123000000000042 (Leistung 99050012104000, Gebiet "
                         "150860140140)");
}

TEST(SmtpMime, QuotedPrintableRoundTripsAndKeepsLinesShort) {
  const std::string inputs[] = {
      "",
      "plain\n",
      ".leading dot\n..two\n.\nFrom the start\nFrom\n",
      "trailing space \ntrailing tab\t\n= sign =3D\n",
      std::string(300, 'x') + "\n" + std::string(200, '.') + "\n",
      "\xC3\xA4\xC3\xB6\xC3\xBC " + std::string(100, '=') + "\nno final break",
      std::string(75, 'a') + "." + std::string(75, 'b') + "\n",
  };
  for (const auto& in : inputs) {
    const std::string qp = quoted_printable(in);
    std::string expected = in;
    EXPECT_EQ(qp_decode(qp), expected) << qp;
    std::size_t pos = 0;
    while (pos < qp.size()) {
      std::size_t end = qp.find("\r\n", pos);
      if (end == std::string::npos) end = qp.size();
      const std::string_view line(qp.data() + pos, end - pos);
      EXPECT_LE(line.size(), 76u) << line;
      EXPECT_FALSE(line.starts_with(".")) << line;
      EXPECT_FALSE(line.starts_with("From ")) << line;
      EXPECT_FALSE(line.ends_with(" ")) << line;
      pos = end + 2;
    }
  }
}

TEST(SmtpMime, Base64LinesDecode) {
  for (std::size_t n : {0u, 1u, 2u, 3u, 56u, 57u, 58u, 1000u}) {
    const std::string data = random_bytes(n, static_cast<unsigned>(n));
    const std::string b64 = base64_lines(data);
    EXPECT_EQ(base64_decode(b64), data) << n;
    if (n > 0) {
      EXPECT_TRUE(b64.ends_with("\r\n"));
    }
  }
  EXPECT_EQ(base64_lines("ab"), "YWI=\r\n");
}

TEST(SmtpMime, ContentTypesAndFileNamesAreSafe) {
  EXPECT_EQ(safe_content_type("application/pdf"), "application/pdf");
  EXPECT_EQ(safe_content_type(" Image/JPEG ; name=\"x\""), "image/jpeg");
  EXPECT_EQ(safe_content_type("text/plain\r\nBcc: a@b.c"), "application/octet-stream");
  EXPECT_EQ(safe_content_type(""), "application/octet-stream");
  EXPECT_EQ(safe_content_type("pdf"), "application/octet-stream");

  EXPECT_EQ(mime_parameter("filename", "Lichtbild.jpg"), ";\r\n filename=\"Lichtbild.jpg\"");
  EXPECT_EQ(mime_parameter("filename", kUmlautName),
            ";\r\n filename*=utf-8''Geburtsurkunde_M%C3%BCller.pdf");
  EXPECT_EQ(mime_parameter("filename", "a \"b\".txt"), ";\r\n filename*=utf-8''a%20%22b%22.txt");
  const std::string long_name = std::string(40, '\xC3') + ".pdf";
  const std::string p = mime_parameter("filename", long_name);
  EXPECT_NE(p.find("filename*0*=utf-8''%C3"), std::string::npos) << p;
  EXPECT_NE(p.find("filename*1*=%C3"), std::string::npos) << p;
}

TEST(SmtpMime, AddressesAndDomainsAreChecked) {
  EXPECT_TRUE(is_valid_addr_spec("poststelle@moeckern.example"));
  EXPECT_TRUE(is_valid_addr_spec("a.b+c@x-y.example"));
  EXPECT_FALSE(is_valid_addr_spec("Poststelle <p@x.example>"));
  EXPECT_FALSE(is_valid_addr_spec("p@x.example>\r\nRCPT TO:<q@y.example"));
  EXPECT_FALSE(is_valid_addr_spec("@x.example"));
  EXPECT_FALSE(is_valid_addr_spec("p@"));
  EXPECT_FALSE(is_valid_addr_spec("a..b@x.example"));
  EXPECT_FALSE(is_valid_addr_spec("p@x_y.example"));
  EXPECT_TRUE(is_valid_domain("127.0.0.1"));
  EXPECT_FALSE(is_valid_domain("-x.example"));
  EXPECT_FALSE(is_valid_domain("x..example"));
  EXPECT_TRUE(is_safe_header_text("[OZG] Möckern", 64));
  EXPECT_FALSE(is_safe_header_text("a\r\nBcc: b", 64));
  EXPECT_FALSE(is_safe_header_text("\xC3", 64));
  EXPECT_FALSE(is_safe_header_text(std::string(65, 'a'), 64));
}

TEST(SmtpMime, SmimeNeedsARecipient) {
  auto mail = build_mail(make_case(), make_office(), settings(MailMode::kSmime), nullptr, kNow);
  EXPECT_FALSE(mail.is_ok());
}

TEST(SmtpMime, SmimeMailDecryptsToTheApplicationAndAttachments) {
  auto recipient = crypto::Recipient::from_pem_file(demo_cert().string());
  ASSERT_OK(recipient);
  const Case c = make_case();
  const auto office = make_office();
  const MailSettings s = settings(MailMode::kSmime);
  auto mail = build_mail(c, office, s, recipient->get(), kNow);
  ASSERT_OK(mail);
  expect_well_formed_lines(*mail);
  const auto [head, body] = split_head_body(*mail);
  const auto h = headers(head);
  EXPECT_EQ(h.at("Content-Type"),
            "application/pkcs7-mime; smime-type=authEnveloped-data; name=\"smime.p7m\"");
  EXPECT_EQ(h.at("Content-Transfer-Encoding"), "base64");
  EXPECT_EQ(h.at("Content-Disposition"), "attachment; filename=\"smime.p7m\"");
  EXPECT_EQ(h.at("X-OZG-Case-Number"), kCaseNumber);
  for (const char* secret : {"Mustermann", "Geburtsurkunde", "Lichtbild", "msg-geheim"}) {
    EXPECT_EQ(mail->find(secret), std::string::npos) << secret;
  }

  TempDir tmp;
  write_file(tmp.path() / "smime.p7m", base64_decode(body));
  ASSERT_EQ(openssl_decrypt(tmp.path() / "smime.p7m", tmp.path() / "inner.eml"), "");
  const std::string inner = read_file(tmp.path() / "inner.eml");
  EXPECT_EQ(inner, smime_inner_entity(c, office, s));

  const std::vector<Part> parts = multipart_parts(inner);
  ASSERT_EQ(parts.size(), 2 + c.app.attachments.size());
  EXPECT_EQ(parts[0].headers.at("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(parts[0].body, notification_text(c, office, s));
  EXPECT_NE(parts[0].body.find("S/MIME"), std::string::npos);

  EXPECT_EQ(parts[1].headers.at("Content-Type"), "application/xml; name=\"application.xml\"");
  EXPECT_EQ(parts[1].headers.at("Content-Disposition"), "attachment; filename=\"application.xml\"");
  EXPECT_TRUE(parts[1].body == c.app.xml);

  const std::vector<std::pair<std::string, std::string>> expected = {
      {"application/pdf; name*=utf-8''Geburtsurkunde_M%C3%BCller.pdf",
       "attachment; filename*=utf-8''Geburtsurkunde_M%C3%BCller.pdf"},
      {"image/jpeg; name=\"Lichtbild.jpg\"", "attachment; filename=\"Lichtbild.jpg\""},
      {"application/octet-stream; name=\"evil.txt\"", "attachment; filename=\"evil.txt\""},
      {"application/octet-stream; name=\"leer.bin\"", "attachment; filename=\"leer.bin\""},
  };
  for (std::size_t i = 0; i < c.app.attachments.size(); ++i) {
    const Part& p = parts[2 + i];
    EXPECT_EQ(p.headers.at("Content-Type"), expected[i].first);
    EXPECT_EQ(p.headers.at("Content-Disposition"), expected[i].second);
    EXPECT_EQ(p.headers.at("Content-Transfer-Encoding"), "base64");
    EXPECT_TRUE(p.body == c.app.attachments[i].data) << "attachment " << i << " differs";
  }
}

}  // namespace
}  // namespace ozghub::adapters::smtp
