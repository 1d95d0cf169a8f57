#pragma once

// The only calls to wait4(2) in corral. A second caller would steal exit
// statuses from the process service, so nothing else reaps children:
// not Boost's child::wait, not waitpid, not a SIGCHLD handler.

#include <sys/resource.h>
#include <sys/types.h>

#include "isolation/unique_fd.hpp"

namespace corral::isolation {

/// A reaped child: its pid, raw wait status and resource usage.
struct reaped_child {
  pid_t pid = 0;
  int wait_status = 0;
  struct rusage usage {};
};

/// Result of a non-blocking reap.
enum class reap_state {
  reaped,   // a child had exited and is now reaped
  running,  // the child, or every child, is still running
  gone,     // no such child: already reaped, never ours, or no children
};

/// Reaps `pid` if it has exited, without blocking.
reap_state try_reap(pid_t pid, reaped_child& child) noexcept;

/// Reaps one exited child, any of them, without blocking.
reap_state try_reap_any(reaped_child& child) noexcept;

/// Waits for `pid` to exit and reaps it. Use only when the child is known
/// to exit soon, such as after SIGKILL. Returns false when `pid` is not a
/// child of this process.
bool reap_blocking(pid_t pid) noexcept;

/// Opens a pidfd for `pid`, which becomes readable when the process exits.
/// Returns an empty descriptor and leaves errno set on failure.
unique_fd open_pidfd(pid_t pid) noexcept;

}  // namespace corral::isolation
