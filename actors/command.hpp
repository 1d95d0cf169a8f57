#pragma once

#include <caf/actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "isolation/cgroup.hpp"
#include "isolation/exit_status.hpp"
#include "isolation/process_service.hpp"
#include "protocol/messages.hpp"

namespace corral::actors {

/// Everything a child-command actor needs to run one command.
struct command_plan {
  std::string session_id;  // for logs
  isolation::launch_spec spec;
  bool shell_wrapped = false;  // `spec` runs the shell wrapper
  std::chrono::seconds timeout{60};
  std::chrono::milliseconds kill_grace{2000};
  protocol::output_encoding encoding = protocol::output_encoding::utf8;
  /// The session's cgroup, whose counters tell which of its limits the
  /// command hit; null when cgroups are off.
  std::shared_ptr<isolation::session_cgroup> cgroup;
};

/// State of a child-command actor.
struct command_state {
  static inline const char* name = "corral.command";

  command_plan plan;
  std::shared_ptr<isolation::process_service> service;
  caf::actor session;  // gets the pid, to kill the group if this actor fails
  caf::response_promise promise;
  pid_t pid = 0;  // also the process group id; 0 until started
  bool finished = false;
  isolation::kill_cause cause;
  isolation::cgroup_usage usage_before;  // of the session's cgroup
};

/// Runs one command, from launch to reply. It owns the process: it enforces
/// the timeout (SIGTERM to the process group, SIGKILL after the grace
/// period), handles cancel and shutdown, and turns the process's end into a
/// `command_outcome`.
///
/// Messages:
/// - `run_atom` -> `command_outcome`, or a SPAWN_FAILED error. Sent once,
///   by the session; the actor quits after replying.
/// - `cancel_atom`: ends the command with reason `cancelled`.
/// - `shutdown_atom`: kills the command at once with reason `shutdown`.
/// - Sends `started_atom, pid` to `session` once the process runs.
caf::behavior command_actor(caf::stateful_actor<command_state>* self,
                            command_plan plan,
                            std::shared_ptr<isolation::process_service> service,
                            caf::actor session);

}  // namespace corral::actors
