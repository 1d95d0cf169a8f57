#include "actors/connection.hpp"

#include <sys/socket.h>

#include <caf/event_based_actor.hpp>
#include <caf/io/receive_policy.hpp>
#include <caf/io/system_messages.hpp>
#include <string_view>
#include <variant>

#include "actors/atoms.hpp"
#include "actors/error.hpp"
#include "actors/messages.hpp"
#include "protocol/jsonrpc.hpp"
#include "runtime/log.hpp"

namespace corral::actors {

namespace {

using self_pointer = connection_broker*;
using protocol::error_code;

constexpr std::size_t read_chunk_bytes = 64 * 1024;

// Destination of a reply: the socket, or the batch it belongs to.
struct reply_slot {
  std::optional<std::uint64_t> batch;
  bool notification = false;
};

// Starts closing the connection: later replies are dropped, and the socket
// is closed by a message to self. CAF 0.17 runs the handlers of I/O events
// such as data_transferred_msg from inside the socket's own callback, where
// closing that socket frees it under the caller (seen as a double free).
// `abort` drops unsent replies instead of waiting to send them, for a
// client that does not read: a graceful close would wait for it forever.
void close_connection(self_pointer self, std::string_view why,
                      bool abort = false) {
  if (self->state.closed)
    return;
  self->state.closed = true;
  self->state.abort_close = abort;
  log::info("connection closed peer={} reason=\"{}\"", self->state.peer, why);
  self->send(self, hangup_atom::value);
}

// Shuts the socket down at once, so that CAF's graceful close of a socket
// with unsent data finishes instead of waiting for the client to read.
void abort_socket(self_pointer self) {
  // In CAF 0.17's default multiplexer a connection handle is the socket.
  ::shutdown(static_cast<int>(self->state.handle.id()), SHUT_RDWR);
}

void close_if_idle(self_pointer self) {
  auto& st = self->state;
  if (st.closing && st.in_flight == 0 && st.queued_bytes == 0)
    close_connection(self, "daemon shutting down");
}

void write_line(self_pointer self, std::string_view line) {
  auto& st = self->state;
  if (st.closed)
    return;
  // Checked before the write, so that one reply larger than the cap still
  // reaches a client that reads; only replies piling up close it.
  if (st.queued_bytes > st.settings->max_send_queue_bytes) {
    log::warn(
        "client does not read its replies peer={} queued_bytes={} "
        "max_send_queue_bytes={}; disconnecting it",
        st.peer, st.queued_bytes, st.settings->max_send_queue_bytes);
    close_connection(self, "send queue full", true);
    return;
  }
  self->write(st.handle, line.size(), line.data());
  self->write(st.handle, 1, "\n");
  self->flush(st.handle);
  st.queued_bytes += line.size() + 1;
}

void resume_reading_if_possible(self_pointer self) {
  auto& st = self->state;
  if (st.reading_halted && st.in_flight < st.settings->max_requests_in_flight) {
    st.reading_halted = false;
    self->trigger(st.handle);
  }
}

// Delivers one reply: written at once, or kept until its batch is complete.
void deliver(self_pointer self, const reply_slot& slot, std::string reply) {
  auto& st = self->state;
  if (!slot.batch) {
    if (!slot.notification)
      write_line(self, reply);
    return;
  }
  auto found = st.batches.find(*slot.batch);
  if (found == st.batches.end())
    return;
  auto& batch = found->second;
  if (!slot.notification)
    batch.replies.push_back(std::move(reply));
  if (--batch.outstanding > 0)
    return;
  // A batch of notifications only gets no reply at all.
  if (!batch.replies.empty())
    write_line(self, protocol::encode_batch(batch.replies));
  st.batches.erase(found);
}

void complete(self_pointer self, const reply_slot& slot, std::string reply) {
  auto& st = self->state;
  st.in_flight -= 1;
  deliver(self, slot, std::move(reply));
  resume_reading_if_possible(self);
  close_if_idle(self);
}

void reject(self_pointer self, const protocol::call& call,
            const reply_slot& slot, const protocol::rpc_error& error) {
  log::info("request rejected peer={} method={} error={} message=\"{}\"",
            self->state.peer, log::printable(call.method),
            protocol::symbolic_name(error.code),
            log::printable(error.message, 300));
  deliver(self, slot, protocol::encode_error(call.id, error));
}

// Sends a request to the supervisor and replies with `encode(result)`, or
// with the error it ended in.
template <class Result, class Encode, class... Ts>
void forward(self_pointer self, const protocol::call& call,
             const reply_slot& slot, Encode encode, Ts&&... xs) {
  self->state.in_flight += 1;
  auto id = call.id;
  auto method = call.method;
  self->request(self->state.supervisor, caf::infinite, std::forward<Ts>(xs)...)
      .then(
          [=](Result& result) {
            complete(self, slot, protocol::encode_result(id, encode(result)));
          },
          [=](caf::error& error) {
            auto rpc = to_rpc_error(error);
            log::debug("request failed peer={} method={} error={}",
                       self->state.peer, log::printable(method),
                       protocol::symbolic_name(rpc.code));
            complete(self, slot, protocol::encode_error(id, rpc));
          });
}

template <class T>
const protocol::rpc_error* error_of(const protocol::decoded<T>& decoded) {
  return std::get_if<protocol::rpc_error>(&decoded);
}

// Sends an error that a client can provoke at a high rate, such as
// RATE_LIMITED, logged at debug level only; system.stats counts them.
void reject_quietly(self_pointer self, const protocol::call& call,
                    const reply_slot& slot, const protocol::rpc_error& error) {
  log::debug("request rejected peer={} client={} method={} error={}",
             self->state.peer, self->state.client, call.method,
             protocol::symbolic_name(error.code));
  deliver(self, slot, protocol::encode_error(call.id, error));
}

void log_failed_login(self_pointer self) {
  auto& st = self->state;
  auto suppressed =
      st.clients->log_failed_login(st.peer_address, client_clock::now());
  if (!suppressed)
    return;
  log::warn(
      "login failed: invalid token peer={} failed_logins={} "
      "suppressed_log_lines={}",
      st.peer, st.failed_logins, *suppressed);
}

// Handles auth.login. The token is compared with every known token and
// never logged. Without authentication any token is accepted and the
// client stays its peer address, so that clients configured with a token
// also work against a daemon without one.
void login(self_pointer self, const protocol::call& call,
           const reply_slot& slot) {
  auto& st = self->state;
  auto decoded = protocol::decode_login(call.params);
  if (auto error = error_of(decoded))
    return reject(self, call, slot, *error);
  if (!st.tokens) {
    st.valid_request_seen = true;
    deliver(self, slot,
            protocol::encode_result(
                call.id, protocol::encode_flag("client", st.client)));
    return;
  }
  auto name = st.tokens->find_client(std::get<std::string>(decoded));
  if (name) {
    st.client = std::move(*name);
    st.valid_request_seen = true;
    log::info("client logged in peer={} client={}", st.peer, st.client);
    deliver(self, slot,
            protocol::encode_result(
                call.id, protocol::encode_flag("client", st.client)));
    return;
  }
  st.failed_logins += 1;
  log_failed_login(self);
  auto remaining =
      max_failed_logins - std::min(max_failed_logins, st.failed_logins);
  protocol::rpc_error error{error_code::unauthorized,
                            "invalid token; " + std::to_string(remaining) +
                                " more failed logins close this connection",
                            {}};
  deliver(self, slot, protocol::encode_error(call.id, error));
  if (remaining == 0)
    close_connection(self, "too many failed logins");
}

// Returns true when the request may go on: the client has logged in (or
// needs not) and is within its rate limit. Otherwise replies with the
// error.
bool admit(self_pointer self, const protocol::call& call,
           const reply_slot& slot) {
  auto& st = self->state;
  if (st.client.empty()) {
    reject_quietly(self, call, slot,
                   {error_code::unauthorized,
                    "log in first: send auth.login with your token before "
                    "any other request",
                    {}});
    return false;
  }
  st.valid_request_seen = true;
  auto wait = st.clients->admit(st.client, client_clock::now());
  if (!wait)
    return true;
  auto name = protocol::symbolic_name(error_code::rate_limited);
  st.clients->count_rejection(st.client, name);
  reject_quietly(
      self, call, slot,
      {error_code::rate_limited,
       "client " + st.client + " sent more than " +
           std::to_string(st.settings->rate_limit_per_sec) +
           " requests a second (rate_limit_per_sec, burst " +
           std::to_string(st.settings->rate_limit_burst) +
           "); retry after data.retry_after_ms",
       {{"retry_after_ms", static_cast<std::int64_t>(wait->count())}}});
  return false;
}

void dispatch(self_pointer self, const protocol::call& call,
              const reply_slot& slot) {
  auto& st = self->state;
  const auto& method = call.method;
  auto as_flag = [](const char* key) {
    return [key](std::string& id) { return protocol::encode_flag(key, id); };
  };

  if (method == "auth.login")
    return login(self, call, slot);
  if (!admit(self, call, slot))
    return;
  client_identity who{st.client};

  if (method == "system.ping" || method == "system.stats" ||
      method == "session.list") {
    if (auto error = protocol::expect_no_params(call.params))
      return reject(self, call, slot, *error);
  }

  if (method == "system.ping") {
    deliver(self, slot,
            protocol::encode_result(call.id,
                                    protocol::encode_pong(CORRAL_VERSION)));
  } else if (method == "system.stats") {
    forward<protocol::system_stats>(
        self, call, slot,
        [](protocol::system_stats& x) {
          return protocol::encode_system_stats(x);
        },
        stats_atom::value);
  } else if (method == "session.list") {
    forward<std::vector<protocol::session_info>>(
        self, call, slot,
        [](std::vector<protocol::session_info>& x) {
          return protocol::encode_session_list(x);
        },
        list_atom::value, std::move(who));
  } else if (method == "session.create") {
    auto decoded = protocol::decode_session_create(call.params);
    if (auto error = error_of(decoded))
      return reject(self, call, slot, *error);
    forward<protocol::session_info>(
        self, call, slot,
        [](protocol::session_info& x) {
          return protocol::encode_session_info(x);
        },
        create_atom::value, std::move(who),
        std::move(std::get<protocol::session_options>(decoded)));
  } else if (method == "session.destroy" || method == "exec.cancel") {
    auto decoded = protocol::decode_session_id(call.params);
    if (auto error = error_of(decoded))
      return reject(self, call, slot, *error);
    auto id = std::move(std::get<std::string>(decoded));
    if (method == "session.destroy")
      forward<std::string>(self, call, slot, as_flag("destroyed"),
                           destroy_atom::value, std::move(who), std::move(id));
    else
      forward<std::string>(self, call, slot, as_flag("cancelled"),
                           cancel_atom::value, std::move(who), std::move(id));
  } else if (method == "exec.run") {
    auto decoded =
        protocol::decode_exec_run(call.params, st.settings->max_stdin_bytes);
    if (auto error = error_of(decoded))
      return reject(self, call, slot, *error);
    forward<protocol::exec_result>(
        self, call, slot,
        [](protocol::exec_result& x) {
          return protocol::encode_exec_result(x);
        },
        run_atom::value, std::move(who),
        std::move(std::get<protocol::exec_request>(decoded)));
  } else {
    // Everything else may belong to an extension; the supervisor decides.
    forward<std::string>(
        self, call, slot, [](std::string& result) { return result; },
        call_atom::value, call.method, protocol::encode_params(call.params),
        st.client);
  }
}

void handle_line(self_pointer self, const std::string& line) {
  auto& st = self->state;
  auto parsed = protocol::parse_line(line);
  reply_slot slot;
  // Every entry of a batch is in flight at once, so a batch may not hold
  // more than a connection may have in flight.
  auto max_batch = st.settings->max_requests_in_flight;
  if (parsed.batch && parsed.entries.size() > max_batch) {
    protocol::rpc_error error{
        protocol::error_code::invalid_request,
        "a batch of " + std::to_string(parsed.entries.size()) +
            " requests exceeds max_requests_in_flight (" +
            std::to_string(max_batch) + "); split it into smaller batches",
        {{"max_requests_in_flight", static_cast<std::int64_t>(max_batch)}}};
    log::info("request rejected peer={} error=INVALID_REQUEST batch_size={}",
              st.peer, parsed.entries.size());
    write_line(self, protocol::encode_error("null", error));
    return;
  }
  if (parsed.batch) {
    slot.batch = st.next_batch++;
    st.batches[*slot.batch].outstanding = parsed.entries.size();
  }
  for (auto& entry : parsed.entries) {
    if (auto* bad = std::get_if<protocol::bad_call>(&entry)) {
      log::info("request rejected peer={} error={} message=\"{}\"", st.peer,
                protocol::symbolic_name(bad->error.code),
                log::printable(bad->error.message, 300));
      slot.notification = false;
      deliver(self, slot, protocol::encode_error(bad->id, bad->error));
      continue;
    }
    const auto& call = std::get<protocol::call>(entry);
    slot.notification = call.is_notification();
    dispatch(self, call, slot);
  }
}

void watch_partial_line(self_pointer self, bool line_completed);

void handle_data(self_pointer self, caf::io::new_data_msg& msg) {
  auto& st = self->state;
  std::vector<protocol::line_framer::event> events;
  st.framer->feed({msg.buf.data(), msg.buf.size()}, events);
  for (auto& event : events) {
    if (event.oversized) {
      auto cap = st.settings->request_line_cap();
      protocol::rpc_error error{
          error_code::request_too_large,
          "request line exceeds " + std::to_string(cap) +
              " bytes (the request line cap); it was discarded up to the next "
              "newline. Send stdin within max_stdin_bytes",
          {{"max_request_bytes", static_cast<std::int64_t>(cap)}}};
      log::info("request rejected peer={} error=REQUEST_TOO_LARGE cap={}",
                st.peer, cap);
      write_line(self, protocol::encode_error("null", error));
      continue;
    }
    handle_line(self, event.line);
  }
  if (!st.reading_halted &&
      st.in_flight >= st.settings->max_requests_in_flight) {
    st.reading_halted = true;
    self->halt(st.handle);
  }
  watch_partial_line(self, !events.empty());
}

// Starts the max_partial_line_ms timer when the framer starts buffering an
// incomplete line, and stops it when nothing is buffered. A completed line
// restarts it, so only one line's wait counts.
void watch_partial_line(self_pointer self, bool line_completed) {
  auto& st = self->state;
  bool partial = st.framer->buffered() > 0 || st.framer->discarding();
  if (!partial) {
    st.partial_since.reset();
    return;
  }
  if (st.partial_since && !line_completed)
    return;
  st.partial_since = std::chrono::steady_clock::now();
  st.partial_generation += 1;
  self->delayed_send(
      self, std::chrono::milliseconds{st.settings->max_partial_line_ms},
      partial_line_atom::value, st.partial_generation);
}

void on_partial_line_timer(self_pointer self, std::uint64_t generation) {
  auto& st = self->state;
  if (st.closed || !st.partial_since || generation != st.partial_generation)
    return;
  auto limit = std::chrono::milliseconds{st.settings->max_partial_line_ms};
  if (st.reading_halted) {
    // The rest of the line may be waiting in the socket while the daemon
    // does not read, which is not the client's fault: wait again.
    st.partial_since = std::chrono::steady_clock::now();
    self->delayed_send(self, limit, partial_line_atom::value, generation);
    return;
  }
  log::warn(
      "incomplete request line held too long peer={} client={} "
      "buffered_bytes={} max_partial_line_ms={}",
      st.peer, st.client, st.framer->buffered(), limit.count());
  close_connection(self, "incomplete request line past max_partial_line_ms");
}

void on_login_timer(self_pointer self) {
  auto& st = self->state;
  if (st.closed || st.valid_request_seen)
    return;
  log::warn("no valid request in time peer={} login_timeout_ms={} auth={}",
            st.peer, st.settings->login_timeout_ms, st.tokens ? "on" : "off");
  close_connection(self, "no valid request within login_timeout_ms");
}

}  // namespace

caf::behavior connection_actor(connection_broker* self,
                               caf::io::connection_handle handle,
                               caf::actor supervisor,
                               std::shared_ptr<const config> settings,
                               std::shared_ptr<const token_store> tokens,
                               std::shared_ptr<client_table> clients) {
  auto& st = self->state;
  st.handle = handle;
  st.supervisor = std::move(supervisor);
  st.framer.emplace(settings->request_line_cap());
  st.settings = std::move(settings);
  st.tokens = std::move(tokens);
  st.clients = std::move(clients);
  st.peer_address = self->remote_addr(handle);
  st.peer = st.peer_address + ":" + std::to_string(self->remote_port(handle));
  // Without tokens the client is its address without the port, so a
  // client that reconnects from another port keeps its sessions.
  if (!st.tokens)
    st.client = st.peer_address;
  self->delayed_send(self,
                     std::chrono::milliseconds{st.settings->login_timeout_ms},
                     login_timeout_atom::value);
  // Stopping the server stops its linked connections. Queued replies are
  // dropped then, so that the daemon can exit while a client does not read.
  self->set_exit_handler([=](caf::exit_msg& msg) {
    if (!self->state.closed) {
      self->state.closed = true;
      abort_socket(self);
      self->close(self->state.handle);
    }
    self->quit(std::move(msg.reason));
  });
  self->configure_read(handle,
                       caf::io::receive_policy::at_most(read_chunk_bytes));
  self->ack_writes(handle, true);
  log::info("connection opened peer={}", st.peer);
  return {
      [=](caf::io::new_data_msg& msg) {
        if (!self->state.closed)
          handle_data(self, msg);
      },
      [=](const caf::io::data_transferred_msg& msg) {
        auto& st = self->state;
        st.queued_bytes -= std::min(st.queued_bytes, msg.written);
        close_if_idle(self);
      },
      // NOTE: CAF 0.17 reports a client's half-close (shutdown(SHUT_WR),
      // `nc -q`) like a full close and drops the socket, so replies still
      // in flight are lost although their requests keep running.
      [=](const caf::io::connection_closed_msg&) {
        auto& st = self->state;
        if (st.closed)
          return;
        st.closed = true;
        log::info("connection closed by client peer={} requests_in_flight={}",
                  st.peer, st.in_flight);
        // Commands keep running; their results are logged and dropped.
        self->quit();
      },
      [=](hangup_atom) {
        // A graceful close still sends what was written before it.
        if (self->state.abort_close)
          abort_socket(self);
        self->close(self->state.handle);
        self->quit();
      },
      [=](close_atom) {
        self->state.closing = true;
        close_if_idle(self);
      },
      [=](login_timeout_atom) { on_login_timer(self); },
      [=](partial_line_atom, std::uint64_t generation) {
        on_partial_line_timer(self, generation);
      },
  };
}

}  // namespace corral::actors
