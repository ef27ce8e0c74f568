#include "status/status_event.hpp"

#include <openssl/rand.h>

#include <array>
#include <cstdio>

#include "common/text.hpp"

namespace ozghub::status {

const char* type_name(EventType type) {
  switch (type) {
    case EventType::kAccepted:
      return "accepted";
    case EventType::kDelivered:
      return "delivered";
    case EventType::kFailed:
      return "failed";
    case EventType::kDeadLettered:
      return "dead_lettered";
    case EventType::kDeleted:
      return "deleted";
  }
  return "unknown";
}

namespace {

void field(std::string& out, std::string_view name, std::string_view value) {
  out += ",\"";
  out += name;
  out += "\":";
  text::append_json_string(out, value);
}

void number(std::string& out, std::string_view name, std::int64_t value) {
  out += ",\"";
  out += name;
  out += "\":";
  out += std::to_string(value);
}

}  // namespace

std::string to_json(const StatusEvent& e) {
  std::string out;
  out.reserve(256);
  out += "{\"event_id\":";
  text::append_json_string(out, e.event_id);
  number(out, "seq", static_cast<std::int64_t>(e.seq));
  field(out, "type", type_name(e.type));
  field(out, "sender", e.sender);
  field(out, "case_number", e.case_number);
  field(out, "time", text::iso8601_utc_ms(e.at_ms));
  if (e.type == EventType::kAccepted) {
    field(out, "office_id", e.office_id);
    field(out, "message_id", e.message_id);
  }
  if (e.channel) {
    number(out, "channel", *e.channel);
    field(out, "adapter", e.adapter);
    number(out, "attempts", e.attempts);
  }
  if (e.type == EventType::kFailed) field(out, "retry_at", text::iso8601_utc_ms(e.retry_at_ms));
  out += '}';
  return out;
}

std::string new_event_id() {
  std::array<unsigned char, 16> b{};
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) {
    // The id only has to be unique; the sequence number orders. Never fail an event for it.
    static thread_local std::uint64_t counter = 0;
    const std::uint64_t c = ++counter;
    for (int i = 0; i < 8; ++i)
      b[static_cast<std::size_t>(i)] ^= static_cast<unsigned char>(c >> (8 * i));
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

}  // namespace ozghub::status
