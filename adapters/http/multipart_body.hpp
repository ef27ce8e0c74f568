// The body of an HTTP delivery that carries the attachments too: multipart/form-data (RFC 7578)
// with a part "application" (the application XML or its transformation, file name
// application.xml) followed by one part "attachment" per attachment, in order, each with its
// Content-Type and its sanitised, unique file name (TransferDirAdapter::unique_file_names), the
// bytes unencoded. The boundary is random and checked against every part.
//
// Pure functions apart from the random boundary; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/application.hpp"

namespace ozghub::adapters::http {

struct MultipartBody {
  std::string content_type;  // "multipart/form-data; boundary=..."
  std::string body;
};

MultipartBody form_data(std::string_view application, std::string_view application_type,
                        const std::vector<Attachment>& attachments);

// The file name as a quoted-string parameter value for form-data: `"` and `\` and control
// characters are percent-encoded, as HTML does (RFC 7578 section 4.2 forbids filename*).
std::string form_data_file_name(std::string_view name);

}  // namespace ozghub::adapters::http
