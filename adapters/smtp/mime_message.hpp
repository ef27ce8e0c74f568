// Builds the mail the SMTP adapter sends for one case (DESIGN.md section 3): the bytes handed to
// the SMTP transport, separate from it so that they can be tested without a server.
//
// Two kinds of mail:
// - notification: a plain text mail (UTF-8, quoted-printable) telling the office that a case has
//   arrived: service (LeiKa key), case number, area (ARS), received time in UTC and where to find
//   it. It never carries personal data: no XML content, no attachment names, no sender fields.
// - smime: an RFC 8551 S/MIME message. The top-level entity is
//   `application/pkcs7-mime; smime-type=authEnveloped-data` whose body is the base64 of a DER CMS
//   AuthEnvelopedData (crypto::encrypt) of an inner multipart/mixed entity: the notification
//   text, `application.xml` and every attachment (base64, sanitised file names, RFC 2231 encoded
//   when not plain ASCII). The outer headers carry no personal data either.
//
// Every mail has From, To, Subject, Date, MIME-Version, a Message-ID that is stable for
// (case number, channel) so that a repeated delivery is recognisable, and X-OZG-Case-Number.
// Lines end in CRLF; none is longer than 998 octets (RFC 5322), and all stay within 78 but a
// From or To line with a very long configured address. The body parts are quoted-printable or
// base64 (7-bit, no 8BITMIME needed), and no line starts with "." (curl dot-stuffs anyway).
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/application.hpp"
#include "common/status.hpp"
#include "crypto/cms.hpp"
#include "routing/routing_directory.hpp"

namespace ozghub::adapters::smtp {

enum class MailMode { kNotification, kSmime };

// What a channel says about its mails; validated by the adapter's bind().
struct MailSettings {
  std::string from;       // envelope and header From, an addr-spec (local@domain)
  std::string from_name;  // display name of From; ASCII or UTF-8 (encoded as needed)
  std::string to;         // the office mailbox, an addr-spec
  MailMode mode = MailMode::kNotification;
  std::string subject_prefix;     // e.g. "[OZG]"; may be empty
  std::string pickup_hint;        // where the office finds the case (notification mode)
  std::string message_id_domain;  // right-hand side of the Message-ID
  std::string channel_tag;        // distinguishes the channels of one office, [a-z0-9]+
};

// "local@domain" in printable ASCII without spaces, quotes, brackets or other characters that
// would need quoting in a header or an SMTP command; at most 254 octets.
bool is_valid_addr_spec(std::string_view address);

// A host name for HELO or a Message-ID: letters, digits, '-' and '.', at most 253 octets.
bool is_valid_domain(std::string_view domain);

// A short text for a header or the body: UTF-8 without control characters (so no CR or LF).
bool is_safe_header_text(std::string_view text, std::size_t max_bytes);

// A tag for a channel: the first 12 hex digits of SHA-256 over the office id, the mailbox and
// the mode, so that it stays the same across routing reloads and restarts.
std::string channel_tag(std::string_view office_id, std::string_view to, MailMode mode);

// "<CASE_NUMBER.TAG.ozg-hub@DOMAIN>".
std::string message_id(std::string_view case_number, std::string_view channel_tag,
                       std::string_view domain);

// "Mon, 23 Nov 2026 11:53:34 +0000" (RFC 5322 section 3.3) for seconds since the epoch.
std::string rfc5322_date(std::int64_t unix_seconds);

// Base64 (RFC 2045) in lines of 76 characters, each ended by CRLF; "" for empty input.
std::string base64_lines(std::string_view data);

// Quoted-printable (RFC 2045 section 6.7) of a text whose lines end in LF or CRLF; output lines
// end in CRLF and are at most 76 characters. A "." or "F" (of "From ") at the start of a line is
// encoded as well, so the result survives any relay unchanged.
std::string quoted_printable(std::string_view text);

// An unstructured header value (Subject, a display name): itself when printable ASCII and short
// enough, else RFC 2047 "B" encoded-words of UTF-8 folded onto continuation lines.
// `name_length` is the length of "Name: " before it, for the first line's budget.
std::string encode_header_value(std::string_view value, std::size_t name_length);

// The Content-Type of an attachment as the sender gave it, if it is a plain "type/subtype" of
// RFC 2045 tokens (parameters are dropped), lower-cased; else "application/octet-stream".
std::string safe_content_type(std::string_view content_type);

// `; name="x"` or, when `value` is not plain printable ASCII, RFC 2231 `; name*0*=utf-8''...`
// continuations; each on its own folded line.
std::string mime_parameter(std::string_view name, std::string_view value);

// The notification text (UTF-8, lines ending in LF): no personal data.
std::string notification_text(const Case& c, const routing::Office& office,
                              const MailSettings& settings);

// The inner entity of an S/MIME mail: multipart/mixed with the notification text,
// application.xml and the attachments, CRLF line endings. Deterministic.
std::string smime_inner_entity(const Case& c, const routing::Office& office,
                               const MailSettings& settings);

// The whole mail, headers and body, as handed to SMTP DATA. In kSmime mode `recipient` must be
// given (the office's certificate); the inner entity is encrypted for it. Errors (encryption
// failed, smime without a recipient) contain no personal data.
Result<std::string> build_mail(const Case& c, const routing::Office& office,
                               const MailSettings& settings, const crypto::Recipient* recipient,
                               std::int64_t now_unix_seconds);

}  // namespace ozghub::adapters::smtp
