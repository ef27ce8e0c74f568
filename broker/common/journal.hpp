// systemd-journald's native protocol, written without libsystemd: one datagram per log line to
// journald's socket (/run/systemd/journal/socket, or $OZGHUB_JOURNAL_SOCKET for tests), each
// field "NAME=value\n", or for a value holding a line break "NAME\n", its length as 64-bit
// little endian, the value, "\n". A line too large for a datagram goes in a sealed memfd whose
// descriptor is passed instead (SCM_RIGHTS), as journald expects.
//
// The fields of a log line (log.hpp): MESSAGE ("event key=value ..."), PRIORITY (syslog: debug
// 7, info 6, warn 4, error 3), MESSAGE_ID (a stable 128-bit id per event: the first 16 bytes of
// SHA-256 of the event id, 32 hex digits, so `journalctl MESSAGE_ID=...` finds every line of one
// event across releases and hosts), OZGHUB_EVENT, SYSLOG_IDENTIFIER=ozg-hub, and each field of
// the line as OZGHUB_<KEY> (upper case; characters other than A-Z, 0-9 and _ become _).
//
// Thread-safety: every function may be called from any thread.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "common/log.hpp"

namespace ozghub::log::journal {

// 32 lowercase hex digits.
std::string message_id(std::string_view event);

// "OZGHUB_" + the key in journald's field name alphabet, at most 64 characters.
std::string field_name(std::string_view key);

// Appends one field in the protocol's encoding (binary-safe for values with line breaks).
void append_field(std::string& out, std::string_view name, std::string_view value);

// The datagram for one log line.
std::string encode(Level level, std::string_view event, std::initializer_list<Field> fields);

// Sends a datagram to journald; false when it could not be delivered (no journald, socket
// missing), so the caller can write the line elsewhere.
bool send(const std::string& datagram);
// The same to the socket at `socket_path` (tests).
bool send_to(const std::string& socket_path, const std::string& datagram);

// Whether stderr is connected to the journal: $JOURNAL_STREAM ("DEVICE:INODE", set by systemd
// for a service whose output goes to the journal) names stderr's device and inode.
bool stderr_is_journal();

}  // namespace ozghub::log::journal
