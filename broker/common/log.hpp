// Structured logging: one JSON object per line on stderr, or journald fields (journal.hpp) when
// the format says so.
//
// Every line has a stable `event` id so operators can alert and search on it. Fields must never
// carry personal data: case numbers, office ids, conditions and counts are fine; names, addresses,
// XML content and rejection descriptions are not. Thread-safe.
#pragma once

#include <initializer_list>
#include <string_view>
#include <utility>

namespace ozghub::log {

enum class Level { kDebug, kInfo, kWarn, kError };

using Field = std::pair<std::string_view, std::string_view>;

enum class Format {
  kJson,     // one JSON object per line on stderr
  kJournal,  // journald's native protocol (journal.hpp); a line it cannot take goes to stderr
};

// The configuration's log_format: "json", "journal", or "auto" (journal when stderr is the
// journal's stream, as under systemd; json otherwise). Anything else is json.
Format format_named(std::string_view name);

void set_format(Format format);
void set_min_level(Level level);
bool enabled(Level level);
void write(Level level, std::string_view event, std::initializer_list<Field> fields = {});

inline void info(std::string_view event, std::initializer_list<Field> f = {}) {
  write(Level::kInfo, event, f);
}
inline void warn(std::string_view event, std::initializer_list<Field> f = {}) {
  write(Level::kWarn, event, f);
}
inline void error(std::string_view event, std::initializer_list<Field> f = {}) {
  write(Level::kError, event, f);
}
inline void debug(std::string_view event, std::initializer_list<Field> f = {}) {
  write(Level::kDebug, event, f);
}

}  // namespace ozghub::log
