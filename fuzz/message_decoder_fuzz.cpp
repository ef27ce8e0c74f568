// Bytes off the wire -> Proton's AMQP message decoding -> our decoder (broker/ingress), with the
// limits of the default configuration, as the intake's workers run it.
#include <proton/error.hpp>
#include <proton/message.hpp>
#include <vector>

#include "config/config.hpp"
#include "fuzz_support.hpp"
#include "ingress/message_decoder.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const ozghub::ingress::DecodeLimits limits = [] {
    const ozghub::config::Limits defaults;
    ozghub::ingress::DecodeLimits l;
    l.max_xml_bytes = defaults.max_xml_bytes;
    l.max_attachments = defaults.max_attachments;
    l.max_total_bytes = defaults.max_message_bytes;
    return l;
  }();
  proton::message message;
  try {
    message.decode(std::vector<char>(data, data + size));
  } catch (const proton::error&) {
    return 0;  // Proton refuses it before the hub sees it
  }
  auto decoded = ozghub::ingress::decode_application(message, limits, "", 0);
  (void)decoded;
  return 0;
}
