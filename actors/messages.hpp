#pragma once

#include <sys/types.h>

#include <caf/allowed_unsafe_message_type.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/shell_wrapper.hpp"
#include "isolation/cgroup.hpp"
#include "isolation/process_service.hpp"
#include "protocol/messages.hpp"

namespace corral::actors {

/// Identity of the client behind a request to the supervisor: the name
/// from the token file when authentication is on, else the peer's IP
/// address, and `local` for programs that embed corral. Sessions belong to the identity that created
/// them.
struct client_identity {
  std::string name;
};

/// Outcome a child-command actor returns to its session: the result for
/// the client, plus the state the shell wrapper reported, which the session
/// applies to itself.
struct command_outcome {
  protocol::exec_result result;
  pid_t pgid = 0;
  /// The shell wrapper's report. Unset when the command ran without a
  /// shell or the wrapper did not get to write a complete report (a signal
  /// killed the shell, `exec` replaced it, or the report exceeded its cap).
  std::optional<shell_state> shell;
};

/// The part of a session's state that survives a restart of its actor.
struct session_snapshot {
  std::string id;
  std::string cwd;
  protocol::environment env;
  protocol::session_limits limits;
  std::vector<pid_t> pgids;  // groups of earlier commands, maybe still alive
  /// The session's cgroup; null when cgroups are off. Shared, so that a
  /// restarted session actor keeps its group.
  std::shared_ptr<isolation::session_cgroup> cgroup;
  std::uint64_t commands_run = 0;
};

}  // namespace corral::actors

// These types only travel between actors of one process, never over CAF's
// network layer, so they need no serialization.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(corral::actors::client_identity)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(corral::protocol::session_options)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(corral::protocol::exec_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(corral::protocol::exec_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(corral::protocol::session_info)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<corral::protocol::session_info>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(corral::protocol::system_stats)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(corral::isolation::process_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(corral::isolation::launch_error)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(corral::actors::command_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(corral::actors::session_snapshot)
