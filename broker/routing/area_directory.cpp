#include "routing/area_directory.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace ozghub::routing {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool all_digits(std::string_view s) {
  for (char c : s) {
    if (!is_digit(c)) return false;
  }
  return true;
}

// Two digits of an already checked key as a number 0..99.
int two_digits(std::string_view s) { return (s[0] - '0') * 10 + (s[1] - '0'); }

constexpr std::size_t kNameColumn = 22;
constexpr std::size_t kNameWidth = 50;
// A file that is not GV100AD at all would otherwise produce one error per line.
constexpr std::size_t kMaxReportedErrors = 20;

// Byte length of the UTF-8 sequence starting with `lead`, or 0 if `lead` cannot start one.
std::size_t utf8_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return lead >= 0xC2 ? 2 : 0;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return lead <= 0xF4 ? 4 : 0;
  return 0;
}

// Advances `pos` in `line` by up to `n` code points. Returns false on invalid UTF-8, which is
// how a Latin-1 file shows itself (its umlauts are single bytes >= 0x80).
bool advance_code_points(std::string_view line, std::size_t& pos, std::size_t n) {
  for (std::size_t i = 0; i < n && pos < line.size(); ++i) {
    std::size_t len = utf8_length(static_cast<unsigned char>(line[pos]));
    if (len == 0 || pos + len > line.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(line[pos + k]) & 0xC0) != 0x80) return false;
    }
    pos += len;
  }
  return true;
}

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

struct Gv100Parser {
  std::string path;
  std::vector<std::string> errors;
  std::size_t error_count = 0;

  void error(std::size_t line_no, const std::string& what) {
    ++error_count;
    if (errors.size() < kMaxReportedErrors) {
      errors.push_back(path + ":" + std::to_string(line_no) + ": " + what);
    }
  }
};

std::uint64_t mix(std::uint64_t k) {  // MurmurHash3's finaliser
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

}  // namespace

