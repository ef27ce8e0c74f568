// YAML text -> the routing-directory parser (broker/routing), then one lookup in what loaded.
//
// Relative paths resolve against a scratch folder laid out like the project so that
// config/routing.demo.yaml loads unchanged: its GV100AD path leads to an excerpt of the corpus's
// file (Sachsen-Anhalt's and Bavaria's records the demo names; the whole file is 3.5 MB and would
// make every run slow) and demo-certs/ to the project's certificates.
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "fuzz_support.hpp"
#include "routing/routing_directory.hpp"

namespace {

namespace fs = std::filesystem;

bool in_excerpt(const std::string& line) {
  if (line.size() < 12) return false;
  const std::string satzart = line.substr(0, 2);
  const std::string key = line.substr(10);
  return key.starts_with("15086") || key.starts_with("09162") ||
         (satzart == "10" && (key.starts_with("15") || key.starts_with("09"))) ||
         (satzart == "20" && key.starts_with("091"));
}

fs::path scratch() {
  static const fs::path base = [] {
    const fs::path root =
        fs::temp_directory_path() / ("ozghub-fuzz-routing-" + std::to_string(::getpid()));
    fs::create_directories(root / "shared" / "corpus" / "areas");
    fs::create_directories(root / "hub" / "config");
    std::ifstream in(ozghub::fuzz::source_dir() / ".." / "shared" / "corpus" / "areas" /
                     "GV100AD_301123.txt");
    std::ofstream out(root / "shared" / "corpus" / "areas" / "GV100AD_301123.txt");
    for (std::string line; std::getline(in, line);) {
      if (in_excerpt(line)) out << line << '\n';
    }
    fs::create_symlink(ozghub::fuzz::source_dir() / "config" / "demo-certs",
                       root / "hub" / "config" / "demo-certs");
    // A bulk responsibilities file an input can name (`responsibilities_file: rules.tsv`).
    std::ofstream(root / "hub" / "config" / "rules.tsv")
        << "# service area office\n99108047050001\t15086\tjerichower-land-fahrerlaubnis\n"
           "*  150860140140  moeckern-buergeramt\n";
    static const fs::path remove_at_exit = root;
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(remove_at_exit, ec);
    });
    return root / "hub" / "config";
  }();
  return base;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string base_dir = scratch().string();
  auto directory = ozghub::routing::RoutingDirectory::parse(ozghub::fuzz::as_string(data, size),
                                                            "fuzz.yaml", base_dir);
  if (directory) {
    auto match = (*directory)->lookup("150860140140", "99085001000000");
    if (const auto* m = std::get_if<ozghub::routing::RouteMatch>(&match)) {
      (void)(*directory)->responsibility(m->rule);
    }
  }
  return 0;
}
