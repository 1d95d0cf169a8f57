#pragma once

#include <sys/types.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/client.hpp"

namespace corral::testing {

/// Returns the value of environment variable `name`, which ctest sets to
/// the path of a built program, or fails the test when it is missing.
std::string program_path(const char* name);

/// A real corrald started for one test on 127.0.0.1 with an ephemeral
/// port, its log kept in a temporary directory. The destructor sends
/// SIGTERM and waits for the exit, then SIGKILL if it hangs.
class daemon_process {
 public:
  explicit daemon_process(std::vector<std::string> extra_args = {});
  ~daemon_process();

  daemon_process(const daemon_process&) = delete;
  daemon_process& operator=(const daemon_process&) = delete;

  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }

  /// Returns a new client connection.
  corral::client connect() const;

  /// Sends SIGTERM and waits up to `limit` for the exit. Returns the wait
  /// status, or nothing when the daemon still ran after `limit`.
  std::optional<int> terminate(std::chrono::seconds limit);

  /// Sends `signal` to the daemon.
  void send_signal(int signal) const;

  /// Returns everything the daemon wrote to stderr so far.
  std::string log() const;

  /// Returns true while the daemon process exists and was not reaped.
  bool running();

 private:
  std::string directory_;
  pid_t pid_ = 0;
  std::uint16_t port_ = 0;
  bool reaped_ = false;
};

/// Creates a session and returns its id, failing the test on error.
std::string create_session(corral::client& client,
                           boost::json::object params = {});

/// Runs `command` in `session` and returns the whole reply object.
boost::json::object run(corral::client& client, const std::string& session,
                        const std::string& command,
                        boost::json::object extra = {});

/// Returns the `result` object of a reply, failing the test if it is an
/// error.
boost::json::object result_of(const boost::json::value& reply);

/// Returns `error.data.error` of a reply, or "" when it is no error.
std::string error_name(const boost::json::value& reply);

/// Returns the pids of processes whose real user id is `uid`.
std::vector<pid_t> processes_of_user(uid_t uid);

/// Returns true when a process with this pid exists and is not a zombie.
bool process_alive(pid_t pid);

/// Returns the number of zombie children of `parent`.
int zombie_children(pid_t parent);

/// Returns the number of descendants of `ancestor` (children, their
/// children and so on), read from /proc.
int descendants(pid_t ancestor);

}  // namespace corral::testing
