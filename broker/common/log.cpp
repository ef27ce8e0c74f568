#include "common/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

#include "common/journal.hpp"
#include "common/text.hpp"

namespace ozghub::log {
namespace {

std::atomic<Level> g_min_level{Level::kInfo};
std::atomic<Format> g_format{Format::kJson};
std::mutex g_mutex;

std::string_view level_name(Level l) {
  switch (l) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

}  // namespace

Format format_named(std::string_view name) {
  if (name == "journal") return Format::kJournal;
  if (name == "auto" && journal::stderr_is_journal()) return Format::kJournal;
  return Format::kJson;
}

void set_format(Format format) { g_format.store(format); }

void set_min_level(Level level) { g_min_level.store(level); }

bool enabled(Level level) { return level >= g_min_level.load(std::memory_order_relaxed); }

void write(Level level, std::string_view event, std::initializer_list<Field> fields) {
  if (level < g_min_level.load(std::memory_order_relaxed)) return;
  if (g_format.load(std::memory_order_relaxed) == Format::kJournal &&
      journal::send(journal::encode(level, event, fields))) {
    return;
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  std::string line;
  line.reserve(128);
  line += "{\"ts\":\"";
  line += text::iso8601_utc_ms(ms);
  line += "\",\"level\":\"";
  line += level_name(level);
  line += "\",\"event\":";
  text::append_json_string(line, event);
  for (const auto& [k, v] : fields) {
    line.push_back(',');
    text::append_json_string(line, k);
    line.push_back(':');
    text::append_json_string(line, v);
  }
  line += "}\n";
  std::lock_guard lock(g_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace ozghub::log
