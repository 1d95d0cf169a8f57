#pragma once

#include <caf/actor.hpp>
#include <caf/io/broker.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/auth.hpp"
#include "actors/client_table.hpp"
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
  std::string peer;          // "address:port", for logs
  std::string peer_address;  // the address without the port
  /// Null when authentication is off.
  std::shared_ptr<const token_store> tokens;
  std::shared_ptr<client_table> clients;
  /// The client identity requests run as; empty until `auth.login`
  /// succeeds when authentication is on.
  std::string client;
  bool valid_request_seen = false;  // ends the login timeout
  std::uint64_t failed_logins = 0;
  /// Time the framer started buffering an incomplete line; unset when
  /// nothing is buffered. `partial_generation` identifies stale timers.
  std::optional<std::chrono::steady_clock::time_point> partial_since;
  std::uint64_t partial_generation = 0;
  std::uint64_t in_flight = 0;     // requests dispatched, not yet replied to
  std::uint64_t queued_bytes = 0;  // written to the socket, not yet sent
  bool reading_halted = false;
  bool closing = false;      // drain: close once idle
  bool closed = false;       // the socket is closed and the actor quitting
  bool abort_close = false;  // close without sending what is queued
  std::uint64_t next_batch = 0;
  std::map<std::uint64_t, pending_batch> batches;
};

using connection_broker = caf::io::stateful_broker<connection_state>;

/// Serves one TCP client: reads `\n`-framed JSON-RPC lines, dispatches each
/// request to the supervisor at once, so requests run concurrently, and
/// writes replies in completion order.
///
/// Backpressure: past `max_requests_in_flight` it stops reading from the
/// socket until replies have gone out. A client whose unsent replies exceed
/// `max_send_queue_bytes` is disconnected instead of buffered for. A client
/// that disconnects does not cancel its commands.
///
/// Clients: with `tokens` set, the first request must be a successful
/// `auth.login`; other requests before it get UNAUTHORIZED and run nothing,
/// and `max_failed_logins` failures close the connection. Without tokens
/// the client is the peer's IP address. Every request after the login
/// counts against the client's rate limit in `clients`, which all
/// connections share, so a client cannot evade it by opening more
/// connections. The client identity travels with every supervisor request.
///
/// Timers: a connection with no valid request within `login_timeout_ms`,
/// or with an incomplete line held for `max_partial_line_ms`, is closed.
///
/// Messages: `close_atom` closes the connection once every request has been
/// answered and every reply sent (used by the drain).
caf::behavior connection_actor(connection_broker* self,
                               caf::io::connection_handle handle,
                               caf::actor supervisor,
                               std::shared_ptr<const config> settings,
                               std::shared_ptr<const token_store> tokens,
                               std::shared_ptr<client_table> clients);

/// Failed `auth.login` calls after which a connection is closed.
constexpr std::uint64_t max_failed_logins = 5;

}  // namespace corral::actors
