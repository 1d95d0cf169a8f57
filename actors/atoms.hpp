#pragma once

#include <caf/atom.hpp>

// Message tags of corral's actors. CAF 0.17 atoms hold at most 10
// characters.

namespace corral::actors {

using create_atom = caf::atom_constant<caf::atom("create")>;
using destroy_atom = caf::atom_constant<caf::atom("destroy")>;
using list_atom = caf::atom_constant<caf::atom("list")>;
using run_atom = caf::atom_constant<caf::atom("run")>;
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;
using stats_atom = caf::atom_constant<caf::atom("stats")>;
using drain_atom = caf::atom_constant<caf::atom("drain")>;
using shutdown_atom = caf::atom_constant<caf::atom("shutdown")>;
using started_atom = caf::atom_constant<caf::atom("started")>;
using finished_atom = caf::atom_constant<caf::atom("finished")>;
using timeout_atom = caf::atom_constant<caf::atom("timeout")>;
using escalate_atom = caf::atom_constant<caf::atom("escalate")>;
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;
using snapshot_atom = caf::atom_constant<caf::atom("snapshot")>;
using conns_atom = caf::atom_constant<caf::atom("conns")>;
using close_atom = caf::atom_constant<caf::atom("close")>;
using hangup_atom = caf::atom_constant<caf::atom("hangup")>;
using call_atom = caf::atom_constant<caf::atom("call")>;
using register_atom = caf::atom_constant<caf::atom("register")>;
using listen_atom = caf::atom_constant<caf::atom("listen")>;
using login_timeout_atom = caf::atom_constant<caf::atom("login_tmo")>;
using partial_line_atom = caf::atom_constant<caf::atom("partial")>;

}  // namespace corral::actors
