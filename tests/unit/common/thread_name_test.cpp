#include "common/thread_name.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>

#include "test_support.hpp"

namespace ozghub {
namespace {

// What `top -H` and `ps -L` show for the calling thread.
std::string own_comm() {
  std::ifstream f("/proc/self/task/" + std::to_string(::syscall(SYS_gettid)) + "/comm");
  std::string name;
  std::getline(f, name);
  return name;
}

std::string name_in_new_thread(const std::string& name) {
  std::string seen;
  std::thread([&] {
    set_thread_name(name);
    seen = own_comm();
  }).join();
  return seen;
}

TEST(ThreadName, NamesTheCallingThread) { EXPECT_EQ(name_in_new_thread("committer"), "committer"); }

TEST(ThreadName, CutsLongNamesToWhatLinuxKeeps) {
  // A delivery lane of an adapter instance with a long name: the kernel keeps 15 bytes.
  EXPECT_EQ(name_in_new_thread("dlv-fachverfahren-autista"), "dlv-fachverfahr");
}

TEST(ThreadName, LeavesOtherThreadsAlone) {
  const std::string before = own_comm();
  name_in_new_thread("intake-0");
  EXPECT_EQ(own_comm(), before);
}

}  // namespace
}  // namespace ozghub
