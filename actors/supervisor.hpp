#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <memory>
#include <optional>

#include "actors/client_table.hpp"
#include "isolation/cgroup.hpp"
#include "isolation/process_service.hpp"
#include "runtime/config.hpp"

namespace corral::actors {

/// Spawns the supervisor: the one actor that admits or rejects sessions and
/// commands against capacity, owns the session actors and drives the drain.
///
/// Messages (errors are `caf::error`s made by `actors::make_error`). Each
/// session message comes in two forms: with a `client_identity` after the
/// atom, as connections send them, and without, which acts as the client
/// `local` (for programs that embed corral). A session belongs to the
/// client that created it; for any other client it does not exist.
/// - `create_atom, [client_identity,] session_options` -> `session_info`;
///   CLIENT_SESSION_LIMIT, SESSION_LIMIT, SHUTTING_DOWN, INVALID_PARAMS (a
///   `cwd` that is not a directory).
/// - `run_atom, [client_identity,] exec_request` -> `exec_result`;
///   SESSION_NOT_FOUND, COMMAND_LIMIT, SESSION_BUSY, SPAWN_FAILED,
///   SHUTTING_DOWN.
/// - `cancel_atom, [client_identity,] id` and `destroy_atom,
///   [client_identity,] id` -> the id; SESSION_NOT_FOUND, and
///   COMMAND_NOT_FOUND for a cancel with nothing running.
/// - `list_atom [, client_identity]` -> that client's `session_info`s.
/// - `stats_atom` -> `system_stats`.
/// - `conns_atom, uint64_t`: the current number of client connections.
/// - `drain_atom` -> `unit` once every running command has ended: stops
///   admitting, waits up to `drain_timeout_s`, then kills the rest with
///   reason `shutdown` and destroys every session. A second `drain_atom`
///   kills at once.
///
/// - `register_atom, name, actor` -> `unit`: routes methods `name.*` to
///   `actor`; INVALID_PARAMS for a built-in or malformed name.
/// - `call_atom, method, params, client` -> the result as JSON text: calls
///   an extension method (see `extension.hpp`); METHOD_NOT_FOUND when no
///   extension has its namespace, SHUTTING_DOWN while draining, and
///   INTERNAL_ERROR when the extension fails or misses
///   `extension_timeout_ms`.
///
/// With `cgroups` (null when they are off), each session gets its own
/// cgroup with the configured limits, lowered by what it asked for.
///
/// A session actor that dies abnormally is restarted from its last
/// snapshot, at most three times a minute. After that the session is
/// destroyed and its processes killed.
///
/// Every `sweep_interval_ms` it destroys sessions that ran no command and
/// got no request for `max_idle_sec` (or the `idle_s` they asked for).
///
/// `clients` is the table the connections count rate limits in; the
/// supervisor adds its rejections to it for `system.stats`. Null makes a
/// new one.
caf::actor spawn_supervisor(caf::actor_system& system,
                            std::shared_ptr<const config> settings,
                            std::shared_ptr<isolation::process_service> service,
                            std::optional<isolation::run_as_user> user,
                            std::shared_ptr<isolation::cgroup_manager> cgroups,
                            std::shared_ptr<client_table> clients = nullptr);

}  // namespace corral::actors
