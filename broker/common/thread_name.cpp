#include "common/thread_name.hpp"

#include <pthread.h>

#include <string>

namespace ozghub {

void set_thread_name(std::string_view name) {
  constexpr std::size_t kMax = 15;  // TASK_COMM_LEN without the terminating NUL
  const std::string cut(name.substr(0, kMax));
  // Only fails for a name that is too long, which cannot happen here; a name is a convenience.
  static_cast<void>(pthread_setname_np(pthread_self(), cut.c_str()));
}

}  // namespace ozghub
