#pragma once

#include <caf/actor.hpp>
#include <caf/io/broker.hpp>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "actors/auth.hpp"
#include "actors/client_table.hpp"
#include "runtime/config.hpp"

namespace corral {

/// State of the TCP acceptor.
struct server_state {
  static inline const char* name = "corral.server";

  std::shared_ptr<const config> settings;
  caf::actor supervisor;
  std::shared_ptr<const actors::token_store> tokens;  // null: auth off
  std::shared_ptr<actors::client_table> clients;
  caf::io::accept_handle acceptor;
  std::set<caf::actor_addr> connections;
  bool closing = false;
  std::vector<caf::response_promise> close_waiters;
};

using server_broker = caf::io::stateful_broker<server_state>;

/// Accepts TCP clients and starts one connection actor per client.
///
/// Messages:
/// - `listen_atom` -> `uint16_t`, the bound port: binds to the configured
///   host and port (0 picks a free one).
/// - `close_atom` -> `unit` once every connection has closed: stops
///   accepting and tells each connection to close once its requests have
///   replies.
///
/// A client past `max_connections` gets one CONNECTION_LIMIT error line and
/// is disconnected.
caf::behavior server_actor(server_broker* self,
                           std::shared_ptr<const config> settings,
                           caf::actor supervisor,
                           std::shared_ptr<const actors::token_store> tokens,
                           std::shared_ptr<actors::client_table> clients);

}  // namespace corral
