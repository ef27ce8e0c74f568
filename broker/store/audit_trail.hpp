// The audit trail of a case: what happened to it, without personal data, kept after the case
// itself is deleted (retention.audit). One record per event, keyed
//   case_number 0x00 at_ms(u64 BE) kind(u8) channel(u16 BE)
// so a case's events are one prefix, in time order, and events written concurrently by two
// delivery lanes never overwrite each other. Each value is one JSON object:
//
//   committed          office, area_id, service_id, schema, sender (the portal), message_id,
//                      received_at, channels [{channel, adapter}], xml {sha256, bytes},
//                      attachments [{sha256, bytes, content_type}]   (never names or content)
//   delivered          channel, adapter, attempts
//   dead_lettered      channel, adapter, attempts, error (adapter errors hold no personal data)
//   replayed, purged   channel, adapter
//   deletion_scheduled due_at
//   key_destroyed      kek (the KEK id): the case is unreadable from here on
//   payload_deleted
//
// Every event has "event" and "at" (UTC, ISO 8601 with milliseconds).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/application.hpp"
#include "store/case_seal.hpp"

namespace ozghub::store {

struct ChannelRef;
struct OutboxEntry;

enum class AuditKind : std::uint8_t {
  kCommitted = 1,
  kDelivered,
  kDeadLettered,
  kReplayed,
  kPurged,
  kDeletionScheduled,
  kKeyDestroyed,
  kPayloadDeleted,
};

std::string audit_key(const std::string& case_number, std::int64_t at_ms, AuditKind kind,
                      std::uint16_t channel = 0);
// The prefix of every audit key of a case.
std::string audit_prefix(const std::string& case_number);

std::string audit_committed(const Case& c, const PreparedCase& p,
                            std::span<const ChannelRef> channels, std::int64_t at_ms);
std::string audit_channel(AuditKind kind, const OutboxEntry& e, std::int64_t at_ms);
std::string audit_deletion_scheduled(std::int64_t at_ms, std::int64_t due_ms);
std::string audit_key_destroyed(std::int64_t at_ms, const std::string& kek_id);
std::string audit_payload_deleted(std::int64_t at_ms);

// (sender, message_id) from a committed event, to delete the idempotency record with the trail.
bool audit_idempotency(std::string_view committed_event, std::string& sender,
                       std::string& message_id);

}  // namespace ozghub::store
