// Shared by the fuzz targets: the entry point libFuzzer calls, and where the project's files are.
//
// Each target is one file defining LLVMFuzzerTestOneInput. It is built twice: with clang and
// -fsanitize=fuzzer (OZGHUB_FUZZ=ON, scripts/fuzz.sh) to search for inputs, and with the normal
// compiler and replay_main.cpp to run the saved inputs of fuzz/regressions/<target>/ in ctest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace ozghub::fuzz {

inline std::filesystem::path source_dir() { return OZGHUB_SOURCE_DIR; }

inline std::string as_string(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace ozghub::fuzz
