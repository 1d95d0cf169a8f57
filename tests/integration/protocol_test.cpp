// The wire protocol against a real corrald: bad input of every kind,
// concurrency on one connection, batches, disconnects and many clients.

#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "integration/daemon.hpp"

namespace json = boost::json;
using namespace corral::testing;

namespace {

json::value next_reply(corral::client& client) {
  auto line = client.read_line(std::chrono::seconds{10});
  BOOST_REQUIRE_MESSAGE(line, "no reply within 10 s");
  return json::parse(*line);
}

std::string text(const json::object& result, const char* key) {
  return std::string{result.at(key).as_string()};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(wire)

BOOST_AUTO_TEST_CASE(bad_requests_get_errors_and_connection_survives) {
  daemon_process corrald;
  auto client = corrald.connect();
  struct bad_case {
    const char* line;
    const char* error;
  };
  const bad_case cases[] = {
      {"{not json", "PARSE_ERROR"},
      {"42", "INVALID_REQUEST"},
      {R"({"id":1})", "INVALID_REQUEST"},
      {R"({"id":1,"method":7})", "INVALID_REQUEST"},
      {R"({"id":1,"method":"no.such"})", "METHOD_NOT_FOUND"},
      {R"({"id":1,"method":"exec.run","params":{"session":5,"command":"x"}})",
       "INVALID_PARAMS"},
      {R"({"id":1,"method":"exec.run","params":{"session":"s-404","command":"x"}})",
       "SESSION_NOT_FOUND"},
      {R"({"id":1,"method":"session.create","params":{"cwd":"/no/such/dir"}})",
       "INVALID_PARAMS"},
  };
  for (const auto& bad : cases) {
    BOOST_TEST_CONTEXT("request " << bad.line) {
      client.send_line(bad.line);
      auto reply = next_reply(client);
      BOOST_TEST(error_name(reply) == bad.error);
      BOOST_TEST(reply.as_object().at("jsonrpc").as_string() == "2.0");
    }
  }
  auto pong = result_of(client.call("system.ping"));
  BOOST_TEST(pong.at("pong").as_bool());
}

BOOST_AUTO_TEST_CASE(oversized_line_rejected_then_resynchronised) {
  daemon_process corrald{{"--max-stdin-bytes", "1024"}};
  auto client = corrald.connect();

  client.send_line(std::string(200000, 'x'));
  auto reply = next_reply(client);
  BOOST_TEST(error_name(reply) == "REQUEST_TOO_LARGE");
  auto pong = result_of(client.call("system.ping"));
  BOOST_TEST(pong.at("pong").as_bool());
}

BOOST_AUTO_TEST_CASE(slow_command_does_not_delay_others) {
  daemon_process corrald;
  auto client = corrald.connect();
  auto slow = create_session(client);
  auto fast = create_session(client);

  client.send_line(R"({"id":"slow","method":"exec.run","params":{"session":")" +
                   slow + R"(","command":"sleep 1; echo slow"}})");
  client.send_line(R"({"id":"ping","method":"system.ping"})");
  client.send_line(R"({"id":"fast","method":"exec.run","params":{"session":")" +
                   fast + R"(","command":"echo fast"}})");

  std::vector<std::string> order;
  for (int i = 0; i < 3; ++i)
    order.emplace_back(next_reply(client).as_object().at("id").as_string());
  BOOST_TEST(order.back() == "slow");
}

BOOST_AUTO_TEST_CASE(batch_and_notification) {
  daemon_process corrald;
  auto client = corrald.connect();

  client.send_line(R"([{"id":1,"method":"system.ping"},)"
                   R"({"method":"system.ping"},)"
                   R"({"id":2,"method":"no.such"}, 5])");
  auto reply = next_reply(client);
  BOOST_REQUIRE(reply.is_array());
  BOOST_TEST(reply.as_array().size() == 3u);

  // A notification alone gets no reply: the next reply is the ping's.
  client.send_line(R"({"method":"system.ping"})");
  client.send_line(R"({"id":"after","method":"system.ping"})");
  BOOST_TEST(next_reply(client).as_object().at("id").as_string() == "after");
}

BOOST_AUTO_TEST_CASE(disconnect_does_not_cancel_command) {
  daemon_process corrald;
  char pattern[] = "/tmp/corral-disconnect-XXXXXX";
  BOOST_REQUIRE(::mkdtemp(pattern) != nullptr);
  std::string marker = std::string{pattern} + "/done";

  std::string session;
  {
    auto client = corrald.connect();
    session = create_session(client);
    client.send_line(R"({"id":1,"method":"exec.run","params":{"session":")" +
                     session + R"(","command":"sleep 1; echo done > )" +
                     marker + R"("}})");
    std::this_thread::sleep_for(std::chrono::milliseconds{200});
  }
  std::this_thread::sleep_for(std::chrono::milliseconds{2000});
  BOOST_TEST(static_cast<bool>(std::ifstream{marker}));

  auto client = corrald.connect();
  auto list = result_of(client.call("session.list"));
  BOOST_TEST(list.at("sessions").as_array().size() == 1u);
  auto result = result_of(run(client, session, "echo again"));
  BOOST_TEST(text(result, "stdout") == "again\n");
  ::unlink(marker.c_str());
  ::rmdir(pattern);
}

BOOST_AUTO_TEST_CASE(fifty_concurrent_clients) {
  // All clients connect from 127.0.0.1, which is one client identity.
  daemon_process corrald{
      {"--max-commands", "64", "--max-sessions-per-client", "50"}};
  constexpr int clients = 50;
  std::atomic<int> succeeded{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      try {
        auto client = corrald.connect();
        auto reply = client.call("session.create");
        auto session =
            std::string{reply.at("result").at("session").as_string()};
        reply = client.call(
            "exec.run",
            {{"session", session}, {"command", "echo " + std::to_string(i)}});
        auto out = reply.at("result").at("stdout").as_string();
        client.call("session.destroy", {{"session", session}});
        if (out == std::to_string(i) + "\n")
          ++succeeded;
      } catch (const std::exception&) {
        // Counted as a failure below.
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  BOOST_TEST(succeeded.load() == clients);
}

BOOST_AUTO_TEST_CASE(connection_limit_sends_error_line) {
  daemon_process corrald{{"--max-connections", "2"}};
  auto first = corrald.connect();
  auto second = corrald.connect();
  result_of(first.call("system.ping"));
  result_of(second.call("system.ping"));

  auto third = corrald.connect();
  auto line = third.read_line(std::chrono::seconds{5});
  BOOST_REQUIRE(line);
  BOOST_TEST(error_name(json::parse(*line)) == "CONNECTION_LIMIT");
}

BOOST_AUTO_TEST_SUITE_END()