namespace detail {

namespace {
constexpr std::size_t kHugePage = std::size_t{2} << 20;
}  // namespace

FlatIndex::Slot* FlatIndex::allocate(std::size_t n) {
  const std::size_t bytes = n * sizeof(Slot);
  if (bytes < kHugePage) return new Slot[n]();
  // Map one huge page more than needed and trim, so that the array starts on a huge page.
  void* raw = ::mmap(nullptr, bytes + kHugePage, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  auto* base = static_cast<char*>(raw);
  const std::size_t head =
      (kHugePage - reinterpret_cast<std::uintptr_t>(base) % kHugePage) % kHugePage;
  if (head > 0) ::munmap(base, head);
  ::munmap(base + head + bytes, kHugePage - head);
  // Advice only: without transparent huge pages the index works, just slower.
  (void)::madvise(base + head, bytes, MADV_HUGEPAGE);
  return reinterpret_cast<Slot*>(base + head);  // anonymous memory is zero: all slots empty
}

void FlatIndex::release(Slot* slots, std::size_t n) {
  if (slots == nullptr) return;
  if (n * sizeof(Slot) < kHugePage) {
    delete[] slots;
  } else {
    ::munmap(slots, n * sizeof(Slot));
  }
}

FlatIndex::FlatIndex(const FlatIndex& other)
    : slots_(other.capacity_ > 0 ? allocate(other.capacity_) : nullptr),
      capacity_(other.capacity_),
      mask_(other.mask_),
      size_(other.size_) {
  if (capacity_ > 0) std::memcpy(slots_, other.slots_, capacity_ * sizeof(Slot));
}

FlatIndex& FlatIndex::operator=(const FlatIndex& other) {
  if (this != &other) *this = FlatIndex(other);
  return *this;
}

FlatIndex::FlatIndex(FlatIndex&& other) noexcept
    : slots_(std::exchange(other.slots_, nullptr)),
      capacity_(std::exchange(other.capacity_, 0)),
      mask_(std::exchange(other.mask_, 0)),
      size_(std::exchange(other.size_, 0)) {}

FlatIndex& FlatIndex::operator=(FlatIndex&& other) noexcept {
  if (this != &other) {
    release(slots_, capacity_);
    slots_ = std::exchange(other.slots_, nullptr);
    capacity_ = std::exchange(other.capacity_, 0);
    mask_ = std::exchange(other.mask_, 0);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

FlatIndex::~FlatIndex() { release(slots_, capacity_); }

std::uint64_t FlatIndex::home(std::uint64_t key) const { return mix(key) & mask_; }

void FlatIndex::reserve(std::size_t n) {
  // At most 3/4 full: probe sequences stay short, and ten million rules fit in 2^24 slots.
  std::size_t capacity = 16;
  while (capacity * 3 / 4 < n) capacity *= 2;
  if (capacity <= capacity_) return;
  Slot* old = std::exchange(slots_, allocate(capacity));
  const std::size_t old_capacity = std::exchange(capacity_, capacity);
  mask_ = capacity - 1;
  for (std::size_t k = 0; k < old_capacity; ++k) {
    const Slot& s = old[k];
    if (s.key == 0) continue;
    std::size_t i = home(s.key);
    while (slots_[i].key != 0) i = (i + 1) & mask_;
    slots_[i] = s;
  }
  release(old, old_capacity);
}

bool FlatIndex::insert(std::uint64_t key, std::uint64_t value) {
  if (size_ + 1 > capacity_ * 3 / 4) reserve((size_ + 1) * 2);
  std::size_t i = home(key);
  while (slots_[i].key != 0) {
    if (slots_[i].key == key) return false;
    i = (i + 1) & mask_;
  }
  slots_[i] = Slot{key, value};
  ++size_;
  return true;
}

void FlatIndex::prefetch(std::uint64_t key) const {
  if (capacity_ > 0) __builtin_prefetch(&slots_[home(key)]);
}

const std::uint64_t* FlatIndex::find(std::uint64_t key) const {
  if (capacity_ == 0) return nullptr;
  for (std::size_t i = home(key);; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (s.key == key) return &s.value;
    if (s.key == 0) return nullptr;
  }
}

}  // namespace detail

bool is_valid_ars_shape(std::string_view ars) {
  switch (ars.size()) {
    case 2:
    case 3:
    case 5:
    case 9:
    case 12:
      return all_digits(ars);
    default:
      return false;
  }
}

std::uint64_t AreaDirectory::key_of(std::string_view ars) {
  if (!is_valid_ars_shape(ars)) return 0;
  std::uint64_t value = 0;
  for (char c : ars) value = value * 10 + static_cast<std::uint64_t>(c - '0');
  return (value << 4) | ars.size();
}

void AreaDirectory::add(std::string ars, std::string name) {
  const std::uint64_t key = key_of(ars);
  if (key == 0) return;
  if (const std::uint64_t* i = index_.find(key)) {
    names_[*i] = std::move(name);
    return;
  }
  (void)index_.insert(key, names_.size());
  names_.push_back(std::move(name));
  keys_.push_back(key);
}

bool AreaDirectory::contains(std::string_view ars) const {
  const std::uint64_t key = key_of(ars);
  return key != 0 && index_.find(key) != nullptr;
}

std::string_view AreaDirectory::name(std::string_view ars) const {
  const std::uint64_t key = key_of(ars);
  if (key == 0) return {};
  const std::uint64_t* i = index_.find(key);
  return i == nullptr ? std::string_view() : std::string_view(names_[*i]);
}

void AreaDirectory::for_each(
    const std::function<void(std::string_view ars, std::string_view name)>& f) const {
  std::array<char, 12> buf{};
  for (std::size_t n = 0; n < keys_.size(); ++n) {
    const std::uint64_t key = keys_[n];
    std::size_t len = key & 0xF;
    std::uint64_t value = key >> 4;
    for (std::size_t i = len; i-- > 0;) {
      buf[i] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
    f(std::string_view(buf.data(), len), names_[n]);
  }
}

Result<AreaDirectory> AreaDirectory::load_gv100ad(const std::string& path) {
  // One read and string_views over it: the whole file (about 3.5 MB) parses in a few ms.
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) return Status::io_error(path + ": cannot open the GV100AD file");
  std::string data;
  char chunk[1 << 16];
  for (std::size_t n; (n = std::fread(chunk, 1, sizeof chunk, file.get())) > 0;) {
    data.append(chunk, n);
  }
  if (std::ferror(file.get())) return Status::io_error(path + ": cannot read the GV100AD file");

  AreaDirectory dir;
  const std::size_t expected = data.size() / 200 + 16;  // records are 220 characters
  dir.index_.reserve(expected);
  dir.names_.reserve(expected);
  dir.keys_.reserve(expected);
  Gv100Parser p{path, {}, 0};
  // Which Länder have Regierungsbezirke (Satzart 20); the others get the implicit key "LL0".
  std::array<bool, 100> land_has_rb{};
  std::vector<std::pair<std::string, std::string>> lands;

  std::string_view rest(data);
  for (std::size_t line_no = 1; !rest.empty(); ++line_no) {
    std::size_t nl = rest.find('\n');
    std::string_view line = trim_right(rest.substr(0, nl));
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    if (line.empty()) continue;

    if (line.size() < 10 || !all_digits(line.substr(0, 10))) {
      p.error(line_no, "expected a record type (2 digits) and a date (8 digits) in columns 1-10");
      continue;
    }
    std::string_view satzart = line.substr(0, 2);
    std::size_t key_end = 0;  // the key's last column + 1
    if (satzart == "10") {
      key_end = 12;
    } else if (satzart == "20") {
      key_end = 13;
    } else if (satzart == "30") {
      continue;  // Region: not part of the ARS hierarchy
    } else if (satzart == "40") {
      key_end = 15;
    } else if (satzart == "50" || satzart == "60") {
      key_end = 22;
    } else {
      p.error(line_no, "unknown record type (Satzart) '" + std::string(satzart) +
                           "', expected 10, 20, 30, 40, 50 or 60");
      continue;
    }
    // Columns 0-9 are ASCII digits, so byte and character positions agree up to the key's end
    // as long as the key's own columns are digits too.
    if (line.size() < key_end) {
      p.error(line_no, "record of type " + std::string(satzart) +
                           " is too short: " + std::to_string(line.size()) +
                           " characters, the key needs " + std::to_string(key_end));
      continue;
    }
    std::string ars;
    if (satzart == "50") {
      // Columns 15-17 (Gemeinde) are blank in a Gemeindeverband record.
      ars.append(line.substr(10, 5)).append(line.substr(18, 4));
    } else if (satzart == "60") {
      // The record holds Gemeinde (15-17) before Gemeindeverband (18-21); the ARS the other way.
      ars.append(line.substr(10, 5)).append(line.substr(18, 4)).append(line.substr(15, 3));
    } else {
      ars.assign(line.substr(10, key_end - 10));
    }
    if (!all_digits(ars)) {
      p.error(line_no, "the key of a record of type " + std::string(satzart) +
                           " must be digits, got '" + std::string(line.substr(10, key_end - 10)) +
                           "'");
      continue;
    }

    // The name starts at character 22; earlier columns may in theory hold non-ASCII blanks.
    std::size_t begin = 0;
    if (!advance_code_points(line, begin, kNameColumn)) {
      p.error(line_no, "not valid UTF-8 (a Latin-1 file needs converting, e.g. iconv -f latin1)");
      continue;
    }
    std::size_t end = begin;
    if (!advance_code_points(line, end, kNameWidth)) {
      p.error(line_no, "not valid UTF-8 (a Latin-1 file needs converting, e.g. iconv -f latin1)");
      continue;
    }
    std::string_view name = trim_right(line.substr(begin, end - begin));
    if (name.empty()) {
      p.error(line_no, "record " + ars + " has no name (columns 23-72)");
      continue;
    }

    if (satzart == "10") lands.emplace_back(ars, name);
    if (satzart == "20") land_has_rb[static_cast<std::size_t>(two_digits(ars))] = true;
    dir.add(std::move(ars), std::string(name));
  }

  if (p.error_count > 0) {
    std::string msg = std::to_string(p.error_count) + " error(s) in the GV100AD file:";
    for (const auto& e : p.errors) msg += "\n  " + e;
    if (p.error_count > p.errors.size()) {
      msg += "\n  ... and " + std::to_string(p.error_count - p.errors.size()) + " more";
    }
    return Status::invalid_argument(msg);
  }
  if (dir.names_.empty()) return Status::invalid_argument(path + ": no areas in the GV100AD file");

  for (auto& [land, name] : lands) {
    if (!land_has_rb[static_cast<std::size_t>(two_digits(land))]) {
      dir.add(land + "0", std::move(name));
    }
  }
  return dir;
}

}  // namespace ozghub::routing
