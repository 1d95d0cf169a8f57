// corral embedded in a test's own actor system: extension methods over TCP,
// extensions that fail, and starting and stopping twice.

#include <dirent.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "actors/extension.hpp"
#include "actors/messages.hpp"
#include "runtime/client.hpp"
#include "runtime/runtime.hpp"

namespace json = boost::json;
using corral::actors::call_atom;

namespace {

// Replies to `echo.*` with the method and params, throws for
// `echo.throw` and never replies to `echo.silent`.
caf::behavior echo_extension(caf::event_based_actor* self) {
  return {
      [=](call_atom, const std::string& method, const std::string& params,
          const std::string& client) -> caf::result<std::string> {
        if (method == "echo.throw")
          throw std::runtime_error("extension failure for the test");
        if (method == "echo.silent")
          return self->make_response_promise<std::string>();
        if (method == "echo.invalid")
          return std::string{"{not json"};
        return json::serialize(json::object{{"method", method},
                                            {"params", json::parse(params)},
                                            {"has_client", !client.empty()}});
      },
  };
}

std::size_t thread_count() {
  std::size_t count = 0;
  if (auto* dir = ::opendir("/proc/self/task")) {
    while (auto* entry = ::readdir(dir))
      count += entry->d_name[0] != '.';
    ::closedir(dir);
  }
  return count;
}

std::string error_name(const json::value& reply) {
  const auto& object = reply.as_object();
  if (!object.contains("error"))
    return "";
  return std::string{object.at("error").at("data").at("error").as_string()};
}

struct embedded_fixture {
  embedded_fixture() {
    caf_config.load<caf::io::middleman>();
    system.emplace(caf_config);
    settings.listen_port = 0;
    settings.extension_timeout_ms = 300;
  }

  ~embedded_fixture() {
    runtime.reset();
    for (auto& extension : extensions)
      caf::anon_send_exit(extension, caf::exit_reason::user_shutdown);
  }

