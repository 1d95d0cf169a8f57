#include "isolation/reaper.hpp"

#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace corral::isolation {

reap_state try_reap(pid_t pid, reaped_child& child) noexcept {
  for (;;) {
    pid_t result = ::wait4(pid, &child.wait_status, WNOHANG, &child.usage);
    if (result == pid) {
      child.pid = pid;
      return reap_state::reaped;
    }
    if (result == 0) {
      return reap_state::running;
    }
    if (errno != EINTR) {
      return reap_state::gone;
    }
  }
}

reap_state try_reap_any(reaped_child& child) noexcept {
  for (;;) {
    pid_t result = ::wait4(-1, &child.wait_status, WNOHANG, &child.usage);
    if (result > 0) {
      child.pid = result;
      return reap_state::reaped;
    }
    if (result == 0) {
      return reap_state::running;
    }
    if (errno != EINTR) {
      return reap_state::gone;
    }
  }
}

bool reap_blocking(pid_t pid) noexcept {
  for (;;) {
    int status = 0;
    if (::wait4(pid, &status, 0, nullptr) == pid) {
      return true;
    }
    if (errno != EINTR) {
      return false;
    }
  }
}

unique_fd open_pidfd(pid_t pid) noexcept {
  // glibc 2.36's <sys/pidfd.h> lacks extern "C", so C++ cannot link its
  // pidfd_open wrapper; the system call itself is the same.
  return unique_fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
}

}  // namespace corral::isolation
