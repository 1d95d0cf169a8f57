// Runaway commands against a real corrald. Each case checks afterwards that
// the daemon still responds and that another session still runs commands.

#include <pwd.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <string>
#include <thread>

#include "integration/daemon.hpp"

namespace json = boost::json;
using namespace corral::testing;

namespace {

std::string text(const json::object& result, const char* key) {
  return std::string{result.at(key).as_string()};
}

std::int64_t number(const json::object& result, const char* key) {
  return result.at(key).to_number<std::int64_t>();
}

// The daemon responds and a fresh session runs a command.
void check_daemon_healthy(const daemon_process& corrald) {
  auto client = corrald.connect();
  auto pong = result_of(client.call("system.ping"));
  BOOST_TEST(pong.at("pong").as_bool());
  auto session = create_session(client);
  auto result = result_of(run(client, session, "echo healthy"));
  BOOST_TEST(text(result, "stdout") == "healthy\n");
  result_of(client.call("session.destroy", {{"session", session}}));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(faults)

BOOST_AUTO_TEST_CASE(cpu_spin_stopped_by_rlimit_cpu) {
  daemon_process corrald;
  auto client = corrald.connect();
  auto session = create_session(client, {{"limits", {{"cpu_sec", 1}}}});

  auto result = result_of(
      run(client, session, "while :; do :; done", {{"timeout_s", 30}}));
  BOOST_TEST(text(result, "reason") == "cpu_limit");
  BOOST_TEST(text(result, "signal") == "SIGXCPU");
  check_daemon_healthy(corrald);
}

BOOST_AUTO_TEST_CASE(allocation_past_rlimit_as_fails_inside) {
  daemon_process corrald;
  auto client = corrald.connect();
  auto session = create_session(
      client, {{"limits", {{"memory_bytes", 256ll * 1024 * 1024}}}});

  auto helper = program_path("CORRAL_TEST_HELPER");
  auto result = result_of(run(client, session, helper + " alloc 512"));
  BOOST_TEST(number(result, "exit_code") == 3);
  BOOST_TEST(text(result, "stdout").find("allocation failed") !=
             std::string::npos);
  check_daemon_healthy(corrald);
}

BOOST_AUTO_TEST_CASE(descriptor_exhaustion_stopped_by_nofile) {
  daemon_process corrald{{"--limit-nofile", "64"}};
  auto client = corrald.connect();
  auto session = create_session(client);

  auto helper = program_path("CORRAL_TEST_HELPER");
  auto result = result_of(run(client, session, helper + " open-fds 100000"));
  BOOST_TEST(number(result, "exit_code") == 4);
  BOOST_TEST(text(result, "stdout").find("EMFILE") != std::string::npos);
  check_daemon_healthy(corrald);
}

BOOST_AUTO_TEST_CASE(fork_bomb_stopped_by_nproc_as_nobody) {
  auto* nobody = ::getpwnam("nobody");
  if (nobody == nullptr) {
    BOOST_TEST_MESSAGE("skipped: this host has no user \"nobody\"");
    return;
  }
  auto before = processes_of_user(nobody->pw_uid).size();
  daemon_process corrald{{"--run-as", "nobody", "--limit-nproc", "40"}};
  auto client = corrald.connect();
  auto bomb_session = create_session(client);

  auto watcher = corrald.connect();
  // Boost.Test assertions are not thread-safe: the thread only stores.
  json::object bomb_reply;
  std::thread bomb{[&] {
    bomb_reply = run(client, bomb_session, "f() { f | f & }; f; sleep 2",
                     {{"timeout_s", 5}});
  }};
  std::this_thread::sleep_for(std::chrono::milliseconds{1000});
  // The daemon runs as root, outside the user's process budget.
  auto pong = result_of(watcher.call("system.ping"));
  BOOST_TEST(pong.at("pong").as_bool());
  auto during = processes_of_user(nobody->pw_uid).size();
  BOOST_TEST(during <= before + 40);
  bomb.join();
  // dash reports each fork that RLIMIT_NPROC refused.
  auto bomb_result = result_of(bomb_reply);
  BOOST_TEST(text(bomb_result, "stderr").find("Cannot fork") !=
             std::string::npos);

  result_of(client.call("session.destroy", {{"session", bomb_session}}));
  std::this_thread::sleep_for(std::chrono::milliseconds{500});
  BOOST_TEST(processes_of_user(nobody->pw_uid).size() == before);
  check_daemon_healthy(corrald);
}

BOOST_AUTO_TEST_CASE(session_busy_while_command_runs) {
  daemon_process corrald;
  auto runner = corrald.connect();
  auto other = corrald.connect();
  auto session = create_session(runner);

  runner.send_line(R"({"id":1,"method":"exec.run","params":{"session":")" +
                   session + R"(","command":"sleep 1"}})");
  std::this_thread::sleep_for(std::chrono::milliseconds{300});
  auto reply = run(other, session, "echo second");
  BOOST_TEST(error_name(reply) == "SESSION_BUSY");

  auto line = runner.read_line(std::chrono::seconds{10});
  BOOST_REQUIRE(line);
  BOOST_TEST(text(result_of(json::parse(*line)), "reason") == "exited");
  check_daemon_healthy(corrald);
}

BOOST_AUTO_TEST_CASE(session_limit_rejects_extra_session) {
  daemon_process corrald{{"--max-sessions", "2"}};
  auto client = corrald.connect();
  auto first = create_session(client);
  create_session(client);

  auto reply = client.call("session.create");
  BOOST_TEST(error_name(reply) == "SESSION_LIMIT");
  result_of(client.call("session.destroy", {{"session", first}}));
  check_daemon_healthy(corrald);
}

BOOST_AUTO_TEST_CASE(command_limit_rejects_extra_command) {
  daemon_process corrald{{"--max-commands", "1"}};
  auto runner = corrald.connect();
  auto other = corrald.connect();
  auto first = create_session(runner);
  auto second = create_session(other);

  runner.send_line(R"({"id":1,"method":"exec.run","params":{"session":")" +
                   first + R"(","command":"sleep 1"}})");
  std::this_thread::sleep_for(std::chrono::milliseconds{300});
  auto reply = run(other, second, "echo second");
  BOOST_TEST(error_name(reply) == "COMMAND_LIMIT");

  auto line = runner.read_line(std::chrono::seconds{10});
  BOOST_REQUIRE(line);
  BOOST_TEST(text(result_of(json::parse(*line)), "reason") == "exited");
  auto result = result_of(run(other, second, "echo second"));
  BOOST_TEST(text(result, "stdout") == "second\n");
}

BOOST_AUTO_TEST_CASE(orphans_are_reaped) {
  daemon_process corrald;
  auto client = corrald.connect();
  auto session = create_session(client);

  for (int i = 0; i < 5; ++i)
    result_of(run(client, session, "(sleep 0.1 &) ; (true &)"));
  std::this_thread::sleep_for(std::chrono::milliseconds{2500});
  BOOST_TEST(zombie_children(corrald.pid()) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
