// A status event: what the hub reports to a sender (portal) about one of its cases, beyond the
// receipt at commit. The body is one JSON object without personal data (identifiers only):
//
//   {"event_id": "<UUID v4>", "seq": 17, "type": "delivered", "sender": "portal-a",
//    "case_number": "20261203000000000042", "time": "2026-12-03T07:00:00.123Z", ...}
//
//   accepted       + "office_id", "message_id" (the sender's own id, to correlate)
//   delivered      + "channel" (index of the office's channel), "adapter", "attempts"
//   failed         + "channel", "adapter", "attempts", "retry_at": an attempt failed, retried
//   dead_lettered  + "channel", "adapter", "attempts": no more attempts; an operator decides
//   deleted        the case's payload was deleted after its retention
//
// `seq` numbers one sender's events 1, 2, 3, ... in the order the hub wrote them (a number is
// skipped only when its write failed); the hub sends them in that order. The body is stored as
// written and is the payload of the JWS the hub signs when it sends the event (jws_signer.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ozghub::status {

enum class EventType : std::uint8_t {
  kAccepted = 0,
  kDelivered,
  kFailed,
  kDeadLettered,
  kDeleted,
};
inline constexpr std::size_t kEventTypes = 5;

// "accepted", "delivered", "failed", "dead_lettered", "deleted".
const char* type_name(EventType type);

struct StatusEvent {
  EventType type = EventType::kAccepted;
  std::string event_id;  // UUID v4, made by new_event_id()
  std::uint64_t seq = 0;
  std::string sender;
  std::string case_number;
  std::int64_t at_ms = 0;
  std::string office_id;   // accepted
  std::string message_id;  // accepted
  std::optional<std::uint16_t> channel;
  std::string adapter;
  std::int32_t attempts = 0;
  std::int64_t retry_at_ms = 0;  // failed
};

// The JSON body (keys in a fixed order, no whitespace).
std::string to_json(const StatusEvent& e);

// A random UUID v4 (RFC 9562), lower case.
std::string new_event_id();

}  // namespace ozghub::status