  caf::actor_system_config caf_config;
  std::optional<caf::actor_system> system;
  corral::config settings;
  std::unique_ptr<corral::runtime> runtime;
  std::vector<caf::actor> extensions;
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(embedding, embedded_fixture)

BOOST_AUTO_TEST_CASE(extension_methods_over_tcp) {
  auto started = corral::runtime::start(*system, settings);
  BOOST_REQUIRE(started);
  runtime = std::move(*started);
  extensions.push_back(system->spawn(echo_extension));
  BOOST_REQUIRE(runtime->add_extension("echo", extensions.back()));
  auto port = runtime->listen();
  BOOST_REQUIRE(port);
  auto client =
      corral::client::connect("127.0.0.1", *port, std::chrono::seconds{5});

  auto reply = client.call("echo.hello", {{"x", 1}});
  const auto& result = reply.at("result").as_object();
  BOOST_TEST(result.at("method").as_string() == "echo.hello");
  BOOST_TEST(result.at("params").at("x").as_int64() == 1);
  BOOST_TEST(result.at("has_client").as_bool());

  BOOST_TEST(error_name(client.call("other.hello")) == "METHOD_NOT_FOUND");
  BOOST_TEST(error_name(client.call("echo.invalid")) == "INTERNAL_ERROR");
}

BOOST_AUTO_TEST_CASE(failing_extensions_cost_one_request) {
  auto started = corral::runtime::start(*system, settings);
  BOOST_REQUIRE(started);
  runtime = std::move(*started);
  extensions.push_back(system->spawn(echo_extension));
  BOOST_REQUIRE(runtime->add_extension("echo", extensions.back()));
  auto port = runtime->listen();
  BOOST_REQUIRE(port);
  auto client =
      corral::client::connect("127.0.0.1", *port, std::chrono::seconds{5});

  BOOST_TEST(error_name(client.call("echo.silent")) == "INTERNAL_ERROR");
  BOOST_TEST(error_name(client.call("echo.throw")) == "INTERNAL_ERROR");
  // The actor died with its exception; its namespace now fails fast, and
  // everything else keeps working on the same connection.
  BOOST_TEST(error_name(client.call("echo.hello")) == "INTERNAL_ERROR");
  auto pong = client.call("system.ping");
  BOOST_TEST(pong.at("result").at("pong").as_bool());
}

BOOST_AUTO_TEST_CASE(builtin_namespaces_cannot_be_taken) {
  auto started = corral::runtime::start(*system, settings);
  BOOST_REQUIRE(started);
  runtime = std::move(*started);
  extensions.push_back(system->spawn(echo_extension));
  BOOST_TEST(!runtime->add_extension("exec", extensions.back()));
  BOOST_TEST(!runtime->add_extension("a.b", extensions.back()));
}

BOOST_AUTO_TEST_CASE(runs_command_by_message) {
  auto started = corral::runtime::start(*system, settings);
  BOOST_REQUIRE(started);
  runtime = std::move(*started);
  caf::scoped_actor self{*system};

  std::string session;
  self->request(runtime->supervisor(), caf::infinite,
                corral::actors::create_atom::value,
                corral::protocol::session_options{})
      .receive([&](corral::protocol::session_info& info) { session = info.id; },
               [](caf::error&) {});
  BOOST_REQUIRE(!session.empty());

  corral::protocol::exec_request request;
  request.session = session;
  request.command = "echo by-message";
  std::string out;
  self->request(runtime->supervisor(), caf::infinite,
                corral::actors::run_atom::value, request)
      .receive(
          [&](corral::protocol::exec_result& result) { out = result.out.data; },
          [](caf::error&) {});
  BOOST_TEST(out == "by-message\n");
}

BOOST_AUTO_TEST_CASE(typed_handle_drives_sessions) {
  auto started = corral::runtime::start(*system, settings);
  BOOST_REQUIRE(started);
  runtime = std::move(*started);
  auto supervisor = runtime->typed_supervisor();
  caf::scoped_actor self{*system};
  auto fail = [](caf::error& error) {
    BOOST_FAIL("request failed: " << caf::to_string(error));
  };

  std::string session;
  self->request(supervisor, caf::infinite, corral::actors::create_atom::value,
                corral::protocol::session_options{})
      .receive([&](corral::protocol::session_info& info) { session = info.id; },
               fail);
  BOOST_REQUIRE(!session.empty());

  corral::protocol::exec_request request;
  request.session = session;
  request.command = "echo typed";
  self->request(supervisor, caf::infinite, corral::actors::run_atom::value,
                request)
      .receive(
          [&](corral::protocol::exec_result& result) {
            BOOST_TEST(result.out.data == "typed\n");
          },
          fail);

  self->request(supervisor, caf::infinite, corral::actors::list_atom::value)
      .receive(
          [&](std::vector<corral::protocol::session_info>& sessions) {
            BOOST_TEST(sessions.size() == 1u);
          },
          fail);
  self->request(supervisor, caf::infinite, corral::actors::stats_atom::value)
      .receive(
          [&](corral::protocol::system_stats& stats) {
            BOOST_TEST(stats.commands_finished == 1u);
          },
          fail);
  self->request(supervisor, caf::infinite, corral::actors::destroy_atom::value,
                session)
      .receive(
          [&](std::string& destroyed) { BOOST_TEST(destroyed == session); },
          fail);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(embedding_lifecycle)

BOOST_AUTO_TEST_CASE(start_stop_twice_leaves_nothing) {
  auto threads_before = thread_count();
  for (int round = 0; round < 2; ++round) {
    BOOST_TEST_CONTEXT("round " << round) {
      caf::actor_system_config caf_config;
      caf_config.load<caf::io::middleman>();
      caf::actor_system system{caf_config};
      corral::config settings;
      settings.listen_port = 0;
      auto started = corral::runtime::start(system, settings);
      BOOST_REQUIRE(started);
      auto& runtime = **started;
      BOOST_REQUIRE(runtime.listen());
      caf::scoped_actor self{system};
      std::string session;
      self->request(runtime.supervisor(), caf::infinite,
                    corral::actors::create_atom::value,
                    corral::protocol::session_options{})
          .receive(
              [&](corral::protocol::session_info& info) { session = info.id; },
              [](caf::error&) {});
      corral::protocol::exec_request request;
      request.session = session;
      request.command = "sleep 30 & echo started";
      self->request(runtime.supervisor(), caf::infinite,
                    corral::actors::run_atom::value, request)
          .receive([](corral::protocol::exec_result&) {}, [](caf::error&) {});
      runtime.stop();
    }
  }
  BOOST_TEST(thread_count() == threads_before);
  // Neither round left its cgroups behind, in any hierarchy.
  auto own_name = "corral-" + std::to_string(::getpid());
  std::ifstream self_cgroup{"/proc/self/cgroup"};
  std::string line;
  while (std::getline(self_cgroup, line)) {
    auto second_colon = line.find(':', line.find(':') + 1);
    auto controllers =
        line.substr(line.find(':') + 1, second_colon - line.find(':') - 1);
    auto path = line.substr(second_colon + 1);
    if (controllers.empty() || controllers.find("name=") == 0)
      continue;
    auto directory = "/sys/fs/cgroup/" +
                     controllers.substr(0, controllers.find(',')) +
                     (path == "/" ? "" : path) + "/" + own_name;
    BOOST_TEST_CONTEXT("cgroup directory " << directory) {
      BOOST_TEST(::access(directory.c_str(), F_OK) != 0);
    }
  }
  // The background sleep of each round died with its session.
  auto* dir = ::opendir("/proc");
  int children = 0;
  while (auto* entry = dir ? ::readdir(dir) : nullptr) {
    std::string stat_path = std::string{"/proc/"} + entry->d_name + "/stat";
    std::ifstream stat{stat_path};
    std::string text;
    std::getline(stat, text);
    auto close = text.rfind(')');
    if (close == std::string::npos)
      continue;
    std::istringstream rest{text.substr(close + 2)};
    char state = 0;
    pid_t parent = 0;
    rest >> state >> parent;
    if (parent == ::getpid() && state != 'Z')
      ++children;
  }
  if (dir)
    ::closedir(dir);
  BOOST_TEST(children == 0);
}

BOOST_AUTO_TEST_SUITE_END()
