// exec.run against a real corrald: output, exit status, session state,
// stdin, encodings, timeouts and caps.

#include <signal.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "integration/daemon.hpp"
#include "protocol/utf8.hpp"

namespace json = boost::json;
using namespace corral::testing;

namespace {

std::string text(const json::object& result, const char* key) {
  return std::string{result.at(key).as_string()};
}

std::int64_t number(const json::object& result, const char* key) {
  return result.at(key).to_number<std::int64_t>();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(exec)

BOOST_AUTO_TEST_CASE(runs_command_and_reports_exit) {
  daemon_process corrald;
  auto client = corrald.connect();
  auto session = create_session(client);

  auto result =
      result_of(run(client, session, "echo out; echo err >&2; exit 3"));
  BOOST_TEST(text(result, "stdout") == "out\n");
  BOOST_TEST(text(result, "stderr") == "err\n");
  BOOST_TEST(number(result, "exit_code") == 3);
  BOOST_TEST(result.at("signal").is_null());
  BOOST_TEST(text(result, "reason") == "exited");
  BOOST_TEST(number(result, "stdout_bytes") == 4);
  BOOST_TEST(result.at("stdout_truncated").as_bool() == false);
  BOOST_TEST(number(result, "pid") > 0);
  BOOST_TEST(result.at("usage").is_object());
}

BOOST_AUTO_TEST_CASE(cd_and_export_persist) {
  daemon_process corrald;
  auto client = corrald.connect();
  auto session = create_session(client);

  result_of(run(client, session, "cd /usr && export GREETING='hello world'"));
  auto result = result_of(run(client, session, "pwd; echo \"$GREETING\""));
  BOOST_TEST(text(result, "stdout") == "/usr\nhello world\n");

  result_of(run(client, session, "unset GREETING; cd lib"));
  result = result_of(run(client, session, "pwd; echo \"${GREETING-unset}\""));
  BOOST_TEST(text(result, "stdout") == "/usr/lib\nunset\n");
}

BOOST_AUTO_TEST_CASE(request_env_and_cwd_do_not_persist) {
  daemon_process corrald;
  auto client = corrald.connect();
  auto session = create_session(client, {{"env", {{"KEEP", "session"}}}});

  auto result = result_of(
      run(client, session, "pwd; echo $KEEP $ONCE",
          {{"cwd", "/usr"}, {"env", {{"ONCE", "1"}, {"KEEP", "request"}}}}));
  BOOST_TEST(text(result, "stdout") == "/usr\nrequest 1\n");

  result = result_of(run(client, session, "pwd; echo $KEEP ${ONCE-none}"));
  BOOST_TEST(text(result, "stdout") == "/tmp\nsession none\n");
}

BOOST_AUTO_TEST_CASE(exit_status_survives_exit_builtin) {
  daemon_process corrald;
  auto client = corrald.connect();
  auto session = create_session(client);

  auto result = result_of(run(client, session, "cd /; exit 42"));
  BOOST_TEST(number(result, "exit_code") == 42);
  result = result_of(run(client, session, "pwd"));
  BOOST_TEST(text(result, "stdout") == "/\n");
}

BOOST_AUTO_TEST_CASE(argv_runs_without_shell) {
  daemon_process corrald;
  auto client = corrald.connect();
  auto session = create_session(client);

  auto reply = client.call(
      "exec.run",
      {{"session", session}, {"argv", {"printf", "%s|", "a b", "$HOME"}}});
  BOOST_TEST(text(result_of(reply), "stdout") == "a b|$HOME|");
}

BOOST_AUTO_TEST_CASE(environment_is_clean) {
  daemon_process corrald;
  auto client = corrald.connect();
  auto session = create_session(client, {{"env", {{"MINE", "x"}}}});

  auto reply =
      client.call("exec.run", {{"session", session}, {"argv", {"env"}}});
  auto out = text(result_of(reply), "stdout");
  BOOST_TEST(out.find("PATH=") != std::string::npos);
  BOOST_TEST(out.find("HOME=") != std::string::npos);
  BOOST_TEST(out.find("LANG=C.UTF-8") != std::string::npos);
  BOOST_TEST(out.find("MINE=x") != std::string::npos);
  // ctest sets CORRALD for the daemon's own environment.
  BOOST_TEST(out.find("CORRALD=") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(no_daemon_descriptor_leaks) {
  daemon_process corrald;
  auto client = corrald.connect();
  auto session = create_session(client);

  // ls opens the directory it lists, which is descriptor 3.
  auto reply = client.call(
      "exec.run", {{"session", session}, {"argv", {"ls", "/proc/self/fd"}}});
  BOOST_TEST(text(result_of(reply), "stdout") == "0\n1\n2\n3\n");
}

BOOST_AUTO_TEST_CASE(signal_state_is_default) {
  daemon_process corrald;
  auto client = corrald.connect();
  auto session = create_session(client);

  auto result = result_of(
      run(client, session, "grep -E '^Sig(Blk|Ign)' /proc/self/status"));
  BOOST_TEST(text(result, "stdout") ==
             "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
}

BOOST_AUTO_TEST_CASE(stdin_text_and_base64) {
  daemon_process corrald;
  auto client = corrald.connect();
  auto session = create_session(client);

  auto result = result_of(run(client, session, "cat", {{"stdin", "line\n"}}));
  BOOST_TEST(text(result, "stdout") == "line\n");

  result = result_of(run(client, session, "od -An -tx1",
                         {{"stdin_base64", corral::protocol::base64_encode(
                                               std::string{"\x00\xff", 2})}}));
  BOOST_TEST(text(result, "stdout") == " 00 ff\n");
}

BOOST_AUTO_TEST_CASE(command_that_ignores_stdin) {
  daemon_process corrald;
  auto client = corrald.connect();
  auto session = create_session(client);

  auto result = result_of(
      run(client, session, "true", {{"stdin", std::string(512 * 1024, 'x')}}));
  BOOST_TEST(text(result, "reason") == "exited");
  BOOST_TEST(number(result, "exit_code") == 0);
}

BOOST_AUTO_TEST_CASE(stdin_over_cap_rejected_before_launch) {
  daemon_process corrald{{"--max-stdin-bytes", "1024"}};
  auto client = corrald.connect();
  auto session = create_session(client);

  auto reply = run(client, session, "touch /tmp/corral-must-not-exist",
                   {{"stdin", std::string(2000, 'x')}});
  BOOST_TEST(error_name(reply) == "STDIN_TOO_LARGE");
  auto stats = result_of(client.call("system.stats"));
  BOOST_TEST(number(stats, "commands_started") == 0);
}

BOOST_AUTO_TEST_CASE(binary_output_stays_valid_json) {
  daemon_process corrald;
  auto client = corrald.connect();
  auto session = create_session(client);

  auto result = result_of(run(client, session, "printf 'a\\377\\376b'"));
  BOOST_TEST(result.at("stdout_lossy").as_bool());
  BOOST_TEST(text(result, "stdout") ==
             "a\xEF\xBF\xBD\xEF\xBF\xBD"
             "b");

  result = result_of(run(client, session, "printf 'a\\377\\376b'",
                         {{"output_encoding", "base64"}}));
  std::string decoded;
  BOOST_TEST(corral::protocol::base64_decode(text(result, "stdout"), decoded));
  BOOST_TEST(decoded ==
             "a\xff\xfe"
             "b");
}

BOOST_AUTO_TEST_CASE(large_output_capped_without_blocking) {
  daemon_process corrald;
  auto client = corrald.connect();
  auto session = create_session(client);

  auto result = result_of(run(client, session, "yes | head -c 104857600"));
  BOOST_TEST(text(result, "reason") == "exited");
  BOOST_TEST(number(result, "exit_code") == 0);
  BOOST_TEST(number(result, "stdout_bytes") == 104857600);
  BOOST_TEST(result.at("stdout_truncated").as_bool());
  BOOST_TEST(result.at("stdout").as_string().size() == 4u * 1024 * 1024);
}

BOOST_AUTO_TEST_CASE(background_child_does_not_hold_result) {
  daemon_process corrald;
  auto client = corrald.connect();
  auto session = create_session(client);

  auto begin = std::chrono::steady_clock::now();
  auto result = result_of(run(client, session, "sleep 30 & echo $!"));
  auto elapsed_s = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::steady_clock::now() - begin)
                       .count();
  BOOST_TEST(elapsed_s < 10);
  auto sleeper = std::stoi(text(result, "stdout"));
  BOOST_TEST(process_alive(sleeper));

  // The background process belongs to the session until it is destroyed.
  result_of(client.call("session.destroy", {{"session", session}}));
  std::this_thread::sleep_for(std::chrono::milliseconds{500});
  BOOST_TEST(!process_alive(sleeper));
}

BOOST_AUTO_TEST_CASE(timeout_kills_grandchildren_ignoring_sigterm) {
  daemon_process corrald{{"--kill-grace-ms", "1000"}};
  auto client = corrald.connect();
  auto session = create_session(client);

  auto result = result_of(run(
      client, session,
      "sh -c 'trap \"\" TERM; sleep 30' & sh -c 'trap \"\" TERM; sleep 30' & "
      "wait",
      {{"timeout_s", 1}}));
  BOOST_TEST(text(result, "reason") == "timeout");
  BOOST_TEST(result.at("exit_code").is_null());
  BOOST_TEST(text(result, "signal") == "SIGTERM");

  std::this_thread::sleep_for(std::chrono::milliseconds{500});
  BOOST_TEST(descendants(corrald.pid()) == 0);
}

BOOST_AUTO_TEST_CASE(cancel_ends_running_command) {
  daemon_process corrald;
  auto runner = corrald.connect();
  auto other = corrald.connect();
  auto session = create_session(runner);

  runner.send_line(R"({"id":"run","method":"exec.run","params":{"session":")" +
                   session + R"(","command":"sleep 30"}})");
  std::this_thread::sleep_for(std::chrono::milliseconds{300});
  auto cancel = other.call("exec.cancel", {{"session", session}});
  BOOST_TEST(text(result_of(cancel), "cancelled") == session);

  auto line = runner.read_line(std::chrono::seconds{10});
  BOOST_REQUIRE(line);
  auto result = result_of(json::parse(*line));
  BOOST_TEST(text(result, "reason") == "cancelled");

  auto nothing = other.call("exec.cancel", {{"session", session}});
  BOOST_TEST(error_name(nothing) == "COMMAND_NOT_FOUND");
}

BOOST_AUTO_TEST_CASE(missing_program_is_spawn_failure) {
  daemon_process corrald;
  auto client = corrald.connect();
  auto session = create_session(client);

  auto reply = client.call(
      "exec.run", {{"session", session}, {"argv", {"/no/such/program"}}});
  BOOST_TEST(error_name(reply) == "SPAWN_FAILED");
  auto result = result_of(run(client, session, "echo still usable"));
  BOOST_TEST(text(result, "stdout") == "still usable\n");
}

BOOST_AUTO_TEST_SUITE_END()
