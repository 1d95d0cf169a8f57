#pragma once

#include <caf/actor.hpp>
#include <caf/io/broker.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocol/line_framer.hpp"
#include "runtime/config.hpp"

namespace corral::actors {

/// Replies of one JSON-RPC batch, sent together once all are in.
struct pending_batch {
  std::vector<std::string> replies;
  std::size_t outstanding = 0;
};

/// State of a connection actor.
struct connection_state {
  static inline const char* name = "corral.connection";

  caf::io::connection_handle handle;
  caf::actor supervisor;
  std::shared_ptr<const config> settings;
  std::optional<protocol::line_framer> framer;
  std::string peer;                // "address:port", for logs
  std::uint64_t in_flight = 0;     // requests dispatched, not yet answered
  std::uint64_t queued_bytes = 0;  // written to the socket, not yet sent
  bool reading_halted = false;
  bool closing = false;  // drain: close once idle
  bool closed = false;   // the socket is closed and the actor quitting
  std::uint64_t next_batch = 0;
  std::map<std::uint64_t, pending_batch> batches;
};

using connection_broker = caf::io::stateful_broker<connection_state>;

/// Serves one TCP client: reads `\n`-framed JSON-RPC lines, dispatches each
/// request to the supervisor at once, so requests run concurrently, and
/// writes replies in completion order.
///
/// Backpressure: past `max_requests_in_flight` it stops reading from the
/// socket until replies have gone out; a client whose unsent replies exceed
/// `max_send_queue_bytes` is disconnected instead of buffered for. A client
/// that disconnects does not cancel its commands.
///
/// Messages: `close_atom` closes the connection once every request has been
/// answered and every reply sent (used by the drain).
caf::behavior connection_actor(connection_broker* self,
                               caf::io::connection_handle handle,
                               caf::actor supervisor,
                               std::shared_ptr<const config> settings);

}  // namespace corral::actors
