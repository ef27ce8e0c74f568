// Helpers shared by the unit tests.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "common/status.hpp"

#define ASSERT_OK(expr)                                                       \
  do {                                                                        \
    const auto& ozghub_status_ = (expr);                                      \
    ASSERT_TRUE(ozghub_status_.is_ok()) << ozghub_status_.status().message(); \
  } while (0)

namespace ozghub::testing {

// ../shared/corpus, as seen from the project root.
inline std::filesystem::path corpus_dir() { return OZGHUB_CORPUS_DIR; }
inline std::filesystem::path source_dir() { return OZGHUB_SOURCE_DIR; }

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_file(const std::filesystem::path& p, std::string_view data) {
  std::ofstream out(p, std::ios::binary);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

// A fresh directory per test, removed at the end.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("ozghub-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace ozghub::testing
