// The application as the hub carries it from ingress to the adapters.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ozghub {

struct Attachment {
  std::string name;          // as the sender named it; adapters sanitise before using it as a path
  std::string content_type;  // e.g. application/pdf
  std::string data;          // raw bytes
};

// One submitted application. Contains personal data: never log any field but message_id,
// area_id, service_id and schema (which identify the request, not the person).
struct Application {
  std::string message_id;  // the sender's id; with `sender` the idempotency key
  std::string sender;      // the authenticated identity, else the `sender` property, else ""
  std::string area_id;     // ARS, 2/3/5/9/12 digits
  std::string service_id;  // LeiKa key, 14 digits
  std::string schema;      // target namespace the XML was validated against
  std::string xml;         // the application XML, UTF-8
  std::vector<Attachment> attachments;
  std::int64_t received_at_ms = 0;  // UTC, milliseconds since the epoch
};

// An application after commit: it has a case number and a responsible office.
struct Case {
  std::string case_number;  // 20 digits: YYYYMMDD + 12 digits
  std::string office_id;
  Application app;
};

}  // namespace ozghub
