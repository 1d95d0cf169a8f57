#include "runtime/runtime.hpp"

#include <unistd.h>

#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <chrono>

#include "actors/atoms.hpp"
#include "actors/auth.hpp"
#include "actors/client_table.hpp"
#include "actors/supervisor.hpp"
#include "isolation/cgroup.hpp"
#include "isolation/process_service.hpp"
#include "runtime/log.hpp"
#include "runtime/server.hpp"

namespace corral {

namespace {

using namespace corral::actors;

// How long the drain waits for connections to send their last replies to
// clients that may have stopped reading.
constexpr auto close_timeout = std::chrono::seconds{5};

// Opens the cgroup manager for `settings.cgroups` and removes groups that
// earlier daemons left behind. Returns null when cgroups are off, and logs
// that once, with the reason.
std::shared_ptr<isolation::cgroup_manager> open_cgroups(
    const config& settings) {
  auto mode = isolation::parse_cgroup_mode(settings.cgroups)
                  .value_or(isolation::cgroup_mode::automatic);
  auto manager = isolation::cgroup_manager::open(
      mode, "corral-" + std::to_string(::getpid()));
  if (!manager.enabled()) {
    log::warn("running without cgroups, with rlimits only: {}",
              manager.description());
    return nullptr;
  }
  log::info("isolation: rlimits and {}", manager.description());
  if (auto stale = manager.remove_stale(); stale > 0)
    log::info("removed cgroups of earlier daemons count={}", stale);
  return std::make_shared<isolation::cgroup_manager>(std::move(manager));
}

}  // namespace

runtime::runtime(caf::actor_system& system,
                 std::shared_ptr<const config> settings)
    : system_(system), settings_(std::move(settings)) {
  // nop
}

caf::expected<std::unique_ptr<runtime>> runtime::start(
    caf::actor_system& system, config settings) {
  std::optional<isolation::run_as_user> user;
  if (!settings.run_as.empty()) {
    std::string error;
    user = isolation::resolve_user(settings.run_as, error);
    if (!user)
      return caf::make_error(caf::sec::invalid_argument, "run_as: " + error);
  }
  std::shared_ptr<const actors::token_store> tokens;
  if (!settings.auth_tokens_file.empty()) {
    auto loaded = actors::token_store::load(settings.auth_tokens_file);
    if (!loaded.store)
      return caf::make_error(caf::sec::invalid_argument, loaded.errors.front());
    tokens =
        std::make_shared<const actors::token_store>(std::move(*loaded.store));
    log::info("authentication on: clients={} file={}", tokens->size(),
              settings.auth_tokens_file);
  }
  auto shared = std::make_shared<const config>(std::move(settings));
  std::unique_ptr<runtime> result{new runtime(system, shared)};
  result->service_ = std::make_shared<isolation::process_service>();
  result->cgroups_ = open_cgroups(*shared);
  result->tokens_ = std::move(tokens);
  result->clients_ = std::make_shared<actors::client_table>(
      shared->rate_limit_per_sec, shared->rate_limit_burst);
  result->supervisor_ =
      spawn_supervisor(system, shared, result->service_, std::move(user),
                       result->cgroups_, result->clients_);
  return result;
}

runtime::~runtime() { stop(); }

caf::expected<std::uint16_t> runtime::listen() {
  if (!server_)
    server_ = system_.middleman().spawn_broker(server_actor, settings_,
                                               supervisor_, tokens_, clients_);
  caf::scoped_actor self{system_};
  caf::expected<std::uint16_t> port{caf::sec::none};
  self->request(server_, caf::infinite, listen_atom::value)
      .receive([&](std::uint16_t bound) { port = bound; },
               [&](caf::error& error) { port = std::move(error); });
  return port;
}

caf::expected<void> runtime::add_extension(const std::string& name,
                                           const caf::actor& handler) {
  caf::scoped_actor self{system_};
  caf::expected<void> result;
  self->request(supervisor_, caf::infinite, register_atom::value, name, handler)
      .receive([] {}, [&](caf::error& error) { result = std::move(error); });
  return result;
}

void runtime::drain() {
  if (drained_)
    return;
  drained_ = true;
  caf::scoped_actor self{system_};
  self->request(supervisor_, caf::infinite, drain_atom::value)
      .receive([] {},
               [](caf::error& error) {
                 log::error("drain failed error=\"{}\"", caf::to_string(error));
               });
  if (!server_)
    return;
  self->request(server_, close_timeout, close_atom::value)
      .receive([] { log::info("drain: all connections closed"); },
               [](caf::error&) {
                 log::warn(
                     "drain: connections still open after the close "
                     "timeout; closing them without their last replies");
               });
}

void runtime::hurry() { caf::anon_send(supervisor_, drain_atom::value); }

void runtime::stop() {
  if (stopped_)
    return;
  stopped_ = true;
  if (!drained_) {
    hurry();
    drain();
  }
  if (server_)
    caf::anon_send_exit(server_, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(supervisor_, caf::exit_reason::user_shutdown);
  server_ = nullptr;
  supervisor_ = nullptr;
}

}  // namespace corral
