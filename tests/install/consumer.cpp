// Starts an installed corral inside this program and runs one command.

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <iostream>

#include "actors/atoms.hpp"
#include "actors/messages.hpp"
#include "runtime/runtime.hpp"

int main() {
  caf::actor_system_config caf_config;
  caf_config.load<caf::io::middleman>();
  caf::actor_system system{caf_config};
  auto started = corral::runtime::start(system, corral::config{});
  if (!started)
    return 1;
  caf::scoped_actor self{system};
  std::string session;
  self->request((*started)->supervisor(), caf::infinite,
                corral::actors::create_atom::value,
                corral::protocol::session_options{})
      .receive([&](corral::protocol::session_info& info) { session = info.id; },
               [](caf::error&) {});
  corral::protocol::exec_request request;
  request.session = session;
  request.command = "echo consumer-ok";
  self->request((*started)->supervisor(), caf::infinite,
                corral::actors::run_atom::value, request)
      .receive(
          [](corral::protocol::exec_result& result) {
            std::cout << result.out.data;
          },
          [](caf::error&) {});
  (*started)->stop();
  return 0;
}
