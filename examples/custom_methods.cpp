// Adds a small key-value method family, kv.set, kv.get and kv.keys, to a
// corral daemon through an extension actor, and serves it over TCP next to
// the built-in methods.
//
// Build: cmake --build build --target example_custom_methods
// Run:   build/example_custom_methods 127.0.0.1:7412
// Try:   printf '%s\n'
// '{"id":1,"method":"kv.set","params":{"key":"a","value":"1"}}' \
//          '{"id":2,"method":"kv.get","params":{"key":"a"}}' |
//        nc -q 1 127.0.0.1 7412
// Stop:  Ctrl-C.

#include <signal.h>

#include <boost/json.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/stateful_actor.hpp>
#include <fstream>
#include <iostream>
#include <map>
#include <string>

#include "actors/extension.hpp"
#include "runtime/client.hpp"
#include "runtime/runtime.hpp"

namespace json = boost::json;
using corral::protocol::error_code;

namespace {

struct store_state {
  static inline const char* name = "example.kv";
  std::map<std::string, std::string> values;
};

caf::error invalid(std::string message) {
  return corral::actors::make_error(error_code::invalid_params,
                                    std::move(message));
}

// Reads the string member `key` of params, or sets `error`.
std::string string_param(const json::object& params, const char* key,
                         caf::error& error) {
  auto* value = params.if_contains(key);
  if (value == nullptr || !value->is_string()) {
    error = invalid(std::string{key} + " must be a string");
    return {};
  }
  return std::string{value->get_string()};
}

caf::behavior store(caf::stateful_actor<store_state>* self) {
  return {
      [=](corral::actors::call_atom, const std::string& method,
          const std::string& params_text,
          const std::string& client) -> caf::result<std::string> {
        auto params = json::parse(params_text).as_object();
        auto& values = self->state.values;
        caf::error error;
        if (method == "kv.set") {
          auto key = string_param(params, "key", error);
          auto value = string_param(params, "value", error);
          if (error)
            return error;
          values[key] = value;
          std::cerr << "kv.set key=" << key << " client=" << client << '\n';
          return json::serialize(json::object{{"stored", key}});
        }
        if (method == "kv.get") {
          auto key = string_param(params, "key", error);
          if (error)
            return error;
          auto found = values.find(key);
          if (found == values.end())
            return json::serialize(json::object{{"value", nullptr}});
          return json::serialize(json::object{{"value", found->second}});
        }
        if (method == "kv.keys") {
          json::array keys;
          for (const auto& entry : values)
            keys.emplace_back(entry.first);
          return json::serialize(json::object{{"keys", std::move(keys)}});
        }
        return corral::actors::make_error(
            error_code::method_not_found,
            "unknown method " + method + "; kv has set, get and keys");
      },
  };
}

}  // namespace

int main(int argc, char** argv) {
  corral::config settings;
  settings.listen_port = 7412;
  if (argc > 1) {
    auto address = corral::parse_address(argv[1]);
    settings.listen_host = address.host;
    settings.listen_port = address.port;
  }
  if (argc > 2)
    settings.ready_file = argv[2];

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  caf::actor_system_config caf_config;
  caf_config.load<caf::io::middleman>();
  caf::actor_system system{caf_config};
  auto started = corral::runtime::start(system, settings);
  if (!started) {
    std::cerr << system.render(started.error()) << '\n';
    return 1;
  }
  auto& runtime = **started;
  auto kv = system.spawn(store);
  if (auto added = runtime.add_extension("kv", kv); !added) {
    std::cerr << system.render(added.error()) << '\n';
    caf::anon_send_exit(kv, caf::exit_reason::user_shutdown);
    return 1;
  }
  auto port = runtime.listen();
  if (!port) {
    std::cerr << system.render(port.error()) << '\n';
    return 1;
  }
  std::cerr << "serving kv.* next to the built-in methods on port " << *port
            << '\n';
  if (!settings.ready_file.empty())
    std::ofstream{settings.ready_file} << settings.listen_host << ':' << *port
                                       << '\n';

  int signal = 0;
  sigwait(&signals, &signal);
  runtime.drain();
  runtime.stop();
  // The actor system waits for every actor before it is destroyed.
  caf::anon_send_exit(kv, caf::exit_reason::user_shutdown);
  return 0;
}
