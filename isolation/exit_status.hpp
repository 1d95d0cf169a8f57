#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace corral::isolation {

/// Reason a command ended, from the point of view of its own process.
enum class termination_reason : std::uint8_t {
  exited,
  signaled,
  timeout,
  cpu_limit,
  memory_limit,
  cancelled,
  shutdown,
};

/// Returns the protocol name of `reason`, such as "cpu_limit".
std::string_view to_string(termination_reason reason) noexcept;

/// A decoded wait(2) status.
struct exit_status {
  std::optional<int> exit_code;  // set when the process called exit
  int signal = 0;                // set when a signal ended it
  bool core_dumped = false;
};

/// Decodes a raw status from wait4(2).
exit_status decode_wait_status(int status) noexcept;

/// Returns the conventional name of `signal` ("SIGKILL"), or "SIG<n>" for a
/// number without one, such as a real-time signal.
std::string signal_name(int signal);

/// Kills the daemon itself sent to the process, which tell its own kills
/// apart from limits and from signals sent by others.
struct kill_cause {
  bool timed_out = false;
  bool cancelled = false;
  bool shutdown = false;
};

/// Classifies how a command ended. The daemon's own kills win over the
/// signal they caused. SIGXCPU, or SIGKILL after CPU time reached the
/// RLIMIT_CPU hard limit, is `cpu_limit`, and any other signal is
/// `signaled`.
/// `cpu_limit_sec` is the soft limit in force (0 for none) and `cpu_sec`
/// the process's user plus system time. It never returns `memory_limit`,
/// which needs the session cgroup's OOM counter: the child-command actor
/// decides that one.
termination_reason classify(const exit_status& status, const kill_cause& cause,
                            std::uint64_t cpu_limit_sec,
                            double cpu_sec) noexcept;

}  // namespace corral::isolation
