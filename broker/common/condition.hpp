// The rejection conditions of the external contract (DESIGN.md section 1).
//
// A `Rejection` travels back to the sender as an AMQP error condition plus a description a
// person can act on. The description may quote what the sender sent, so it goes to that sender
// only: logs and metrics carry the condition, never the description.
#pragma once

#include <string>
#include <string_view>
#include <variant>

namespace ozghub {

enum class Condition {
  kMissingProperty,
  kInvalidProperty,
  kNotWellFormed,
  kSchemaViolation,
  kUnknownSchema,
  kForbiddenConstruct,
  kTooLarge,
  kUnknownArea,
  kNoResponsibleOffice,
  kUnauthorized,  // the authenticated sender may not submit this service
  kInternalError,
};

// The AMQP condition symbol, e.g. "ozg:schema-violation".
constexpr std::string_view condition_symbol(Condition c) {
  switch (c) {
    case Condition::kMissingProperty:
      return "ozg:missing-property";
    case Condition::kInvalidProperty:
      return "ozg:invalid-property";
    case Condition::kNotWellFormed:
      return "ozg:not-well-formed";
    case Condition::kSchemaViolation:
      return "ozg:schema-violation";
    case Condition::kUnknownSchema:
      return "ozg:unknown-schema";
    case Condition::kForbiddenConstruct:
      return "ozg:forbidden-construct";
    case Condition::kTooLarge:
      return "ozg:too-large";
    case Condition::kUnknownArea:
      return "ozg:unknown-area";
    case Condition::kNoResponsibleOffice:
      return "ozg:no-responsible-office";
    case Condition::kUnauthorized:
      return "amqp:unauthorized-access";
    case Condition::kInternalError:
      return "amqp:internal-error";
  }
  return "amqp:internal-error";
}

// A bounded label value for metrics and logs, e.g. "schema_violation".
constexpr std::string_view condition_label(Condition c) {
  switch (c) {
    case Condition::kMissingProperty:
      return "missing_property";
    case Condition::kInvalidProperty:
      return "invalid_property";
    case Condition::kNotWellFormed:
      return "not_well_formed";
    case Condition::kSchemaViolation:
      return "schema_violation";
    case Condition::kUnknownSchema:
      return "unknown_schema";
    case Condition::kForbiddenConstruct:
      return "forbidden_construct";
    case Condition::kTooLarge:
      return "too_large";
    case Condition::kUnknownArea:
      return "unknown_area";
    case Condition::kNoResponsibleOffice:
      return "no_responsible_office";
    case Condition::kUnauthorized:
      return "unauthorized";
    case Condition::kInternalError:
      return "internal_error";
  }
  return "internal_error";
}

struct Rejection {
  Condition condition;
  std::string description;  // for the sender only; may quote the sender's data
};

// A data-path step that either yields a value or rejects the application.
template <typename T>
using OrRejection = std::variant<T, Rejection>;

}  // namespace ozghub
