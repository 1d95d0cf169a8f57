// Start-up and shutdown of a real corrald: the drain on SIGTERM, the kill on
// a second signal, and configuration errors.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <string>
#include <thread>
#include <vector>

#include "integration/daemon.hpp"

namespace json = boost::json;
using namespace corral::testing;

namespace {

std::string text(const json::object& result, const char* key) {
  return std::string{result.at(key).as_string()};
}

// Starts `command` on a new connection of its own and returns it, so the
// reply can be read after the daemon was signalled.
corral::client start_command(const daemon_process& corrald,
                             const std::string& command) {
  auto client = corrald.connect();
  auto session = create_session(client);
  client.send_line(R"({"id":"cmd","method":"exec.run","params":{"session":")" +
                   session + R"(","command":")" + command + R"("}})");
  return client;
}

json::object read_result(corral::client& client, std::chrono::seconds limit) {
  auto line = client.read_line(limit);
  BOOST_REQUIRE_MESSAGE(line, "no reply within the limit");
  return result_of(json::parse(*line));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(lifecycle)

BOOST_AUTO_TEST_CASE(sigterm_lets_running_commands_finish) {
  daemon_process corrald;
  std::vector<corral::client> clients;
  for (int i = 0; i < 3; ++i)
    clients.push_back(start_command(corrald, "sleep 1; echo finished"));
  std::this_thread::sleep_for(std::chrono::milliseconds{300});

  corrald.send_signal(SIGTERM);
  for (auto& client : clients) {
    auto result = read_result(client, std::chrono::seconds{10});
    BOOST_TEST(text(result, "reason") == "exited");
    BOOST_TEST(text(result, "stdout") == "finished\n");
  }
  auto pid = corrald.pid();
  auto status = corrald.terminate(std::chrono::seconds{10});
  BOOST_REQUIRE(status);
  BOOST_TEST(WIFEXITED(*status));
  BOOST_TEST(WEXITSTATUS(*status) == 0);
  BOOST_TEST(descendants(pid) == 0);
}

BOOST_AUTO_TEST_CASE(drain_deadline_kills_with_reason_shutdown) {
  daemon_process corrald{{"--drain-timeout-s", "1"}};
  auto client = start_command(corrald, "sleep 30");
  std::this_thread::sleep_for(std::chrono::milliseconds{300});

  corrald.send_signal(SIGTERM);
  auto result = read_result(client, std::chrono::seconds{10});
  BOOST_TEST(text(result, "reason") == "shutdown");
  auto status = corrald.terminate(std::chrono::seconds{10});
  BOOST_REQUIRE(status);
  BOOST_TEST(WEXITSTATUS(*status) == 0);
}

BOOST_AUTO_TEST_CASE(second_signal_kills_at_once) {
  daemon_process corrald;  // drain timeout 30 s: only the second signal ends it
  auto client = start_command(corrald, "sleep 30");
  std::this_thread::sleep_for(std::chrono::milliseconds{300});

  corrald.send_signal(SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds{300});
  corrald.send_signal(SIGINT);
  auto result = read_result(client, std::chrono::seconds{10});
  BOOST_TEST(text(result, "reason") == "shutdown");
  auto status = corrald.terminate(std::chrono::seconds{10});
  BOOST_REQUIRE(status);
  BOOST_TEST(WEXITSTATUS(*status) == 0);
}

BOOST_AUTO_TEST_CASE(draining_daemon_rejects_new_work) {
  daemon_process corrald;
  auto client = start_command(corrald, "sleep 1");
  auto other = corrald.connect();
  std::this_thread::sleep_for(std::chrono::milliseconds{300});

  corrald.send_signal(SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds{200});
  auto reply = other.call("session.create");
  BOOST_TEST(error_name(reply) == "SHUTTING_DOWN");
  read_result(client, std::chrono::seconds{10});
}

BOOST_AUTO_TEST_CASE(invalid_configuration_exits_with_message) {
  auto corrald = program_path("CORRALD");
  std::string command = corrald + " --max-sessions 0 2>&1";
  auto* pipe = ::popen(command.c_str(), "r");
  BOOST_REQUIRE(pipe != nullptr);
  std::string output;
  char buffer[512];
  while (auto read = ::fread(buffer, 1, sizeof buffer, pipe))
    output.append(buffer, read);
  auto status = ::pclose(pipe);
  BOOST_TEST(WEXITSTATUS(status) == 2);
  BOOST_TEST(output.find("max_sessions") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
