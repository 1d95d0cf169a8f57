#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "isolation/limits.hpp"

namespace corral::isolation {

/// Everything needed to start one command. Prepared by the caller; the
/// launch copies what the child needs before fork.
struct launch_spec {
  std::string program;            // absolute path, or a name looked up in PATH
  std::vector<std::string> argv;  // argv[0] included
  std::vector<std::string> env;   // "NAME=value" entries, the whole environment
  std::string cwd;                // must exist; the launch fails otherwise
  std::optional<std::string> stdin_data;  // unset: stdin is /dev/null
  rlimit_values limits;
  std::optional<run_as_user> user;
  int oom_score_adj = 0;  // written to /proc/self/oom_score_adj; 0 = keep
  /// cgroup.procs files the child joins before any other setup step, one
  /// per cgroup hierarchy (session_cgroup::procs_paths). The launch fails
  /// when one cannot be opened or written, so the command never runs
  /// outside its groups.
  std::vector<std::string> cgroup_procs;
  /// Opens a pipe on descriptor `state_fd` in the child, for the shell
  /// wrapper to report its final directory and environment.
  bool capture_state = false;
  std::size_t max_output_bytes = 4u << 20;  // kept per stream
  std::size_t max_state_bytes = 1u << 20;
  /// How long to keep reading output after the process exited, for data
  /// still in the pipes. Background children that hold the pipes open do
  /// not delay the result past this.
  std::chrono::milliseconds drain_timeout{200};
};

/// Descriptor number of the state pipe in the child. Shells only address
/// descriptors 0 to 9 in redirections; 8 is rarely used by scripts.
constexpr int state_fd = 8;

/// A stream collected from the child.
struct collected_stream {
  std::string data;
  std::uint64_t total = 0;
  bool truncated = false;
};

/// The end of a process: raw wait status, usage and collected output.
struct process_outcome {
  pid_t pid = 0;
  int wait_status = 0;
  double user_ms = 0;
  double system_ms = 0;
  std::uint64_t max_rss_kb = 0;
  std::uint64_t minor_faults = 0;
  std::uint64_t major_faults = 0;
  std::uint64_t voluntary_switches = 0;
  std::uint64_t involuntary_switches = 0;
  collected_stream out;
  collected_stream err;
  collected_stream state;  // empty unless capture_state was set
  std::chrono::steady_clock::time_point started;
  std::chrono::steady_clock::time_point exited;
};

/// Why a launch failed: the step (such as "chdir /nope" or "execve
/// /bin/sh") and the errno it failed with.
struct launch_error {
  std::string step;
  int error_number = 0;

  /// Returns "<step>: <strerror>".
  std::string message() const;
};

/// Called once in the service thread when the process started or failed
/// to start. `pid` is the process id, which is also its process group id.
using started_handler =
    std::function<void(pid_t pid, std::optional<launch_error> error)>;

/// Called once in the service thread when a started process has exited and
/// its output is collected.
using finished_handler = std::function<void(process_outcome outcome)>;

/// Counters of the service, for stats.
struct process_service_stats {
  std::uint64_t running = 0;
  std::uint64_t started = 0;
  std::uint64_t spawn_failures = 0;
  std::uint64_t orphans_reaped = 0;
};

/// Starts commands and watches them on one dedicated thread running a
/// Boost.Asio event loop: child pipes, process exits (pidfd) and the
/// periodic reaping of orphans all happen there, so no caller ever blocks
/// on a child. It is the only code in the process that calls wait4(2):
/// a second reaper would steal exit statuses.
///
/// On construction the calling process becomes a child subreaper
/// (PR_SET_CHILD_SUBREAPER), so orphaned descendants of commands are
/// reparented to it and reaped here.
///
/// Thread-safe: `start` and `stats` may be called from any thread. Handlers
/// run on the service thread and must not block.
class process_service {
 public:
  process_service();

  /// Stops the thread. Processes still running are killed (SIGKILL to
  /// their process group) and reaped; their handlers are not called.
  ~process_service();

  process_service(const process_service&) = delete;
  process_service& operator=(const process_service&) = delete;

  /// Launches `spec` on the service thread, feeds stdin, collects output
  /// and reports through the two handlers. `finished` is called only if
  /// `started` reported success.
  void start(launch_spec spec, started_handler started,
             finished_handler finished);

  /// Returns the current counters.
  process_service_stats stats() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Sends `signal` to every process in process group `pgid`. Safe from any
/// thread. Returns false when no such group exists any more.
bool signal_process_group(pid_t pgid, int signal) noexcept;

}  // namespace corral::isolation
