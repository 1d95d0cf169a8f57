#include "isolation/exit_status.hpp"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>

namespace corral::isolation {

std::string_view to_string(termination_reason reason) noexcept {
  switch (reason) {
    case termination_reason::exited:
      return "exited";
    case termination_reason::signaled:
      return "signaled";
    case termination_reason::timeout:
      return "timeout";
    case termination_reason::cpu_limit:
      return "cpu_limit";
    case termination_reason::memory_limit:
      return "memory_limit";
    case termination_reason::cancelled:
      return "cancelled";
    case termination_reason::shutdown:
      return "shutdown";
  }
  return "unknown";
}

exit_status decode_wait_status(int status) noexcept {
  exit_status decoded;
  if (WIFEXITED(status)) {
    decoded.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    decoded.signal = WTERMSIG(status);
    decoded.core_dumped = WCOREDUMP(status);
  }
  return decoded;
}

std::string signal_name(int signal) {
#if defined(__GLIBC__) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  // sigabbrev_np returns names without the "SIG" prefix, and null for
  // numbers without a name, including the real-time signals.
  if (const char* abbreviation = ::sigabbrev_np(signal)) {
    return std::string("SIG") + abbreviation;
  }
#endif
  return "SIG" + std::to_string(signal);
}

termination_reason classify(const exit_status& status, const kill_cause& cause,
                            std::uint64_t cpu_limit_sec,
                            double cpu_sec) noexcept {
  if (cause.timed_out) {
    return termination_reason::timeout;
  }
  if (cause.cancelled) {
    return termination_reason::cancelled;
  }
  if (cause.shutdown) {
    return termination_reason::shutdown;
  }
  if (status.signal == SIGXCPU) {
    return termination_reason::cpu_limit;
  }
  // The kernel sends SIGKILL when CPU time reaches the hard limit, which
  // the launch sets one second above the soft limit, for a process that
  // survived or ignored SIGXCPU.
  if (status.signal == SIGKILL && cpu_limit_sec > 0 &&
      cpu_sec >= static_cast<double>(cpu_limit_sec + 1)) {
    return termination_reason::cpu_limit;
  }
  // memory_limit needs the session cgroup's OOM kill counter, which the
  // child-command actor reads; it turns `signaled` into memory_limit.
  if (status.signal != 0) {
    return termination_reason::signaled;
  }
  return termination_reason::exited;
}

}  // namespace corral::isolation
