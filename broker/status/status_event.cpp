#include "status/status_event.hpp"

#include <array>
#include <random>

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
  // Unique, not secret: a per-thread generator seeded from the OS (RAND_bytes per event cost
  // more than the rest of the event on the commit path).
  thread_local std::mt19937_64 gen([] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }());
  std::array<unsigned char, 16> b{};
  const std::uint64_t hi = gen();
  const std::uint64_t lo = gen();
  for (int i = 0; i < 8; ++i) {
    b[static_cast<std::size_t>(i)] = static_cast<unsigned char>(hi >> (8 * i));
    b[static_cast<std::size_t>(i + 8)] = static_cast<unsigned char>(lo >> (8 * i));
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // variant 10
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 0x0f];
  }
  return out;
}

}  // namespace ozghub::status
