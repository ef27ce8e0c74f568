#include "config_commands.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

namespace ozghub::ctl {
namespace {

using nlohmann::json;

std::string joined(const json& list) {
  std::string out;
  for (const auto& e : list) {
    out.append(out.empty() ? "" : ", ").append(e.is_string() ? e.get<std::string>() : e.dump());
  }
  return out.empty() ? "none" : out;
}

// The ozg-hub binary: beside this one (installed), in the build tree, or "ozg-hub" (PATH).
std::string daemon_binary() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (const auto& candidate :
         {self.parent_path() / "ozg-hub", self.parent_path() / ".." / "broker" / "ozg-hub"}) {
      if (::access(candidate.c_str(), X_OK) == 0) return candidate.lexically_normal().string();
    }
  }
  return "ozg-hub";
}

}  // namespace

int run_reload(const AdminClient& client, const std::vector<std::string>& args, std::FILE* out,
               std::FILE* err) {
  bool as_json = false;
  for (const auto& a : args) {
    if (a != "--json") {
      std::fprintf(err,
                   "ozg-hubctl reload: unexpected argument '%s'\nusage: ozg-hubctl reload "
                   "[--json]\n",
                   a.c_str());
      return 2;
    }
    as_json = true;
  }
  auto answer = client.request("POST", "/v1/reload");
  if (!answer) {
    std::fprintf(err, "ozg-hubctl: %s\n", answer.status().message().c_str());
    return answer.status().code() == Status::Code::kUnavailable ? 3 : 1;
  }
  const json body = json::parse(answer->body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    std::fprintf(err, "ozg-hubctl: the admin endpoint answered HTTP %d with no JSON\n",
                 answer->status);
    return 1;
  }
  if (as_json) std::fprintf(answer->status == 200 ? out : err, "%s\n", body.dump(2).c_str());
  if (answer->status != 200) {
    if (!as_json) {
      std::fprintf(err, "ozg-hubctl: %s\n", json_text(body, "error").c_str());
      if (auto e = body.find("errors"); e != body.end() && e->is_array()) {
        for (const auto& line : *e) std::fprintf(err, "  %s\n", line.get<std::string>().c_str());
      }
    }
    return 1;
  }
  if (as_json) return 0;
  const json routing = body.value("routing", json::object());
  std::fprintf(out,
               "reloaded: routing directory (%s offices, %s responsibilities), active KEK %s, "
               "log level %s\n",
               json_text(routing, "offices").c_str(),
               json_text(routing, "responsibilities").c_str(),
               json_text(body, "active_kek").c_str(), json_text(body, "log_level").c_str());
  std::fprintf(out, "changed: %s\n", joined(body.value("changed", json::array())).c_str());
  const json restart = body.value("restart_required", json::array());
  if (!restart.empty()) {
    std::fprintf(out, "restart required (changed, not applied): %s\n", joined(restart).c_str());
  }
  return 0;
}

int run_check_config(const std::vector<std::string>& args, std::FILE* err) {
  if (args.size() != 1 || args[0].empty() || args[0][0] == '-') {
    std::fprintf(err, "usage: ozg-hubctl check-config FILE\n");
    return 2;
  }
  const std::string binary = daemon_binary();
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    std::fprintf(err, "ozg-hubctl: cannot start %s\n", binary.c_str());
    return 1;
  }
  if (pid == 0) {
    const char* argv[] = {binary.c_str(), "--check-config", args[0].c_str(), nullptr};
    ::execvp(argv[0], const_cast<char* const*>(argv));
    std::fprintf(stderr, "ozg-hubctl: cannot run %s (is ozg-hub installed?)\n", binary.c_str());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

}  // namespace ozghub::ctl
