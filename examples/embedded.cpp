// Runs one command through corral inside this program's own actor system,
// without TCP: start the runtime, ask its supervisor for a session, run a
// command in it by message, print the result, and stop.
//
// Build: cmake --build build --target example_embedded
// Run:   build/example_embedded 'uname -a'

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <iostream>
#include <string>

#include "actors/atoms.hpp"
#include "actors/error.hpp"
#include "actors/messages.hpp"
#include "runtime/runtime.hpp"

using namespace corral;

int main(int argc, char** argv) {
  std::string command = argc > 1 ? argv[1] : "echo hello from corral";

  caf::actor_system_config caf_config;
  caf_config.load<caf::io::middleman>();
  caf::actor_system system{caf_config};

  auto started = runtime::start(system, config{});
  if (!started) {
    std::cerr << "cannot start corral: " << system.render(started.error())
              << '\n';
    return 1;
  }
  // A typed handle: the compiler checks each request and its reply type.
  auto supervisor = (*started)->typed_supervisor();
  caf::scoped_actor self{system};
  int status = 1;

  protocol::session_info session;
  self->request(supervisor, caf::infinite, actors::create_atom::value,
                protocol::session_options{})
      .receive([&](protocol::session_info& info) { session = info; },
               [&](caf::error& error) {
                 std::cerr << actors::to_rpc_error(error).message << '\n';
               });
  if (session.id.empty())
    return 1;

  protocol::exec_request request;
  request.session = session.id;
  request.command = command;
  self->request(supervisor, caf::infinite, actors::run_atom::value, request)
      .receive(
          [&](protocol::exec_result& result) {
            std::cout << result.out.data;
            std::cerr << result.err.data;
            std::cout << "reason: " << result.reason << ", exit code: "
                      << (result.exit_code ? std::to_string(*result.exit_code)
                                           : "none")
                      << '\n';
            status = result.exit_code.value_or(1);
          },
          [&](caf::error& error) {
            std::cerr << actors::to_rpc_error(error).message << '\n';
          });

  (*started)->stop();
  return status;
}
