#include "actors/cgroup_removal.hpp"

#include <caf/blocking_actor.hpp>

#include "runtime/log.hpp"

namespace corral::actors {

void remove_cgroup(caf::actor_system& system, std::string session_id,
                   std::shared_ptr<isolation::session_cgroup> group,
                   std::shared_ptr<isolation::cgroup_manager> manager) {
  system.spawn<caf::detached>(
      [id = std::move(session_id), group = std::move(group),
       manager = std::move(manager)](caf::blocking_actor*) {
        if (auto error = group->remove())
          log::warn("cgroup of session not removed session={} error=\"{}\"", id,
                    error->message());
        else
          log::debug("cgroup removed session={}", id);
      });
}

}  // namespace corral::actors
