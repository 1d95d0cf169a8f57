#pragma once

#include <caf/actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <chrono>
#include <memory>
#include <optional>

#include "actors/messages.hpp"
#include "isolation/process_service.hpp"
#include "runtime/config.hpp"

namespace corral::actors {

/// Dependencies of a session actor besides its snapshot: the daemon's
/// settings, the process service and the user commands run as.
struct session_context {
  std::shared_ptr<const config> settings;
  std::shared_ptr<isolation::process_service> service;
  std::optional<isolation::run_as_user> user;
  /// Null when cgroups are off. Sessions hold it so that the daemon's parent
  /// group outlives the removal of their own.
  std::shared_ptr<isolation::cgroup_manager> cgroups;
};

/// State of a session actor.
struct session_state {
  static inline const char* name = "corral.session";

  session_snapshot snapshot;
  session_context context;
  caf::actor supervisor;
  caf::actor command;  // the running command, if any
  caf::typed_response_promise<protocol::exec_result> reply;  // its client
  protocol::exec_request request;  // of the running command
  bool destroying = false;
  std::chrono::steady_clock::time_point created;
  std::chrono::steady_clock::time_point last_active;
};

/// Owns one session: its working directory, exported environment, limits
/// and the process groups of its commands, and runs one command at a time
/// through a child-command actor.
///
/// Messages:
/// - `run_atom, exec_request` -> `exec_result`, or SESSION_BUSY while a
///   command runs, or SPAWN_FAILED.
/// - `cancel_atom` -> the session id, or COMMAND_NOT_FOUND.
/// - `destroy_atom`: cancels the running command, kills every process group
///   the session started, and quits once the command has replied.
/// - `shutdown_atom`: kills the running command with reason `shutdown`.
/// - `list_atom` -> `session_info`.
/// - `sweep_atom`: removes process groups that no longer exist from the
///   session's list.
///
/// After every command it sends `snapshot_atom, session_snapshot` to the
/// supervisor, which restarts a crashed session from the last snapshot.
caf::behavior session_actor(caf::stateful_actor<session_state>* self,
                            session_snapshot snapshot, session_context context,
                            caf::actor supervisor);

}  // namespace corral::actors
