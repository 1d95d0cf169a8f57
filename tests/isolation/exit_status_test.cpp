#include "isolation/exit_status.hpp"

#include <signal.h>
#include <sys/wait.h>

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

using namespace corral::isolation;

namespace {

// A raw status as wait4 reports it for a process killed by `signal`.
int signaled_status(int signal, bool core_dumped = false) {
  return signal | (core_dumped ? WCOREFLAG : 0);
}

exit_status exited_with(int code) {
  exit_status status;
  status.exit_code = code;
  return status;
}

exit_status killed_by(int signal) {
  exit_status status;
  status.signal = signal;
  return status;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(exit_status_test)

BOOST_AUTO_TEST_CASE(decode_exit_codes) {
  for (int code : {0, 1, 3, 127, 255}) {
    BOOST_TEST_CONTEXT("exit code " << code) {
      exit_status status = decode_wait_status(W_EXITCODE(code, 0));
      BOOST_TEST_REQUIRE(status.exit_code.has_value());
      BOOST_TEST(*status.exit_code == code);
      BOOST_TEST(status.signal == 0);
      BOOST_TEST(!status.core_dumped);
    }
  }
}

BOOST_AUTO_TEST_CASE(decode_signals_and_core) {
  struct row {
    int raw;
    int signal;
    bool core_dumped;
  };
  const std::vector<row> rows = {
      {signaled_status(SIGKILL), SIGKILL, false},
      {signaled_status(SIGTERM), SIGTERM, false},
      {signaled_status(SIGXCPU, true), SIGXCPU, true},
      {signaled_status(SIGSEGV, true), SIGSEGV, true},
      {signaled_status(SIGRTMIN + 1), SIGRTMIN + 1, false},
  };
  for (const row& row : rows) {
    BOOST_TEST_CONTEXT("raw status " << row.raw) {
      exit_status status = decode_wait_status(row.raw);
      BOOST_TEST(!status.exit_code.has_value());
      BOOST_TEST(status.signal == row.signal);
      BOOST_TEST(status.core_dumped == row.core_dumped);
    }
  }
}

BOOST_AUTO_TEST_CASE(signal_names_with_prefix) {
  struct row {
    int signal;
    std::string name;
  };
  const std::vector<row> rows = {
      {SIGHUP, "SIGHUP"},   {SIGKILL, "SIGKILL"}, {SIGTERM, "SIGTERM"},
      {SIGXCPU, "SIGXCPU"}, {SIGSEGV, "SIGSEGV"}, {SIGPIPE, "SIGPIPE"},
      {0, "SIG0"},          {34, "SIG34"},        {64, "SIG64"},
      {200, "SIG200"},
  };
  for (const row& row : rows) {
    BOOST_TEST_CONTEXT("signal " << row.signal) {
      BOOST_TEST(signal_name(row.signal) == row.name);
    }
  }
}

BOOST_AUTO_TEST_CASE(reason_protocol_names) {
  struct row {
    termination_reason reason;
    std::string name;
  };
  const std::vector<row> rows = {
      {termination_reason::exited, "exited"},
      {termination_reason::signaled, "signaled"},
      {termination_reason::timeout, "timeout"},
      {termination_reason::cpu_limit, "cpu_limit"},
      {termination_reason::memory_limit, "memory_limit"},
      {termination_reason::cancelled, "cancelled"},
      {termination_reason::shutdown, "shutdown"},
  };
  for (const row& row : rows) {
    BOOST_TEST_CONTEXT("reason " << row.name) {
      BOOST_TEST(std::string(to_string(row.reason)) == row.name);
    }
  }
}

BOOST_AUTO_TEST_CASE(classify_reason_table) {
  struct row {
    const char* name;
    exit_status status;
    kill_cause cause;
    std::uint64_t cpu_limit_sec;
    double cpu_sec;
    termination_reason expected;
  };
  const kill_cause none{};
  const kill_cause timed_out{true, false, false};
  const kill_cause cancelled{false, true, false};
  const kill_cause shutdown{false, false, true};
  const kill_cause all{true, true, true};
  const kill_cause cancelled_at_shutdown{false, true, true};
  const std::vector<row> rows = {
      {"exit 0", exited_with(0), none, 0, 0.0, termination_reason::exited},
      {"exit 1", exited_with(1), none, 0, 0.0, termination_reason::exited},
      {"exit under a cpu limit", exited_with(0), none, 2, 3.5,
       termination_reason::exited},
      {"SIGTERM from elsewhere", killed_by(SIGTERM), none, 0, 0.0,
       termination_reason::signaled},
      {"SIGKILL from elsewhere", killed_by(SIGKILL), none, 0, 0.0,
       termination_reason::signaled},
      {"timeout kill", killed_by(SIGKILL), timed_out, 0, 0.0,
       termination_reason::timeout},
      {"timeout after a clean exit", exited_with(0), timed_out, 0, 0.0,
       termination_reason::timeout},
      {"cancel kill", killed_by(SIGTERM), cancelled, 0, 0.0,
       termination_reason::cancelled},
      {"shutdown kill", killed_by(SIGKILL), shutdown, 0, 0.0,
       termination_reason::shutdown},
      {"timeout wins over cancel and shutdown", killed_by(SIGKILL), all, 0, 0.0,
       termination_reason::timeout},
      {"cancel wins over shutdown", killed_by(SIGKILL), cancelled_at_shutdown,
       0, 0.0, termination_reason::cancelled},
      {"SIGXCPU", killed_by(SIGXCPU), none, 1, 1.0,
       termination_reason::cpu_limit},
      {"SIGXCPU during a timeout", killed_by(SIGXCPU), timed_out, 1, 1.0,
       termination_reason::timeout},
      {"SIGKILL at the hard cpu limit", killed_by(SIGKILL), none, 2, 3.0,
       termination_reason::cpu_limit},
      {"SIGKILL past the hard cpu limit", killed_by(SIGKILL), none, 2, 3.2,
       termination_reason::cpu_limit},
      {"SIGKILL below the hard cpu limit", killed_by(SIGKILL), none, 2, 2.9,
       termination_reason::signaled},
      {"SIGKILL without a cpu limit", killed_by(SIGKILL), none, 0, 10.0,
       termination_reason::signaled},
      {"SIGTERM past the hard cpu limit", killed_by(SIGTERM), none, 2, 3.5,
       termination_reason::signaled},
  };
  for (const row& row : rows) {
    BOOST_TEST_CONTEXT(row.name) {
      termination_reason reason =
          classify(row.status, row.cause, row.cpu_limit_sec, row.cpu_sec);
      BOOST_TEST(std::string(to_string(reason)) ==
                 std::string(to_string(row.expected)));
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
