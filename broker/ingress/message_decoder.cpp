#include "ingress/message_decoder.hpp"

#include <proton/binary.hpp>
#include <proton/error.hpp>
#include <proton/map.hpp>
#include <proton/scalar.hpp>
#include <proton/types.hpp>
#include <proton/value.hpp>
#include <string>

#include "routing/area_directory.hpp"

namespace ozghub::ingress {
namespace {

Rejection reject(Condition c, std::string text) { return Rejection{c, std::move(text)}; }

bool all_digits(std::string_view s) {
  for (char ch : s) {
    if (ch < '0' || ch > '9') return false;
  }
  return !s.empty();
}

// Reads a string-valued application property. Returns false (and sets `error`) when the
// property is present with another type.
bool string_property(const proton::message& m, const std::string& name, std::string& out,
                     bool& present, Rejection& error) {
  present = false;
  const auto& props = m.properties();
  if (!props.exists(name)) return true;
  proton::scalar v = props.get(name);
  if (v.type() == proton::STRING) {
    out = proton::get<std::string>(v);
  } else if (v.type() == proton::SYMBOL) {
    out = proton::get<proton::symbol>(v);
  } else {
    error = reject(
        Condition::kInvalidProperty,
        "application property '" + name + "' must be a string, not " + proton::type_name(v.type()));
    return false;
  }
  present = true;
  return true;
}

std::string binary_or_string(const proton::value& v, bool& ok) {
  ok = true;
  if (v.type() == proton::BINARY) {
    const auto b = proton::get<proton::binary>(v);
    // One memcpy: a copy from the vector's iterators goes byte by byte (6 % of the CPU with
    // 1 MiB attachments).
    return b.empty() ? std::string()
                     : std::string(reinterpret_cast<const char*>(b.data()), b.size());
  }
  if (v.type() == proton::STRING) return proton::get<std::string>(v);
  ok = false;
  return {};
}

}  // namespace

namespace {

OrRejection<Application> decode(const proton::message& m, const DecodeLimits& limits,
                                std::string_view authenticated_sender,
                                std::int64_t received_at_ms) {
  Application app;
  app.received_at_ms = received_at_ms;

  // message_id: the sender's half of the idempotency key.
  proton::message_id id = m.id();
  switch (id.type()) {
    case proton::STRING:
      app.message_id = proton::get<std::string>(id);
      break;
    case proton::UUID:
      app.message_id = proton::get<proton::uuid>(id).str();
      break;
    case proton::NULL_TYPE:
      break;
    default:
      return reject(Condition::kInvalidProperty,
                    std::string("message_id must be a string or a UUID, not ") +
                        proton::type_name(id.type()));
  }
  if (app.message_id.empty()) {
    return reject(Condition::kMissingProperty,
                  "message_id is required: it identifies the application for redelivery");
  }

  Rejection error{Condition::kInvalidProperty, {}};
  bool present = false;
  if (!string_property(m, "area_id", app.area_id, present, error)) return error;
  if (!present) {
    return reject(Condition::kMissingProperty,
                  "application property 'area_id' is required: the Amtlicher Regionalschluessel "
                  "(ARS) of the place the application concerns, 2, 3, 5, 9 or 12 digits");
  }
  if (!routing::is_valid_ars_shape(app.area_id)) {
    return reject(
        Condition::kInvalidProperty,
        "area_id \"" + app.area_id + "\" is not an ARS: expected 2, 3, 5, 9 or 12 digits");
  }
  if (!string_property(m, "service_id", app.service_id, present, error)) return error;
  if (!present) {
    return reject(Condition::kMissingProperty,
                  "application property 'service_id' is required: the LeiKa key of the service, "
                  "14 digits");
  }
  if (!all_digits(app.service_id) || app.service_id.size() != 14) {
    return reject(Condition::kInvalidProperty,
                  "service_id \"" + app.service_id + "\" is not a LeiKa key: expected 14 digits");
  }
  if (!string_property(m, "schema", app.schema, present, error)) return error;
  std::string sender_property;
  if (!string_property(m, "sender", sender_property, present, error)) return error;
  app.sender = authenticated_sender.empty() ? sender_property : std::string(authenticated_sender);

  // Body: a data section (inferred binary) or a map.
  const proton::value& body = m.body();
  std::size_t total = 0;
  if (body.type() == proton::BINARY) {
    auto b = proton::get<proton::binary>(body);
    app.xml.assign(b.begin(), b.end());
  } else if (body.type() == proton::MAP) {
    std::map<std::string, proton::value> map;
    try {
      proton::get(body, map);
    } catch (const proton::conversion_error&) {
      return reject(Condition::kInvalidProperty, "the body map must have string keys");
    }
    for (const auto& [key, v] : map) {
      if (key != "xml" && key != "attachments") {
        return reject(Condition::kInvalidProperty,
                      "unknown key '" + key + "' in the body map (expected 'xml', 'attachments')");
      }
    }
    auto xml = map.find("xml");
    if (xml == map.end()) {
      return reject(Condition::kMissingProperty, "the body map has no 'xml' entry");
    }
    bool ok = false;
    app.xml = binary_or_string(xml->second, ok);
    if (!ok) return reject(Condition::kInvalidProperty, "body 'xml' must be binary (UTF-8 XML)");
    if (auto att = map.find("attachments"); att != map.end()) {
      std::vector<proton::value> list;
      try {
        proton::get(att->second, list);
      } catch (const proton::conversion_error&) {
        return reject(Condition::kInvalidProperty, "body 'attachments' must be a list of maps");
      }
      if (list.size() > limits.max_attachments) {
        return reject(Condition::kTooLarge, "too many attachments: " + std::to_string(list.size()) +
                                                " (limit " +
                                                std::to_string(limits.max_attachments) + ")");
      }
      for (std::size_t i = 0; i < list.size(); ++i) {
        std::map<std::string, proton::value> a;
        try {
          proton::get(list[i], a);
        } catch (const proton::conversion_error&) {
          return reject(Condition::kInvalidProperty,
                        "attachment " + std::to_string(i + 1) + " is not a map with string keys");
        }
        Attachment out;
        const char* field_names[] = {"name", "content_type", "data"};
        std::string* fields[] = {&out.name, &out.content_type, &out.data};
        for (int f = 0; f < 3; ++f) {
          auto it = a.find(field_names[f]);
          if (it == a.end()) {
            return reject(Condition::kMissingProperty, "attachment " + std::to_string(i + 1) +
                                                           " has no '" + field_names[f] + "'");
          }
          *fields[f] = binary_or_string(it->second, ok);
          if (!ok) {
            return reject(Condition::kInvalidProperty, "attachment " + std::to_string(i + 1) +
                                                           ": '" + field_names[f] +
                                                           "' must be a string or binary");
          }
        }
        if (a.size() != 3) {
          return reject(Condition::kInvalidProperty,
                        "attachment " + std::to_string(i + 1) +
                            " has unknown keys (expected name, content_type, data)");
        }
        if (out.name.empty()) {
          return reject(Condition::kInvalidProperty,
                        "attachment " + std::to_string(i + 1) + " has an empty name");
        }
        total += out.data.size();
        app.attachments.push_back(std::move(out));
      }
    }
  } else {
    return reject(Condition::kInvalidProperty,
                  std::string("the body must be a data section with the XML or a map {xml, "
                              "attachments}, not an AMQP value of type ") +
                      proton::type_name(body.type()));
  }
  if (app.xml.empty()) return reject(Condition::kMissingProperty, "the application XML is empty");
  if (app.xml.size() > limits.max_xml_bytes) {
    return reject(Condition::kTooLarge, "the application XML has " +
                                            std::to_string(app.xml.size()) + " bytes (limit " +
                                            std::to_string(limits.max_xml_bytes) + ")");
  }
  total += app.xml.size();
  if (total > limits.max_total_bytes) {
    return reject(Condition::kTooLarge, "the application has " + std::to_string(total) +
                                            " bytes with attachments (limit " +
                                            std::to_string(limits.max_total_bytes) + ")");
  }
  return app;
}

}  // namespace

OrRejection<Application> decode_application(const proton::message& m, const DecodeLimits& limits,
                                            std::string_view authenticated_sender,
                                            std::int64_t received_at_ms) {
  // Proton converts the application properties (and other sections) lazily and throws when a
  // sender put something there the contract does not allow, e.g. a list as a property value.
  // That is the sender's mistake, never a reason to take the hub down.
  try {
    return decode(m, limits, authenticated_sender, received_at_ms);
  } catch (const proton::error&) {
    return reject(Condition::kInvalidProperty,
                  "the message cannot be read as an application: application properties must map "
                  "string keys to simple values (string area_id, service_id, schema, sender)");
  }
}

}  // namespace ozghub::ingress
