// Turns an AMQP message into an Application, or a rejection the sender can act on.
//
// The message format is DESIGN.md section 1: message_id (string or UUID), application properties
// area_id, service_id, optional schema and sender; the body is either a data section with the
// XML or an AMQP map {xml: binary, attachments: [{name, content_type, data}]}.
//
// Pure function of its inputs; safe to call on any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <proton/message.hpp>
#include <string_view>

#include "common/application.hpp"
#include "common/condition.hpp"

namespace ozghub::ingress {

struct DecodeLimits {
  std::size_t max_xml_bytes = 16u << 20;
  std::size_t max_attachments = 100;
  std::size_t max_total_bytes = 64u << 20;  // XML plus all attachments
};

// `authenticated_sender` is the connection's authenticated identity, or empty; it wins over the
// `sender` property. The application's schema field holds the `schema` property (may be empty).
OrRejection<Application> decode_application(const proton::message& message,
                                            const DecodeLimits& limits,
                                            std::string_view authenticated_sender,
                                            std::int64_t received_at_ms);

}  // namespace ozghub::ingress
