#pragma once

// The supervisor's messages for programs that embed corral, as a CAF typed
// actor interface: requests through a `supervisor_actor` handle are checked
// by the compiler against these signatures, request and reply types alike.
// They act as the client `local`; see actors/supervisor.hpp for the errors
// of each message and for the forms that the TCP connections use.

#include <caf/typed_actor.hpp>
#include <string>
#include <vector>

#include "actors/atoms.hpp"
#include "actors/messages.hpp"
#include "protocol/messages.hpp"

namespace corral::actors {

/// Typed handle to the supervisor. Get one from
/// `corral::runtime::typed_supervisor()`.
using supervisor_actor = caf::typed_actor<
    caf::replies_to<create_atom,
                    protocol::session_options>::with<protocol::session_info>,
    caf::replies_to<run_atom,
                    protocol::exec_request>::with<protocol::exec_result>,
    caf::replies_to<cancel_atom, std::string>::with<std::string>,
    caf::replies_to<destroy_atom, std::string>::with<std::string>,
    caf::replies_to<list_atom>::with<std::vector<protocol::session_info>>,
    caf::replies_to<stats_atom>::with<protocol::system_stats>,
    caf::replies_to<register_atom, std::string, caf::actor>::with<void>,
    caf::replies_to<drain_atom>::with<void>>;

}  // namespace corral::actors
