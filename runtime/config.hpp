#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "isolation/limits.hpp"

namespace corral {

/// Every setting of the runtime, with its default. Each key of the JSON
/// configuration file and each command-line flag maps to one field: the key
/// is the field name (`max_sessions`), the flag the same with dashes
/// (`--max-sessions`). Units are part of the names.
struct config {
  // -- network ----------------------------------------------------------------
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 7411;  // 0 picks a free port
  std::string ready_file;            // written with HOST:PORT once listening
  std::uint64_t max_connections = 256;
  /// Maximum request line length in bytes. Zero derives it from `max_stdin_bytes`: six
  /// characters per byte (a JSON `\u00XX` escape) plus 64 KiB for the rest
  /// of the request, so any stdin within its cap fits in either encoding.
  std::uint64_t max_request_bytes = 0;
  /// Reply bytes queued for a client that does not read; past this the
  /// connection is closed instead of buffering more.
  std::uint64_t max_send_queue_bytes = 64ull << 20;
  /// Requests of one connection in flight at once; past this the daemon
  /// stops reading from it until some finish.
  std::uint64_t max_requests_in_flight = 128;
  /// A connection that has not sent a valid request (with authentication
  /// on, a successful `auth.login`) this long after it opened is closed.
  std::uint64_t login_timeout_ms = 10000;
  /// A connection that keeps an incomplete request line this long is
  /// closed, so slow senders cannot hold connections open for free.
  std::uint64_t max_partial_line_ms = 30000;

  // -- clients ----------------------------------------------------------------
  /// File of `name token` lines; empty turns authentication off, and each
  /// peer IP address is then a client of its own.
  std::string auth_tokens_file;
  /// Allows listening on an address other than loopback without tokens.
  bool allow_unauthenticated_remote = false;
  std::uint64_t max_sessions_per_client = 8;
  std::uint64_t rate_limit_per_sec = 100;  // requests per client; 0 is off
  std::uint64_t rate_limit_burst = 200;    // bucket size; 0 is off
  /// Seconds without a request after which a session with no running
  /// command is destroyed; `session.create` may ask for less.
  std::uint64_t max_idle_sec = 3600;

  // -- capacity ---------------------------------------------------------------
  std::uint64_t max_sessions = 64;
  std::uint64_t max_commands = 16;  // running at once, all sessions together

  // -- commands ---------------------------------------------------------------
  std::string shell = "/bin/sh";
  std::string default_cwd = "/tmp";
  std::string default_path = "/usr/local/bin:/usr/bin:/bin";
  std::uint64_t default_timeout_s = 60;
  std::uint64_t max_timeout_s = 3600;
  std::uint64_t kill_grace_ms = 2000;           // SIGTERM to SIGKILL on timeout
  std::uint64_t max_output_bytes = 4ull << 20;  // kept per stream
  std::uint64_t max_stdin_bytes = 1ull << 20;
  /// How long output is still read after the command exited; background
  /// processes holding the pipes cannot delay the result past this.
  std::uint64_t output_drain_ms = 200;

  // -- per-process limits (0 = leave the daemon's own limit) ------------------
  std::uint64_t limit_cpu_sec = 0;
  std::uint64_t limit_memory_bytes = 0;  // RLIMIT_AS
  std::uint64_t limit_nproc = 0;
  std::uint64_t limit_nofile = 4096;
  int oom_score_adj = 500;  // commands die before the daemon on host OOM
  std::string run_as;       // user name; empty runs commands as the daemon

  // -- per-session cgroups (0 = unlimited) ------------------------------------
  std::string cgroups = "auto";  // auto, v2, v1 or off
  /// Memory of one whole session. The default stops a memory hog long
  /// before it can take a host's memory, yet fits compilers and test runs.
  std::uint64_t cgroup_memory_bytes = 4ull << 30;
  std::uint64_t cgroup_cpu_percent = 100;  // one CPU per session
  std::uint64_t cgroup_pids_max = 512;     // stops fork bombs

  // -- lifecycle --------------------------------------------------------------
  std::uint64_t drain_timeout_s = 30;  // SIGTERM: wait for commands this long
  std::uint64_t sweep_interval_ms = 1000;
  /// How long an extension actor may take to reply to one request.
  std::uint64_t extension_timeout_ms = 30000;
  std::string log_level = "info";

  /// Returns the effective request line cap.
  std::uint64_t request_line_cap() const noexcept;
};

/// Returns the request line cap derived from a stdin cap: six characters per
/// byte (a JSON `\u00XX` escape) plus 64 KiB for the rest of the request.
/// Saturates instead of wrapping around; `validate` rejects such a cap.
inline std::uint64_t derived_request_cap(std::uint64_t max_stdin_bytes) {
  constexpr std::uint64_t escaped_bytes_per_byte = 6;
  constexpr std::uint64_t request_overhead_bytes = 64 * 1024;
  constexpr auto no_maximum = ~std::uint64_t{0};
  constexpr auto limit =
      (no_maximum - request_overhead_bytes) / escaped_bytes_per_byte;
  if (max_stdin_bytes > limit)
    return no_maximum;
  return escaped_bytes_per_byte * max_stdin_bytes + request_overhead_bytes;
}

// Inline, because the actors layer uses it and links below runtime/.
inline std::uint64_t config::request_line_cap() const noexcept {
  if (max_request_bytes != 0)
    return max_request_bytes;
  return derived_request_cap(max_stdin_bytes);
}

/// The outcome of reading configuration: the values, or every problem found,
/// each naming the key or flag and what it accepts.
struct config_result {
  config values;
  std::vector<std::string> errors;
  bool show_help = false;
  bool show_version = false;
  std::string help_text;
};

/// Builds the configuration from defaults, then the JSON file named by
/// `--config` (if any), then the other flags, and validates the result.
/// Never throws; all problems end up in `errors`.
config_result load_config(int argc, const char* const* argv);

/// Reads a JSON configuration text over `base`. Unknown keys, wrong types
/// and out-of-range values are errors.
std::vector<std::string> apply_config_json(const std::string& text,
                                           config& base);

/// Checks every value and cross-field rule (such as default_timeout_s not
/// above max_timeout_s). Returns one message per problem.
std::vector<std::string> validate(const config& values);

/// Returns true when `host` is a loopback address (127.0.0.0/8, ::1, an
/// IPv4-mapped 127.x address) or `localhost`. Other names count as remote,
/// because they are not resolved here.
bool is_loopback_host(const std::string& host);

/// Maps the `limit_*` fields to the per-process limits of a launch.
isolation::rlimit_values rlimits_of(const config& values);

}  // namespace corral
