#include "smtp/mime_message.hpp"

#include <array>
#include <ctime>

#include "common/text.hpp"
#include "transfer_dir/transfer_dir_adapter.hpp"

namespace ozghub::adapters::smtp {
namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr std::size_t kMaxLine = 78;     // RFC 5322 "SHOULD"; the hard limit is 998
constexpr std::size_t kQpLine = 76;      // RFC 2045
constexpr std::size_t kBase64Line = 76;  // RFC 2045
constexpr char kHex[] = "0123456789ABCDEF";

bool is_ascii_letter_or_digit(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_printable_ascii(std::string_view s) {
  for (const char c : s) {
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Ingress validated these already; a header never gets anything but digits from them anyway.
std::string_view digits_or_unknown(std::string_view s) { return all_digits(s) ? s : "?"; }

// RFC 5322 atext, the characters of a dot-atom besides '.'.
bool is_atext(char c) {
  if (is_ascii_letter_or_digit(c)) return true;
  constexpr std::string_view kSpecials = "!#$%&'*+-/=?^_`{|}~";
  return kSpecials.find(c) != std::string_view::npos;
}

bool is_dot_atom(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  char prev = 0;
  for (const char c : s) {
    if (c == '.' ? prev == '.' : !is_atext(c)) return false;
    prev = c;
  }
  return true;
}

// RFC 2045 token characters (for a type or subtype).
bool is_token_char(char c) {
  if (c <= 0x20 || c >= 0x7F) return false;
  constexpr std::string_view kTSpecials = "()<>@,;:\\\"/[]?=";
  return kTSpecials.find(c) == std::string_view::npos;
}

// RFC 2231 attribute-char: what may stay unencoded in an extended parameter value.
bool is_attribute_char(char c) {
  if (is_ascii_letter_or_digit(c)) return true;
  constexpr std::string_view kAllowed = "!#$&+-.^_`|~";
  return kAllowed.find(c) != std::string_view::npos;
}

void append_hex(std::string& out, unsigned char c) {
  out += kHex[c >> 4];
  out += kHex[c & 0x0F];
}

// Appends a header "Name: value" and CRLF; `value` is already encoded and folded.
void header(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  out += value;
  out += kCrlf;
}

std::string base64(std::string_view data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const auto n = static_cast<std::uint32_t>(static_cast<unsigned char>(data[i]) << 16 |
                                              static_cast<unsigned char>(data[i + 1]) << 8 |
                                              static_cast<unsigned char>(data[i + 2]));
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  const std::size_t rest = data.size() - i;
  if (rest > 0) {
    std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(data[i]) << 16);
    if (rest == 2) n |= static_cast<std::uint32_t>(static_cast<unsigned char>(data[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// The longest prefix of `s` (from `pos`) of at most `max` bytes that does not split a UTF-8
// sequence; ill-formed bytes count as one.
std::size_t utf8_chunk(std::string_view s, std::size_t pos, std::size_t max) {
  std::size_t n = 0;
  while (pos + n < s.size()) {
    char32_t cp = 0;
    std::size_t len = text::utf8_sequence(s, pos + n, cp);
    if (len == 0) len = 1;
    if (n + len > max) break;
    n += len;
  }
  return n == 0 && pos < s.size() ? 1 : n;
}

// Folds printable ASCII at spaces so that lines stay within kMaxLine where the words allow.
std::string fold_ascii(std::string_view value, std::size_t name_length) {
  std::string out;
  std::size_t line = name_length;
  std::size_t pos = 0;
  while (pos < value.size()) {
    std::size_t next = value.find(' ', pos + 1);
    if (next == std::string_view::npos) next = value.size();
    const std::string_view word = value.substr(pos, next - pos);  // with its leading space
    if (line + word.size() > kMaxLine && pos > 0 && word.front() == ' ') {
      out += kCrlf;
      line = 0;
    }
    out += word;
    line += word.size();
    pos = next;
  }
  return out;
}

std::string display_name_phrase(std::string_view name) {
  bool plain = !name.empty() && name.front() != ' ' && name.back() != ' ';
  for (const char c : name) {
    if (c != ' ' && !is_atext(c)) plain = false;
  }
  return plain ? std::string(name) : encode_header_value(name, 6);
}

std::string content_type_header(std::string_view type, std::string_view name_param) {
  std::string v(type);
  if (!name_param.empty()) v += mime_parameter("name", name_param);
  return v;
}

std::string disposition_header(std::string_view file_name) {
  return "attachment" + mime_parameter("filename", file_name);
}

std::string subject(const Case& c, const MailSettings& settings) {
  std::string s;
  if (!settings.subject_prefix.empty()) {
    s += settings.subject_prefix;
    s += ' ';
  }
  s += "Neuer Antrag ";
  s += c.case_number;
  s += " (Leistung ";
  s += digits_or_unknown(c.app.service_id);
  s += ", Gebiet ";
  s += digits_or_unknown(c.app.area_id);
  s += ')';
  return s;
}

bool is_case_number(std::string_view s) { return s.size() == 20 && all_digits(s); }

// Outer headers common to both modes, without the Content-* ones.
std::string common_headers(const Case& c, const MailSettings& settings,
                           std::int64_t now_unix_seconds) {
  std::string out;
  out.reserve(1024);
  const std::string name = settings.from_name.empty() ? "ozg-hub" : settings.from_name;
  header(out, "From", display_name_phrase(name) + " <" + settings.from + ">");
  header(out, "To", settings.to);
  header(out, "Subject", encode_header_value(subject(c, settings), 9));
  header(out, "Date", rfc5322_date(now_unix_seconds));
  header(out, "Message-ID",
         message_id(c.case_number, settings.channel_tag, settings.message_id_domain));
  header(out, "MIME-Version", "1.0");
  header(out, "X-OZG-Case-Number", c.case_number);
  // RFC 3834: keeps vacation responders from answering the hub.
  header(out, "Auto-Submitted", "auto-generated");
  return out;
}

}  // namespace

bool is_valid_addr_spec(std::string_view address) {
  if (address.size() > 254) return false;
  const std::size_t at = address.rfind('@');
  if (at == std::string_view::npos || at == 0) return false;
  return is_dot_atom(address.substr(0, at)) && is_valid_domain(address.substr(at + 1));
}

bool is_valid_domain(std::string_view domain) {
  if (domain.empty() || domain.size() > 253) return false;
  std::size_t label = 0;
  char prev = '.';
  for (const char c : domain) {
    if (c == '.') {
      if (label == 0 || prev == '-') return false;
      label = 0;
    } else if (is_ascii_letter_or_digit(c) || c == '-') {
      if (label == 0 && c == '-') return false;
      if (++label > 63) return false;
    } else {
      return false;
    }
    prev = c;
  }
  return label > 0 && prev != '-';
}

bool is_safe_header_text(std::string_view text, std::size_t max_bytes) {
  if (text.size() > max_bytes) return false;
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    const std::size_t len = text::utf8_sequence(text, i, cp);
    if (len == 0 || cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029) {
      return false;
    }
    i += len;
  }
  return true;
}

std::string channel_tag(std::string_view office_id, std::string_view to, MailMode mode) {
  std::string key(office_id);
  key += '\n';
  key += to;
  key += '\n';
  key += mode == MailMode::kSmime ? "smime" : "notification";
  return crypto::sha256_hex(key).substr(0, 12);
}

std::string message_id(std::string_view case_number, std::string_view channel_tag,
                       std::string_view domain) {
  std::string id = "<";
  id += case_number;
  id += '.';
  id += channel_tag;
  id += ".ozg-hub@";
  id += domain;
  id += '>';
  return id;
}

std::string rfc5322_date(std::int64_t unix_seconds) {
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000",
                kDays[static_cast<std::size_t>(tm.tm_wday) % 7], tm.tm_mday,
                kMonths[static_cast<std::size_t>(tm.tm_mon) % 12], tm.tm_year + 1900, tm.tm_hour,
                tm.tm_min, tm.tm_sec);
  return buf;
}

std::string base64_lines(std::string_view data) {
  const std::string b64 = base64(data);
  std::string out;
  out.reserve(b64.size() + b64.size() / kBase64Line * 2 + 2);
  for (std::size_t i = 0; i < b64.size(); i += kBase64Line) {
    out.append(b64, i, kBase64Line);
    out += kCrlf;
  }
  return out;
}

std::string quoted_printable(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8 + 16);
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    const bool has_break = end != std::string_view::npos;
    if (!has_break) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = has_break ? end + 1 : end;

    std::size_t out_line = 0;  // characters on the current output line
    for (std::size_t i = 0; i < line.size(); ++i) {
      const auto c = static_cast<unsigned char>(line[i]);
      const bool last = i + 1 == line.size();
      bool encode =
          c == '=' || c > 0x7E || (c < 0x20 && c != '\t') || ((c == ' ' || c == '\t') && last);
      // Room for the soft break's "=" unless this is the last character of the line.
      const std::size_t limit = last ? kQpLine : kQpLine - 1;
      if (out_line + (encode ? 3 : 1) > limit) {
        out += '=';
        out += kCrlf;
        out_line = 0;
      }
      // At the start of an output line: "." could end the DATA phase on a careless relay, and
      // "From " gets mangled by mbox writers.
      if (out_line == 0 && (c == '.' || (c == 'F' && line.substr(i).starts_with("From ")))) {
        encode = true;
      }
      if (encode) {
        out += '=';
        append_hex(out, c);
        out_line += 3;
      } else {
        out += static_cast<char>(c);
        out_line += 1;
      }
    }
    if (has_break) out += kCrlf;
  }
  return out;
}

std::string encode_header_value(std::string_view value, std::size_t name_length) {
  if (is_printable_ascii(value) && value.find("=?") == std::string_view::npos) {
    return fold_ascii(value, name_length);
  }
  constexpr std::string_view kOpen = "=?utf-8?B?";
  constexpr std::string_view kClose = "?=";
  std::string out;
  std::size_t pos = 0;
  bool first = true;
  while (pos < value.size()) {
    const std::size_t used = first ? name_length : 1;
    const std::size_t budget = kMaxLine > used + 12 + 4 ? kMaxLine - used - 12 : 4;
    const std::size_t max_bytes = budget / 4 * 3;
    const std::size_t n = utf8_chunk(value, pos, max_bytes);
    if (!first) out += "\r\n ";
    out += kOpen;
    out += base64(value.substr(pos, n));
    out += kClose;
    pos += n;
    first = false;
  }
  return out;
}

std::string safe_content_type(std::string_view content_type) {
  std::string_view v = content_type.substr(0, content_type.find(';'));
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  const std::size_t slash = v.find('/');
  bool ok = slash != std::string_view::npos && slash > 0 && slash + 1 < v.size() && v.size() <= 127;
  for (std::size_t i = 0; ok && i < v.size(); ++i) {
    if (i != slash && !is_token_char(v[i])) ok = false;
  }
  if (!ok) return "application/octet-stream";
  std::string out(v);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string mime_parameter(std::string_view name, std::string_view value) {
  constexpr std::size_t kChunk = 60;
  bool plain = value.size() <= kChunk && is_printable_ascii(value);
  for (const char c : value) {
    if (c == '"' || c == '\\') plain = false;
  }
  std::string out = ";\r\n ";
  if (plain) {
    out += name;
    out += "=\"";
    out += value;
    out += '"';
    return out;
  }
  // RFC 2231: percent-encoded UTF-8, split into numbered sections without splitting an "%XX".
  std::vector<std::string> sections(1, "utf-8''");
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    std::string piece;
    if (is_attribute_char(ch)) {
      piece = ch;
    } else {
      piece = '%';
      append_hex(piece, c);
    }
    if (sections.back().size() + piece.size() > kChunk) sections.emplace_back();
    sections.back() += piece;
  }
  if (sections.size() == 1) {
    out += name;
    out += "*=";
    out += sections.front();
    return out;
  }
  for (std::size_t i = 0; i < sections.size(); ++i) {
    if (i > 0) out += ";\r\n ";
    out += name;
    out += '*';
    out += std::to_string(i);
    out += "*=";
    out += sections[i];
  }
  return out;
}

std::string notification_text(const Case& c, const routing::Office& office,
                              const MailSettings& settings) {
  std::string t;
  t.reserve(1024);
  t += "Guten Tag,\n\n";
  t += "bei ozg-hub ist ein neuer Antrag f\xC3\xBCr Ihre Stelle eingegangen.\n\n";
  t += "  Vorgangsnummer:    ";
  t += c.case_number;
  t += "\n  Leistung (LeiKa):  ";
  t += digits_or_unknown(c.app.service_id);
  t += "\n  Gebiet (ARS):      ";
  t += digits_or_unknown(c.app.area_id);
  t += "\n  Eingang (UTC):     ";
  t += text::iso8601_utc_ms(c.app.received_at_ms);
  t += "\n  Stelle:            ";
  if (is_safe_header_text(office.name, 200) && !office.name.empty()) {
    t += office.name;
    t += " (";
    t += office.id;
    t += ")";
  } else {
    t += office.id;
  }
  t += "\n\n";
  if (settings.mode == MailMode::kSmime) {
    const std::size_t n = c.app.attachments.size();
    t += "Der Antrag (application.xml) ";
    t += n == 0 ? std::string("ist")
                : "und " + std::to_string(n) + (n == 1 ? " Anlage sind" : " Anlagen sind");
    t += " dieser Nachricht S/MIME-verschl\xC3\xBCsselt beigef\xC3\xBCgt. Sie \xC3\xB6"
         "ffnen sie mit dem Schl\xC3\xBCssel Ihrer Stelle.\n";
  } else {
    t += "Den Antrag finden Sie unter der Vorgangsnummer ";
    t += c.case_number;
    if (!settings.pickup_hint.empty()) {
      t += " hier:\n  ";
      t += settings.pickup_hint;
      t += "\n";
    } else {
      t += " in Ihrem Transferverzeichnis (Ordner ";
      t += office.id;
      t += "/";
      t += c.case_number;
      t += ") oder Fachverfahren.\n";
    }
  }
  t += "\nDiese Nachricht wurde automatisch erstellt und enth\xC3\xA4lt keine "
       "personenbezogenen Daten.\n";
  return t;
}

std::string smime_inner_entity(const Case& c, const routing::Office& office,
                               const MailSettings& settings) {
  // "=_" occurs neither in base64 nor in quoted-printable ("=" is always followed by hex or a
  // line break there), so this boundary cannot appear in any part.
  const std::string boundary = "=_ozg-hub_" + c.case_number;
  std::size_t size = c.app.xml.size() * 4 / 3 + 4096;
  for (const auto& a : c.app.attachments) size += a.data.size() * 4 / 3 + a.data.size() / 38 + 512;
  std::string out;
  out.reserve(size);
  header(out, "Content-Type", "multipart/mixed;\r\n boundary=\"" + boundary + "\"");
  out += kCrlf;
  const auto part = [&](std::string_view type, std::string_view encoding) {
    out += "--";
    out += boundary;
    out += kCrlf;
    header(out, "Content-Type", type);
    header(out, "Content-Transfer-Encoding", encoding);
  };
  part("text/plain; charset=utf-8", "quoted-printable");
  out += kCrlf;
  out += quoted_printable(notification_text(c, office, settings));
  out += kCrlf;

  part(content_type_header("application/xml", "application.xml"), "base64");
  header(out, "Content-Disposition", disposition_header("application.xml"));
  out += kCrlf;
  out += base64_lines(c.app.xml);
  out += kCrlf;

  const std::vector<std::string> names = TransferDirAdapter::unique_file_names(c.app.attachments);
  for (std::size_t i = 0; i < c.app.attachments.size(); ++i) {
    const Attachment& a = c.app.attachments[i];
    part(content_type_header(safe_content_type(a.content_type), names[i]), "base64");
    header(out, "Content-Disposition", disposition_header(names[i]));
    out += kCrlf;
    out += base64_lines(a.data);
    out += kCrlf;
  }
  out += "--";
  out += boundary;
  out += "--";
  out += kCrlf;
  return out;
}

Result<std::string> build_mail(const Case& c, const routing::Office& office,
                               const MailSettings& settings, const crypto::Recipient* recipient,
                               std::int64_t now_unix_seconds) {
  if (!is_case_number(c.case_number)) {
    return Status::invalid_argument("case number is not 20 digits");
  }
  std::string out = common_headers(c, settings, now_unix_seconds);
  if (settings.mode == MailMode::kNotification) {
    header(out, "Content-Type", "text/plain; charset=utf-8");
    header(out, "Content-Transfer-Encoding", "quoted-printable");
    out += kCrlf;
    out += quoted_printable(notification_text(c, office, settings));
    return out;
  }
  if (recipient == nullptr) {
    return Status::invalid_argument("S/MIME mail without the office's certificate");
  }
  auto der = crypto::encrypt(smime_inner_entity(c, office, settings), *recipient);
  if (!der.is_ok()) return Status::internal("encryption failed: " + der.status().message());
  header(out, "Content-Type",
         "application/pkcs7-mime; smime-type=authEnveloped-data;\r\n name=\"smime.p7m\"");
  header(out, "Content-Transfer-Encoding", "base64");
  header(out, "Content-Disposition", "attachment; filename=\"smime.p7m\"");
  out += kCrlf;
  out += base64_lines(*der);
  return out;
}

}  // namespace ozghub::adapters::smtp
