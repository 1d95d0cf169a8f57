#pragma once

#include <caf/actor_system.hpp>
#include <memory>
#include <string>

#include "isolation/cgroup.hpp"

namespace corral::actors {

/// Kills every process in a session's cgroup and removes the group. This
/// runs on a detached actor of its own, because killing until the group is
/// empty and waiting for the kernel to release it may take a while, and no
/// event-based actor may block. `manager` is kept alive until the group is
/// gone, because the daemon's parent group can only be removed after its
/// children.
void remove_cgroup(caf::actor_system& system, std::string session_id,
                   std::shared_ptr<isolation::session_cgroup> group,
                   std::shared_ptr<isolation::cgroup_manager> manager);

}  // namespace corral::actors
