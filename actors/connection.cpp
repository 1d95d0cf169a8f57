#include "actors/connection.hpp"

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

// Where a reply goes: straight to the socket, or into a batch.
struct reply_slot {
  std::optional<std::uint64_t> batch;
  bool notification = false;
};

// Starts closing the connection: later replies are dropped, and the socket
// is closed by a message to self. CAF 0.17 runs the handlers of I/O events
// such as data_transferred_msg from inside the socket's own callback, where
// closing that socket frees it under the caller (seen as a double free).
void close_connection(self_pointer self, std::string_view why) {
  if (self->state.closed)
    return;
  self->state.closed = true;
  log::info("connection closed peer={} reason=\"{}\"", self->state.peer, why);
  self->send(self, hangup_atom::value);
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
  self->write(st.handle, line.size(), line.data());
  self->write(st.handle, 1, "\n");
  self->flush(st.handle);
  st.queued_bytes += line.size() + 1;
  if (st.queued_bytes > st.settings->max_send_queue_bytes) {
    log::warn(
        "client does not read its replies peer={} queued_bytes={} "
        "max_send_queue_bytes={}; disconnecting it",
        st.peer, st.queued_bytes, st.settings->max_send_queue_bytes);
    close_connection(self, "send queue full");
  }
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
            self->state.peer, call.method, protocol::symbolic_name(error.code),
            error.message);
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
                       self->state.peer, method,
                       protocol::symbolic_name(rpc.code));
            complete(self, slot, protocol::encode_error(id, rpc));
          });
}

template <class T>
const protocol::rpc_error* error_of(const protocol::decoded<T>& decoded) {
  return std::get_if<protocol::rpc_error>(&decoded);
}

void dispatch(self_pointer self, const protocol::call& call,
              const reply_slot& slot) {
  auto& st = self->state;
  const auto& method = call.method;
  auto as_flag = [](const char* key) {
    return [key](std::string& id) { return protocol::encode_flag(key, id); };
  };

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
        list_atom::value);
  } else if (method == "session.create") {
    auto decoded = protocol::decode_session_create(call.params);
    if (auto error = error_of(decoded))
      return reject(self, call, slot, *error);
    forward<protocol::session_info>(
        self, call, slot,
        [](protocol::session_info& x) {
          return protocol::encode_session_info(x);
        },
        create_atom::value,
        std::move(std::get<protocol::session_options>(decoded)));
  } else if (method == "session.destroy" || method == "exec.cancel") {
    auto decoded = protocol::decode_session_id(call.params);
    if (auto error = error_of(decoded))
      return reject(self, call, slot, *error);
    auto id = std::move(std::get<std::string>(decoded));
    if (method == "session.destroy")
      forward<std::string>(self, call, slot, as_flag("destroyed"),
                           destroy_atom::value, std::move(id));
    else
      forward<std::string>(self, call, slot, as_flag("cancelled"),
                           cancel_atom::value, std::move(id));
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
        run_atom::value, std::move(std::get<protocol::exec_request>(decoded)));
  } else {
    // Everything else may belong to an extension; the supervisor decides.
    forward<std::string>(
        self, call, slot, [](std::string& result) { return result; },
        call_atom::value, call.method, protocol::encode_params(call.params),
        st.peer);
  }
}

void handle_line(self_pointer self, const std::string& line) {
  auto& st = self->state;
  auto parsed = protocol::parse_line(line);
  reply_slot slot;
  if (parsed.batch) {
    slot.batch = st.next_batch++;
    st.batches[*slot.batch].outstanding = parsed.entries.size();
  }
  for (auto& entry : parsed.entries) {
    if (auto* bad = std::get_if<protocol::bad_call>(&entry)) {
      log::info("request rejected peer={} error={} message=\"{}\"", st.peer,
                protocol::symbolic_name(bad->error.code), bad->error.message);
      slot.notification = false;
      deliver(self, slot, protocol::encode_error(bad->id, bad->error));
      continue;
    }
    const auto& call = std::get<protocol::call>(entry);
    slot.notification = call.is_notification();
    dispatch(self, call, slot);
  }
}

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
}

}  // namespace

caf::behavior connection_actor(connection_broker* self,
                               caf::io::connection_handle handle,
                               caf::actor supervisor,
                               std::shared_ptr<const config> settings) {
  auto& st = self->state;
  st.handle = handle;
  st.supervisor = std::move(supervisor);
  st.framer.emplace(settings->request_line_cap());
  st.settings = std::move(settings);
  st.peer = self->remote_addr(handle) + ":" +
            std::to_string(self->remote_port(handle));
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
        self->close(self->state.handle);
        self->quit();
      },
      [=](close_atom) {
        self->state.closing = true;
        close_if_idle(self);
      },
  };
}

}  // namespace corral::actors
