// xfall_container: an example ozg-hub adapter plugin, built out of tree against the installed
// SDK. It writes each application as one XFall-style XML container file
//   <root>/<office_id>/<case_number>.xml        (office without certificate)
//   <root>/<office_id>/<case_number>.xml.p7m    (office with certificate: CMS, via the host)
// holding the case metadata, the application XML and every attachment (base64, with name,
// content type, size and SHA-256). The file appears atomically (temporary file, fsync, rename,
// fsync of the folder); a file that exists already means the case was delivered, so a repeated
// delivery (at least once) is harmless.
//
// Configuration: `root` (path; instance or channel).
#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <filesystem>
#include <string>
#include <system_error>
#include <thread>

#include "ozghub/adapter_sdk.hpp"

namespace {

using namespace ozghub::sdk;

constexpr const char* kNamespace = "urn:ozg-hub:example:xfall-container:1";

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    auto n = static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << 16 |
             static_cast<std::uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8 |
             static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[n >> 18 & 63];
    out += kAlphabet[n >> 12 & 63];
    out += kAlphabet[n >> 6 & 63];
    out += kAlphabet[n & 63];
  }
  if (i < in.size()) {
    std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << 16;
    if (i + 1 < in.size())
      n |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
    out += kAlphabet[n >> 18 & 63];
    out += kAlphabet[n >> 12 & 63];
    out += i + 1 < in.size() ? kAlphabet[n >> 6 & 63] : '=';
    out += '=';
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

// Escapes text for element content and attribute values. Characters XML 1.0 does not allow
// (control characters other than tab, LF, CR) become '?'.
std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\t':
        out += "&#9;";
        break;
      case '\n':
        out += "&#10;";
        break;
      case '\r':
        out += "&#13;";
        break;
      default:
        out += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
    }
  }
  return out;
}

std::string iso_utc(std::int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

bool safe_name(std::string_view s) {
  if (s.empty() || s == "." || s == "..") return false;
  for (char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

// The container document. Holds personal data: it goes only into the file.
std::string container(const Delivery& d) {
  std::string x;
  x.reserve(d.xml().size() * 4 / 3 + 2048);
  x += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x += "<xfall:container xmlns:xfall=\"";
  x += kNamespace;
  x += "\" version=\"1\">\n";
  auto element = [&x](const char* name, std::string_view value) {
    x += "  <xfall:";
    x += name;
    x += '>';
    x += escape(value);
    x += "</xfall:";
    x += name;
    x += ">\n";
  };
  element("caseNumber", d.case_number());
  element("messageId", d.message_id());
  element("sender", d.sender());
  element("serviceId", d.service_id());
  element("areaId", d.area_id());
  element("officeId", d.office_id());
  element("receivedAt", iso_utc(d.received_at_ms()));
  x += "  <xfall:application schema=\"" + escape(d.schema()) +
       "\" contentType=\"application/xml\"" + " size=\"" + std::to_string(d.xml().size()) +
       "\" sha256=\"" + sha256_hex(d.xml()) + "\" encoding=\"base64\">";
  x += base64(d.xml());
  x += "</xfall:application>\n";
  x += "  <xfall:attachments count=\"" + std::to_string(d.attachments().size()) + "\">\n";
  for (const Attachment& a : d.attachments()) {
    x += "    <xfall:attachment name=\"" + escape(a.name) + "\" contentType=\"" +
         escape(a.content_type) + "\" size=\"" + std::to_string(a.data.size()) + "\" sha256=\"" +
         sha256_hex(a.data) + "\" encoding=\"base64\">";
    x += base64(a.data);
    x += "</xfall:attachment>\n";
  }
  x += "  </xfall:attachments>\n";
  x += "</xfall:container>\n";
  return x;
}

struct OfficeFolder final : Channel {
  std::filesystem::path dir;  // <root>/<office_id>, exists after bind
};

// Writes `data` to `target` atomically. Returns 0 or an errno value.
int write_atomically(const std::filesystem::path& dir, const std::filesystem::path& target,
                     std::string_view data) {
  std::string tmp =
      (dir / ("." + target.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
              std::to_string(std::hash<std::thread::id>()(std::this_thread::get_id()))))
          .string();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return errno;
  int err = 0;
  for (std::size_t off = 0; off < data.size() && err == 0;) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      err = errno;
    else
      off += static_cast<std::size_t>(n);
  }
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err == 0 && ::rename(tmp.c_str(), target.c_str()) != 0) err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());
    return err;
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return errno;
  if (::fsync(dfd) != 0) err = errno;
  ::close(dfd);
  return err;
}

class XfallAdapter final : public Adapter {
 public:
  explicit XfallAdapter(Host host) : host_(host) {}

  Bound bind(const Office& office, const ParamSet& params) override {
    std::string_view root = params.get("root");
    if (root.empty()) return Bound::refuse("'root' is required");
    if (!safe_name(office.id)) return Bound::refuse("the office id is not usable as a folder name");
    auto folder = std::make_unique<OfficeFolder>();
    folder->dir = std::filesystem::path(std::string(root)) / std::string(office.id);
    std::error_code ec;
    std::filesystem::create_directories(folder->dir, ec);
    if (ec) return Bound::refuse("cannot create the office folder: " + ec.message());
    return Bound::ok(std::move(folder));
  }

  Result deliver(const Delivery& d, const Channel* channel) override {
    const auto* folder = static_cast<const OfficeFolder*>(channel);
    if (folder == nullptr) return Result::retry_later("channel not bound");
    if (!digits(d.case_number())) return Result::rejected("the case number is not numeric");
    std::string base(d.case_number());
    std::filesystem::path plain = folder->dir / (base + ".xml");
    std::filesystem::path encrypted = folder->dir / (base + ".xml.p7m");
    std::error_code ec;
    // Delivered before (a retry after a crash, a replayed dead letter): nothing to do.
    if (std::filesystem::exists(plain, ec) || std::filesystem::exists(encrypted, ec)) {
      return Result::delivered();
    }
    std::string doc = container(d);
    const std::filesystem::path* target = &plain;
    if (d.has_certificate()) {
      Encrypted e = d.encrypt_for_office(doc);
      if (!e.ok) return Result::retry_later("cannot encrypt the container: " + e.error);
      doc = std::move(e.data);
      target = &encrypted;
    }
    if (int err = write_atomically(folder->dir, *target, doc); err != 0) {
      std::string why = "cannot write the container: " + errno_text(err);
      host_.warn("xfall.write_failed", why);
      return Result::retry_later(why);
    }
    return Result::delivered();
  }

 private:
  Host host_;
};

struct XfallContainerType {
  static constexpr const char* kName = "xfall_container";
  static constexpr const char* kDescription =
      "one XFall-style XML container file per case: <root>/<office_id>/<case_number>.xml[.p7m]";
  static std::vector<Param> params() {
    return {{"root",
             Param::Kind::kPath,
             Param::Scope::kEither,
             true,
             "",
             {},
             0,
             0,
             "folder holding one subfolder per office"}};
  }
  static std::unique_ptr<Adapter> create(const ParamSet&, const Host& host, std::string&) {
    return std::make_unique<XfallAdapter>(host);
  }
};

}  // namespace

OZGHUB_ADAPTER("xfall_container", "1.0.0", XfallContainerType)
