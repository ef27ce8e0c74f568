#include "routing/responsibility_file.hpp"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

namespace ozghub::routing {
namespace {

constexpr std::size_t kChunk = std::size_t{1} << 20;
// A rule line is about 50 bytes; a longer one is not a rule, and must not grow the buffer
// without bound.
constexpr std::size_t kMaxLine = 4096;

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// Splits `line` at runs of blanks into at most 4 columns (a 4th means too many).
std::size_t split(std::string_view line, std::array<std::string_view, 4>& cols) {
  std::size_t n = 0;
  std::size_t i = 0;
  while (n < cols.size()) {
    while (i < line.size() && is_blank(line[i])) ++i;
    if (i == line.size()) break;
    const std::size_t start = i;
    while (i < line.size() && !is_blank(line[i])) ++i;
    cols[n++] = line.substr(start, i - start);
  }
  return n;
}

}  // namespace

Status read_responsibility_file(const std::string& path,
                                const std::function<void(const RuleLine&)>& on_rule,
                                const std::function<void(int, const std::string&)>& on_error) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) {
    return Status::io_error("cannot open " + path + ": " + std::strerror(errno));
  }
  std::vector<char> buf(kChunk + kMaxLine);
  std::size_t kept = 0;  // bytes of an unfinished line at the front of buf
  int line_no = 0;
  bool skipping = false;  // inside an over-long line, reported already

  auto handle = [&](std::string_view line) {
    if (line_no == std::numeric_limits<int>::max()) return false;
    ++line_no;
    if (line.size() > kMaxLine) {
      on_error(line_no, "line longer than " + std::to_string(kMaxLine) + " bytes");
      return true;
    }
    std::array<std::string_view, 4> cols;
    const std::size_t n = split(line, cols);
    if (n == 0 || cols[0].front() == '#') return true;
    if (n != 3) {
      on_error(line_no, "expected 3 columns (service, area, office), got " +
                            (n > 3 ? std::string("more") : std::to_string(n)));
      return true;
    }
    on_rule(RuleLine{cols[0], cols[1], cols[2], line_no});
    return true;
  };

  for (;;) {
    const std::size_t got = std::fread(buf.data() + kept, 1, kChunk, file.get());
    if (got == 0) break;
    std::string_view data(buf.data(), kept + got);
    std::size_t begin = 0;
    for (;;) {
      const void* nl = std::memchr(data.data() + begin, '\n', data.size() - begin);
      if (nl == nullptr) break;
      const std::size_t end = static_cast<const char*>(nl) - data.data();
      if (skipping) {
        skipping = false;  // the rest of the over-long line
      } else if (!handle(data.substr(begin, end - begin))) {
        return Status::invalid_argument(path + ": too many lines");
      }
      begin = end + 1;
    }
    kept = data.size() - begin;
    if (kept > kMaxLine || skipping) {
      if (!skipping) {
        ++line_no;
        on_error(line_no, "line longer than " + std::to_string(kMaxLine) + " bytes");
      }
      skipping = true;
      kept = 0;
    } else {
      std::memmove(buf.data(), data.data() + begin, kept);
    }
  }
  if (std::ferror(file.get())) return Status::io_error("cannot read " + path);
  if (kept > 0 && !skipping && !handle(std::string_view(buf.data(), kept))) {
    return Status::invalid_argument(path + ": too many lines");
  }
  return Status::ok();
}

}  // namespace ozghub::routing
