// Names the calling thread for `top -H`, `ps -L`, perf, gdb and /proc/PID/task/*/comm, so an
// operator sees which part of the hub uses the CPU or is stuck. Linux keeps 15 bytes of a name;
// longer names are cut there, byte by byte (so names should be ASCII).
//
// Never call it on the process's main thread: its name is the process name that `ps`, `pidof`
// and systemd show.
//
// Thread-safety: names only the calling thread; call it from any thread.
#pragma once

#include <string_view>

namespace ozghub {

void set_thread_name(std::string_view name);

}  // namespace ozghub
