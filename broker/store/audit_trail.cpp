#include "store/audit_trail.hpp"

#include <nlohmann/json.hpp>

#include "common/text.hpp"
#include "store/store.hpp"

namespace ozghub::store {
namespace {

using nlohmann::json;

json event(const char* name, std::int64_t at_ms) {
  return json{{"event", name}, {"at", text::iso8601_utc_ms(at_ms)}};
}

const char* kind_name(AuditKind kind) {
  switch (kind) {
    case AuditKind::kCommitted:
      return "committed";
    case AuditKind::kDelivered:
      return "delivered";
    case AuditKind::kDeadLettered:
      return "dead_lettered";
    case AuditKind::kReplayed:
      return "replayed";
    case AuditKind::kPurged:
      return "purged";
    case AuditKind::kDeletionScheduled:
      return "deletion_scheduled";
    case AuditKind::kKeyDestroyed:
      return "key_destroyed";
    case AuditKind::kPayloadDeleted:
      return "payload_deleted";
  }
  return "unknown";
}

void put_be(std::string& k, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) k.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace

std::string audit_prefix(const std::string& case_number) {
  std::string k = case_number;
  k.push_back('\0');
  return k;
}

std::string audit_key(const std::string& case_number, std::int64_t at_ms, AuditKind kind,
                      std::uint16_t channel) {
  std::string k = audit_prefix(case_number);
  put_be(k, static_cast<std::uint64_t>(at_ms), 8);
  k.push_back(static_cast<char>(kind));
  put_be(k, channel, 2);
  return k;
}

std::string audit_committed(const Case& c, const PreparedCase& p,
                            std::span<const ChannelRef> channels, std::int64_t at_ms) {
  json j = event(kind_name(AuditKind::kCommitted), at_ms);
  j["office"] = c.office_id;
  j["area_id"] = c.app.area_id;
  j["service_id"] = c.app.service_id;
  j["schema"] = c.app.schema;
  j["sender"] = c.app.sender;
  j["message_id"] = c.app.message_id;
  j["received_at"] = text::iso8601_utc_ms(c.app.received_at_ms);
  json chans = json::array();
  for (std::size_t i = 0; i < channels.size(); ++i) {
    chans.push_back({{"channel", i}, {"adapter", channels[i].adapter}});
  }
  j["channels"] = std::move(chans);
  j["xml"] = {{"sha256", p.xml_sha256}, {"bytes", c.app.xml.size()}};
  json atts = json::array();
  for (std::size_t i = 0; i < c.app.attachments.size(); ++i) {
    const auto& a = c.app.attachments[i];
    atts.push_back({{"sha256", i < p.attachment_sha256.size() ? p.attachment_sha256[i] : ""},
                    {"bytes", a.data.size()},
                    {"content_type", a.content_type}});
  }
  j["attachments"] = std::move(atts);
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string audit_channel(AuditKind kind, const OutboxEntry& e, std::int64_t at_ms) {
  json j = event(kind_name(kind), at_ms);
  j["channel"] = e.channel;
  j["adapter"] = e.adapter;
  if (kind == AuditKind::kDelivered || kind == AuditKind::kDeadLettered) {
    j["attempts"] = e.attempts;
  }
  if (kind == AuditKind::kDeadLettered) j["error"] = e.last_error;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string audit_deletion_scheduled(std::int64_t at_ms, std::int64_t due_ms) {
  json j = event(kind_name(AuditKind::kDeletionScheduled), at_ms);
  j["due_at"] = text::iso8601_utc_ms(due_ms);
  return j.dump();
}

std::string audit_key_destroyed(std::int64_t at_ms, const std::string& kek_id) {
  json j = event(kind_name(AuditKind::kKeyDestroyed), at_ms);
  j["kek"] = kek_id;
  return j.dump();
}

std::string audit_payload_deleted(std::int64_t at_ms) {
  return event(kind_name(AuditKind::kPayloadDeleted), at_ms).dump();
}

bool audit_idempotency(std::string_view committed_event, std::string& sender,
                       std::string& message_id) {
  json j = json::parse(committed_event, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("message_id")) return false;
  sender = j.value("sender", "");
  message_id = j.value("message_id", "");
  return true;
}

}  // namespace ozghub::store
