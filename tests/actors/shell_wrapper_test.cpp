#include "actors/shell_wrapper.hpp"

#include <boost/test/unit_test.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "isolation/process_service.hpp"

using corral::actors::parse_shell_state;
using corral::actors::wrap_command;
using namespace std::string_literals;

namespace {

// Runs the wrapped `command` with /bin/sh, with descriptor 8 redirected to
// a file, and returns what the wrapper wrote there.
std::string run_wrapped(const std::string& command) {
  char path[] = "/tmp/corral-wrapper-XXXXXX";
  int fd = ::mkstemp(path);
  BOOST_REQUIRE(fd >= 0);
  auto pid = ::fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(fd, corral::isolation::state_fd);
    auto script = wrap_command(command);
    ::execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(fd);
  std::ifstream in{path, std::ios::binary};
  std::stringstream content;
  content << in.rdbuf();
  ::unlink(path);
  return content.str();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(shell_wrapper)

BOOST_AUTO_TEST_CASE(parses_status_cwd_and_environment) {
  auto report = "3\0/usr\0FOO=a b\0PATH=/bin\0EMPTY=\0"s;
  auto state = parse_shell_state(report);
  BOOST_REQUIRE(state);
  BOOST_TEST(state->exit_code == 3);
  BOOST_TEST(state->cwd == "/usr");
  BOOST_TEST(state->env.at("FOO") == "a b");
  BOOST_TEST(state->env.at("PATH") == "/bin");
  BOOST_TEST(state->env.at("EMPTY") == "");
}

BOOST_AUTO_TEST_CASE(keeps_values_with_newlines_and_equals) {
  auto state = parse_shell_state("0\0/\0A=x=y\nz\0"s);
  BOOST_REQUIRE(state);
  BOOST_TEST(state->env.at("A") == "x=y\nz");
}

BOOST_AUTO_TEST_CASE(drops_shell_maintained_variables) {
  auto state = parse_shell_state("0\0/\0PWD=/\0SHLVL=1\0_=/bin/env\0X=1\0"s);
  BOOST_REQUIRE(state);
  BOOST_TEST(state->env.size() == 1u);
  BOOST_TEST(state->env.count("X") == 1u);
}

BOOST_AUTO_TEST_CASE(rejects_incomplete_reports) {
  const std::array<std::string, 6> reports = {
    ""s, "0"s, "0\0"s, "x\0/\0"s, "0\0/\0A=1"s, "\0/\0"s};
  for (const auto& report : reports) {
    BOOST_TEST_CONTEXT("report of " << report.size() << " bytes") {
      BOOST_TEST(!parse_shell_state(report));
    }
  }
}

BOOST_AUTO_TEST_CASE(wrapper_reports_cd_and_export) {
  auto state = parse_shell_state(
    run_wrapped("cd /usr && export CORRAL_X='a b' && exit 7"));
  BOOST_REQUIRE(state);
  BOOST_TEST(state->exit_code == 7);
  BOOST_TEST(state->cwd == "/usr");
  BOOST_TEST(state->env.at("CORRAL_X") == "a b");
}

BOOST_AUTO_TEST_CASE(wrapper_reports_syntax_error_status) {
  auto state = parse_shell_state(run_wrapped("if then"));
  BOOST_REQUIRE(state);
  BOOST_TEST(state->exit_code == 2);
}

BOOST_AUTO_TEST_CASE(wrapper_survives_changed_path) {
  auto state = parse_shell_state(run_wrapped("export PATH=/nonexistent"));
  BOOST_REQUIRE(state);
  BOOST_TEST(state->env.at("PATH") == "/nonexistent");
}

BOOST_AUTO_TEST_SUITE_END()
