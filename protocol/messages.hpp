#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "protocol/error_code.hpp"

namespace corral::protocol {

/// Environment variables as name to value, kept sorted so that output and
/// tests are deterministic.
using environment = std::map<std::string, std::string>;

/// Limits a client may request for a session. Each value can only lower the
/// daemon's configured limit; unset means "use the configured one".
struct session_limits {
  std::optional<std::uint64_t> cpu_sec;       // RLIMIT_CPU per process
  std::optional<std::uint64_t> memory_bytes;  // RLIMIT_AS per process
  std::optional<std::uint64_t> nproc;         // RLIMIT_NPROC
  std::optional<std::uint64_t> nofile;        // RLIMIT_NOFILE
  std::optional<std::uint64_t> timeout_s;     // default command timeout
  std::optional<std::uint64_t> output_bytes;  // kept bytes per stream
  // Limits of the session's cgroup, for all its processes together.
  std::optional<std::uint64_t> cgroup_memory_bytes;
  std::optional<std::uint64_t> cpu_percent;  // of one CPU
  std::optional<std::uint64_t> pids_max;
};

/// Parameters of `session.create`.
struct session_options {
  std::optional<std::string> cwd;
  environment env;
  session_limits limits;
  /// Seconds without a request after which the session is destroyed; can
  /// only lower the configured `max_idle_sec`.
  std::optional<std::uint64_t> idle_s;
};

/// Encoding in which `exec.run` returns captured output.
enum class output_encoding : std::uint8_t { utf8, base64 };

/// Parameters of `exec.run`. Exactly one of `command` and `argv` is set;
/// the decoder guarantees it.
struct exec_request {
  std::string session;
  std::optional<std::string> command;  // run as `<shell> -c <command>`
  std::vector<std::string> argv;       // run directly, without a shell
  std::string stdin_data;              // decoded bytes, base64 already undone
  bool has_stdin = false;
  std::optional<std::uint64_t> timeout_s;
  environment env;  // overlays the session environment for this command
  std::optional<std::string> cwd;  // this command only; does not persist
  output_encoding encoding = output_encoding::utf8;
};

/// One captured output stream of a finished command, as raw bytes.
struct captured_output {
  std::string data;         // kept bytes, at most the configured cap
  std::uint64_t total = 0;  // bytes the command wrote, kept or not
  bool truncated = false;   // true when total > data.size()
};

/// Resource usage of the command's own process, from wait4(2).
struct resource_usage {
  double user_ms = 0;
  double system_ms = 0;
  std::uint64_t max_rss_kb = 0;
  std::uint64_t minor_faults = 0;
  std::uint64_t major_faults = 0;
  std::uint64_t voluntary_switches = 0;
  std::uint64_t involuntary_switches = 0;
};

/// Result of `exec.run`. `reason` is one of `exited`, `signaled`,
/// `timeout`, `cpu_limit`, `memory_limit`, `cancelled` or `shutdown`, and
/// describes the command's own process. `limits_hit` lists limits that a
/// descendant ran into while the command itself may have exited normally.
struct exec_result {
  std::optional<int> exit_code;       // unset when a signal ended the process
  std::optional<std::string> signal;  // such as "SIGKILL"
  std::string reason;
  std::vector<std::string> limits_hit;
  captured_output out;
  captured_output err;
  output_encoding encoding = output_encoding::utf8;
  double duration_ms = 0;
  int pid = 0;
  resource_usage usage;
};

/// Usage of a session's cgroup. All zero when cgroups are off.
struct session_usage {
  std::uint64_t memory_bytes = 0;
  std::uint64_t memory_peak_bytes = 0;
  double cpu_ms = 0;
  double throttled_ms = 0;
  std::uint64_t pids = 0;
  std::uint64_t oom_kills = 0;
  std::uint64_t pids_max_events = 0;  // forks rejected by pids_max
};

/// A session as reported by `session.create` and `session.list`.
struct session_info {
  std::string id;
  std::string cwd;
  bool busy = false;
  std::uint64_t commands_run = 0;
  double age_s = 0;
  double idle_s = 0;
  std::optional<session_usage> usage;  // set when the session has a cgroup
};

/// Counters of one client in `system.stats`.
struct client_stats {
  std::uint64_t sessions = 0;
  std::uint64_t commands_running = 0;
  std::map<std::string, std::uint64_t> rejections;  // by symbolic name
};

/// Counters reported by `system.stats`.
struct system_stats {
  std::string version;
  double uptime_s = 0;
  std::string isolation;  // which isolation is in force, e.g. "rlimits"
  std::uint64_t sessions = 0;
  std::uint64_t max_sessions = 0;
  std::uint64_t commands_running = 0;
  std::uint64_t max_commands = 0;
  std::uint64_t commands_started = 0;
  std::uint64_t commands_finished = 0;
  std::uint64_t connections = 0;
  std::uint64_t max_connections = 0;
  bool draining = false;
  std::map<std::string, std::uint64_t> rejections;  // by symbolic name
  std::map<std::string, std::uint64_t> reasons;     // finished, by reason
  std::map<std::string, client_stats> clients;      // by client identity
};

/// A failed request: the code, a message for people that names the value
/// and what to do next, and optional numeric details for programs (for
/// example `{"max_commands": 16}`).
struct rpc_error {
  error_code code = error_code::internal_error;
  std::string message;
  std::map<std::string, std::int64_t> details;
};

}  // namespace corral::protocol
