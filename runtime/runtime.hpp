#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/expected.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "actors/supervisor_api.hpp"
#include "runtime/config.hpp"

namespace corral {

namespace isolation {
class cgroup_manager;
class process_service;
}  // namespace isolation

namespace actors {
class client_table;
class token_store;
}  // namespace actors

/// corral inside a caller's `caf::actor_system`: the process service, the
/// supervisor and, on request, the TCP server. The caller owns the actor
/// system, which must have loaded `caf::io::middleman` to serve TCP. The
/// runtime installs no signal handlers and never exits the process; it
/// does ignore SIGPIPE process-wide (see `isolation::process_service`).
///
/// Not thread-safe: one thread drives start, listen, drain and stop. That
/// thread must not be a CAF worker, because drain and stop block.
class runtime {
 public:
  /// Starts the runtime with `settings`, which must have passed
  /// `validate`. Fails when `run_as` names an unknown user or the
  /// `auth_tokens_file` is invalid.
  static caf::expected<std::unique_ptr<runtime>> start(
      caf::actor_system& system, config settings);

  /// Stops the runtime as `stop` does.
  ~runtime();

  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  /// Returns the supervisor, which takes the messages listed in
  /// actors/supervisor.hpp: embedders can create sessions and run
  /// commands with it directly, without TCP.
  caf::actor supervisor() const noexcept { return supervisor_; }

  /// Returns the supervisor as a typed handle, whose requests the compiler
  /// checks against the signatures in actors/supervisor_api.hpp.
  actors::supervisor_actor typed_supervisor() const noexcept {
    return caf::actor_cast<actors::supervisor_actor>(supervisor_);
  }

  /// Returns the settings in force.
  const config& settings() const noexcept { return *settings_; }

  /// Routes every method `name.*` to `handler`, an extension actor as
  /// described in actors/extension.hpp. Fails for the built-in namespaces
  /// (system, session, exec, auth) and for names with dots.
  caf::expected<void> add_extension(const std::string& name,
                                    const caf::actor& handler);

  /// Starts the TCP server on the configured address. Returns the bound
  /// port, which differs from the configured one when that was 0.
  caf::expected<std::uint16_t> listen();

  /// Drains: stops admitting work, lets running commands finish for up to
  /// `drain_timeout_s`, kills the rest with reason `shutdown`, destroys all
  /// sessions, then closes every connection once its replies are sent.
  /// Blocks until done.
  void drain();

  /// Ends a drain at once: kills every running command now. Safe to call
  /// from any thread while another thread is inside `drain`.
  void hurry();

  /// Drains without waiting for commands, then stops every actor.
  void stop();

 private:
  runtime(caf::actor_system& system, std::shared_ptr<const config> settings);

  caf::actor_system& system_;
  std::shared_ptr<const config> settings_;
  std::shared_ptr<isolation::process_service> service_;
  std::shared_ptr<isolation::cgroup_manager> cgroups_;  // null when off
  std::shared_ptr<const actors::token_store> tokens_;   // null: auth off
  std::shared_ptr<actors::client_table> clients_;
  caf::actor supervisor_;
  caf::actor server_;
  bool drained_ = false;
  bool stopped_ = false;
};

}  // namespace corral
