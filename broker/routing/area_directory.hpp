// The set of known areas (Amtlicher Regionalschlüssel, ARS), loaded from the Destatis
// Gemeindeverzeichnis GV100AD.
//
// An ARS is 12 digits: Land (2), Regierungsbezirk (1), Kreis (2), Gemeindeverband (4),
// Gemeinde (3). The 9-, 5-, 3- and 2-digit prefixes address the levels above.
//
// Immutable after load; safe to share between threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"

namespace ozghub::routing {

namespace detail {

// Open addressing with linear probing from a non-zero 64-bit key to a 64-bit value, in one flat
// array: a lookup costs about one cache line and allocates nothing, where std::unordered_map
// costs a bucket and a node (and about 40 bytes more per entry). An implementation detail of
// AreaDirectory and RoutingDirectory, both on the lookup path.
class FlatIndex {
 public:
  FlatIndex() = default;
  FlatIndex(const FlatIndex& other);
  FlatIndex& operator=(const FlatIndex& other);
  FlatIndex(FlatIndex&& other) noexcept;
  FlatIndex& operator=(FlatIndex&& other) noexcept;
  ~FlatIndex();

  void reserve(std::size_t n);
  bool insert(std::uint64_t key, std::uint64_t value);  // false when `key` is present
  const std::uint64_t* find(std::uint64_t key) const;
  // Starts loading the slot `key` hashes to into the cache: a lookup that probes several keys
  // announces them all first, so that their cache misses overlap instead of adding up.
  void prefetch(std::uint64_t key) const;

 private:
  struct Slot {
    std::uint64_t key = 0;  // 0 = empty
    std::uint64_t value = 0;
  };
  // A large array (a national directory's is 256 MiB) lives in its own mapping with
  // transparent huge pages: in 4 KiB pages nearly every probe would also miss the TLB, which
  // costs more than the cache miss itself, above all in a virtual machine.
  static Slot* allocate(std::size_t n);
  static void release(Slot* slots, std::size_t n);
  std::uint64_t home(std::uint64_t key) const;

  Slot* slots_ = nullptr;
  std::size_t capacity_ = 0;
  std::uint64_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace detail

// True when `ars` has the shape of an ARS: only digits, and 2, 3, 5, 9 or 12 of them.
bool is_valid_ars_shape(std::string_view ars);

class AreaDirectory {
 public:
  // Parses a GV100AD file (fixed-width records of 220 characters, UTF-8). Records of type
  // 10 (Land), 20 (Regierungsbezirk), 40 (Kreis), 50 (Gemeindeverband) and 60 (Gemeinde) are
  // loaded; the Land's implicit 3-digit key (e.g. "150" for a Land without Regierungsbezirke)
  // is known too. Errors name the line.
  static Result<AreaDirectory> load_gv100ad(const std::string& path);

  // Adds one area by hand (tests, small sample directories), replacing the name of a known one.
  // An `ars` without the shape of an ARS is ignored: check is_valid_ars_shape() first.
  void add(std::string ars, std::string name);

  bool contains(std::string_view ars) const;
  // The area's name ("Möckern, Stadt"), or empty when unknown.
  std::string_view name(std::string_view ars) const;
  std::size_t size() const { return names_.size(); }

  // Calls `f(ars, name)` for every area, in the order they were added.
  void for_each(const std::function<void(std::string_view ars, std::string_view name)>& f) const;

 private:
  // The ARS as one integer, (value << 4) | digit count, so that "01" and "010" differ and a
  // lookup builds no string. 0 when `ars` is not an ARS shape.
  static std::uint64_t key_of(std::string_view ars);

  detail::FlatIndex index_;         // key_of(ARS) -> index into names_ and keys_
  std::vector<std::string> names_;  // in the order added
  std::vector<std::uint64_t> keys_;
};

}  // namespace ozghub::routing
