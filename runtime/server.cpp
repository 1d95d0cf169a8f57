#include "runtime/server.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/io/system_messages.hpp>

#include "actors/atoms.hpp"
#include "actors/connection.hpp"
#include "actors/error.hpp"
#include "protocol/jsonrpc.hpp"
#include "runtime/log.hpp"

namespace corral {

namespace {

using self_pointer = server_broker*;
using namespace corral::actors;

void report_connections(self_pointer self) {
  auto& st = self->state;
  self->send(st.supervisor, conns_atom::value,
             static_cast<std::uint64_t>(st.connections.size()));
  if (st.closing && st.connections.empty()) {
    for (auto& waiter : st.close_waiters)
      waiter.deliver(caf::unit);
    st.close_waiters.clear();
  }
}

void reject_connection(self_pointer self, caf::io::connection_handle handle) {
  auto& st = self->state;
  auto peer = self->remote_addr(handle) + ":" +
              std::to_string(self->remote_port(handle));
  log::warn("connection rejected peer={} connections={} max_connections={}",
            peer, st.connections.size(), st.settings->max_connections);
  protocol::rpc_error error{
      protocol::error_code::connection_limit,
      "the daemon already serves " + std::to_string(st.connections.size()) +
          " connections, its limit (max_connections); retry later",
      {{"max_connections",
        static_cast<std::int64_t>(st.settings->max_connections)}}};
  auto line = protocol::encode_error("null", error) + "\n";
  self->write(handle, line.size(), line.data());
  self->flush(handle);
  // A graceful close sends what was written before it closes the socket.
  self->close(handle);
}

}  // namespace

caf::behavior server_actor(server_broker* self,
                           std::shared_ptr<const config> settings,
                           caf::actor supervisor,
                           std::shared_ptr<const actors::token_store> tokens,
                           std::shared_ptr<actors::client_table> clients) {
  self->state.settings = std::move(settings);
  self->state.supervisor = std::move(supervisor);
  self->state.tokens = std::move(tokens);
  self->state.clients = std::move(clients);
  self->set_down_handler([=](caf::down_msg& msg) {
    self->state.connections.erase(msg.source);
    report_connections(self);
  });
  return {
      [=](listen_atom) -> caf::result<std::uint16_t> {
        auto& st = self->state;
        auto bound = self->add_tcp_doorman(
            st.settings->listen_port, st.settings->listen_host.c_str(), true);
        if (!bound)
          return bound.error();
        st.acceptor = bound->first;
        return bound->second;
      },
      [=](const caf::io::new_connection_msg& msg) {
        auto& st = self->state;
        if (st.closing) {
          self->close(msg.handle);
          return;
        }
        if (st.connections.size() >= st.settings->max_connections) {
          reject_connection(self, msg.handle);
          return;
        }
        auto connection =
            self->fork(connection_actor, msg.handle, st.supervisor, st.settings,
                       st.tokens, st.clients);
        // Linked, so that stopping the server also stops its connections.
        self->monitor(connection);
        self->link_to(connection);
        st.connections.insert(connection.address());
        report_connections(self);
      },
      [=](const caf::io::acceptor_closed_msg&) {
        log::error(
            "listening socket closed unexpectedly; no new clients can "
            "connect");
      },
      [=](close_atom) -> caf::result<caf::unit_t> {
        auto& st = self->state;
        st.closing = true;
        self->close(st.acceptor);
        auto promise = self->make_response_promise<caf::unit_t>();
        st.close_waiters.push_back(promise);
        for (auto& address : st.connections)
          self->send(caf::actor_cast<caf::actor>(address), close_atom::value);
        report_connections(self);
        return promise;
      },
  };
}

}  // namespace corral
