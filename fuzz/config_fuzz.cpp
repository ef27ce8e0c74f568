// YAML text -> the daemon's configuration parser (broker/config), as the daemon loads a file.
#include "config/config.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string base_dir = (ozghub::fuzz::source_dir() / "config").string();
  auto config = ozghub::config::parse(ozghub::fuzz::as_string(data, size), "fuzz.yaml", base_dir);
  (void)config;
  return 0;
}
