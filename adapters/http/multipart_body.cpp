#include "http/multipart_body.hpp"

#include <openssl/rand.h>

#include <cstdio>
#include <random>

#include "smtp/mime_message.hpp"
#include "transfer_dir/transfer_dir_adapter.hpp"

namespace ozghub::adapters::http {
namespace {

std::string random_boundary() {
  unsigned char bytes[18];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    // Not secret, only unlikely to collide; the parts are checked below anyway.
    std::random_device rd;
    for (auto& b : bytes) b = static_cast<unsigned char>(rd());
  }
  std::string b = "ozg-hub-";
  char hex[3];
  for (unsigned char c : bytes) {
    std::snprintf(hex, sizeof hex, "%02x", c);
    b += hex;
  }
  return b;
}

bool occurs_in_any(std::string_view needle, std::string_view application,
                   const std::vector<Attachment>& attachments) {
  if (application.find(needle) != std::string_view::npos) return true;
  for (const auto& a : attachments) {
    if (a.data.find(needle) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

std::string form_data_file_name(std::string_view name) {
  std::string out = "\"";
  char esc[4];
  for (unsigned char c : name) {
    if (c == '"' || c == '\\' || c < 0x20 || c == 0x7f) {
      std::snprintf(esc, sizeof esc, "%%%02X", c);
      out += esc;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

MultipartBody form_data(std::string_view application, std::string_view application_type,
                        const std::vector<Attachment>& attachments) {
  std::string boundary;
  do {
    boundary = random_boundary();
  } while (occurs_in_any("--" + boundary, application, attachments));

  std::size_t size = application.size() + 512;
  for (const auto& a : attachments) size += a.data.size() + 512;
  MultipartBody m;
  m.content_type = "multipart/form-data; boundary=" + boundary;
  m.body.reserve(size);
  const auto part = [&](std::string_view field, std::string_view file, std::string_view type,
                        std::string_view data) {
    m.body.append("--").append(boundary).append("\r\n");
    m.body.append("Content-Disposition: form-data; name=\"").append(field);
    m.body.append("\"; filename=").append(form_data_file_name(file)).append("\r\n");
    m.body.append("Content-Type: ").append(type).append("\r\n\r\n");
    m.body.append(data).append("\r\n");
  };
  part("application", "application.xml", application_type, application);
  const auto names = TransferDirAdapter::unique_file_names(attachments);
  for (std::size_t i = 0; i < attachments.size(); ++i) {
    part("attachment", names[i], smtp::safe_content_type(attachments[i].content_type),
         attachments[i].data);
  }
  m.body.append("--").append(boundary).append("--\r\n");
  return m;
}

}  // namespace ozghub::adapters::http
