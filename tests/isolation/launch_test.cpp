// The state a command starts in: streams, environment, arguments,
// working directory, limits, credentials, signals and descriptors. Every
// case runs a real process through process_service.

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <string>
#include <vector>

#include "command_runner.hpp"
#include "isolation/limits.hpp"
#include "isolation/process_service.hpp"

using namespace corral::isolation;
using namespace corral::isolation::testing;

namespace {

struct service_fixture {
  process_service service;
};

// Returns the hexadecimal mask after `field` ("SigBlk:") in the output of
// `corral-test-helper sigmask`, or an empty string when it is missing.
std::string mask_field(const std::string& output, const std::string& field) {
  std::size_t start = output.find(field);
  if (start == std::string::npos) {
    return "";
  }
  start = output.find_first_not_of(" \t", start + field.size());
  std::size_t end = output.find('\n', start);
  return output.substr(start, end - start);
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(launch_test, service_fixture)

BOOST_AUTO_TEST_CASE(stdout_stderr_and_exit_code) {
  auto result = run_command(
      service, make_spec({"sh", "-c", "echo out; echo err >&2; exit 3"}));
  BOOST_TEST_REQUIRE(!result.timed_out);
  BOOST_TEST_REQUIRE(result.outcome.has_value());
  BOOST_TEST(result.outcome->out.data == "out\n");
  BOOST_TEST(result.outcome->err.data == "err\n");
  BOOST_TEST(exit_code_of(result) == 3);
  BOOST_TEST(result.outcome->pid == result.pid);
  BOOST_TEST(result.outcome->max_rss_kb > 0u);
  BOOST_TEST((result.outcome->exited >= result.outcome->started));
}

BOOST_AUTO_TEST_CASE(environment_is_exactly_spec) {
  auto spec = make_spec({"env"});
  spec.env = {"A=1", "PATH=/usr/bin:/bin", "EMPTY=", "B=x=y"};
  auto result = run_command(service, spec);
  BOOST_TEST_REQUIRE(result.outcome.has_value());
  BOOST_TEST(result.outcome->out.data ==
             "A=1\nPATH=/usr/bin:/bin\nEMPTY=\nB=x=y\n");
}

BOOST_AUTO_TEST_CASE(argv_zero_from_spec) {
  auto spec = make_spec({"renamed-cat", "/proc/self/cmdline"});
  spec.program = "cat";
  auto result = run_command(service, spec);
  BOOST_TEST_REQUIRE(result.outcome.has_value());
  BOOST_TEST(result.outcome->out.data ==
             std::string("renamed-cat\0/proc/self/cmdline\0", 31));
}

BOOST_AUTO_TEST_CASE(stdin_fed_to_cat) {
  auto spec = make_spec({"cat"});
  spec.stdin_data = "hello\nworld\n";
  auto result = run_command(service, spec);
  BOOST_TEST_REQUIRE(result.outcome.has_value());
  BOOST_TEST(result.outcome->out.data == "hello\nworld\n");
  BOOST_TEST(exit_code_of(result) == 0);
}

BOOST_AUTO_TEST_CASE(stdin_without_data_is_empty) {
  auto result = run_command(service, make_spec({"cat"}));
  BOOST_TEST_REQUIRE(result.outcome.has_value());
  BOOST_TEST(result.outcome->out.data.empty());
  BOOST_TEST(exit_code_of(result) == 0);
}

BOOST_AUTO_TEST_CASE(large_stdin_to_nonreader) {
  auto spec = make_spec({"true"});
  spec.stdin_data = std::string(8u << 20, 'y');
  auto result = run_command(service, spec, 5s);
  BOOST_TEST_REQUIRE(!result.timed_out);
  BOOST_TEST_REQUIRE(result.outcome.has_value());
  BOOST_TEST(exit_code_of(result) == 0);
}

BOOST_AUTO_TEST_CASE(state_captured_on_fd_8) {
  auto spec = make_spec({"sh", "-c", "echo hi >&8; echo out"});
  spec.capture_state = true;
  auto result = run_command(service, spec);
  BOOST_TEST_REQUIRE(result.outcome.has_value());
  BOOST_TEST(result.outcome->state.data == "hi\n");
  BOOST_TEST(result.outcome->out.data == "out\n");
  BOOST_TEST(exit_code_of(result) == 0);
}

BOOST_AUTO_TEST_CASE(fd_8_closed_without_capture) {
  auto result = run_command(service, make_spec({"sh", "-c", "echo hi >&8"}));
  BOOST_TEST_REQUIRE(result.outcome.has_value());
  BOOST_TEST(result.outcome->state.data.empty());
  BOOST_TEST(exit_code_of(result) != 0);
}

BOOST_AUTO_TEST_CASE(cwd_applied) {
  auto spec = make_spec({"pwd"});
  spec.cwd = "/tmp";
  auto result = run_command(service, spec);
  BOOST_TEST_REQUIRE(result.outcome.has_value());
  BOOST_TEST(result.outcome->out.data == "/tmp\n");
}

BOOST_AUTO_TEST_CASE(chdir_failure_names_step) {
  auto before = service.stats();
  auto spec = make_spec({"true"});
  spec.cwd = "/nope";
  auto result = run_command(service, spec);
  BOOST_TEST_REQUIRE(!result.timed_out);
  BOOST_TEST_REQUIRE(result.error.has_value());
  BOOST_TEST(result.error->step == "chdir /nope");
  BOOST_TEST(result.error->error_number == ENOENT);
  BOOST_TEST(result.error->message() ==
             "chdir /nope: No such file or directory");
  BOOST_TEST(!result.outcome.has_value());
  BOOST_TEST(service.stats().spawn_failures == before.spawn_failures + 1);
  BOOST_TEST(zombie_children().empty());
}

BOOST_AUTO_TEST_CASE(program_missing_from_path) {
  auto result = run_command(service, make_spec({"corral-no-such-program"}));
  BOOST_TEST_REQUIRE(result.error.has_value());
  BOOST_TEST(result.error->step == "search PATH for corral-no-such-program");
  BOOST_TEST(result.error->error_number == ENOENT);
}

BOOST_AUTO_TEST_CASE(absolute_program_missing) {
  auto result = run_command(service, make_spec({"/bin/nosuch"}));
  BOOST_TEST_REQUIRE(result.error.has_value());
  BOOST_TEST(result.error->step == "execve /bin/nosuch");
  BOOST_TEST(result.error->error_number == ENOENT);
  BOOST_TEST(zombie_children().empty());
}

BOOST_AUTO_TEST_CASE(program_lookup_uses_spec_path) {
  // "id" lives in /usr/bin; a PATH without it must not find it even though
  // the test process's own PATH would.
  auto spec = make_spec({"id", "-u"});
  spec.env = {"PATH=/nonexistent"};
  auto result = run_command(service, spec);
  BOOST_TEST_REQUIRE(result.error.has_value());
  BOOST_TEST(result.error->step == "search PATH for id");
}

BOOST_AUTO_TEST_CASE(invalid_environment_entry_rejected) {
  auto spec = make_spec({"true"});
  spec.env.push_back("NO_EQUALS_SIGN");
  auto result = run_command(service, spec);
  BOOST_TEST_REQUIRE(result.error.has_value());
  BOOST_TEST(result.error->error_number == EINVAL);
}

BOOST_AUTO_TEST_CASE(cgroup_procs_open_failure_names_path) {
  auto spec = make_spec({"true"});
  spec.cgroup_procs = {"/nonexistent/cgroup.procs"};
  auto result = run_command(service, spec);
  BOOST_TEST_REQUIRE(result.error.has_value());
  BOOST_TEST(result.error->step == "open /nonexistent/cgroup.procs");
  BOOST_TEST(result.error->error_number == ENOENT);
  BOOST_TEST(!result.outcome.has_value());
}

BOOST_AUTO_TEST_CASE(cgroup_attach_failure_fails_launch) {
  // /dev/full opens for writing and fails every write with ENOSPC, so the
  // child-side attach step fails and the command must not run.
  auto spec = make_spec({"sh", "-c", "echo ran"});
  spec.cgroup_procs = {"/dev/full"};
  auto result = run_command(service, spec);
  BOOST_TEST_REQUIRE(result.error.has_value());
  BOOST_TEST(result.error->step == "cgroup attach /dev/full");
  BOOST_TEST(result.error->error_number == ENOSPC);
  BOOST_TEST(!result.outcome.has_value());
  BOOST_TEST(zombie_children().empty());
}

BOOST_AUTO_TEST_CASE(rlimits_visible_inside) {
  // dash's ulimit has no portable flag for RLIMIT_NPROC, so those two come
  // from /proc/self/limits as "soft hard".
  auto spec =
      make_spec({"sh", "-c",
                 "ulimit -n; ulimit -t; ulimit -H -t; "
                 "awk '/^Max processes/ {print $3, $4} "
                 "/^Max address space/ {print $4, $5}' /proc/self/limits"});
  spec.limits.nofile = 64;
  spec.limits.cpu_sec = 7;
  spec.limits.nproc = 4000;
  spec.limits.address_space_bytes = 1u << 30;
  auto result = run_command(service, spec);
  BOOST_TEST_REQUIRE(result.outcome.has_value());
  BOOST_TEST(result.outcome->out.data ==
             "64\n7\n8\n4000 4000\n1073741824 1073741824\n");
}

BOOST_AUTO_TEST_CASE(zero_limits_left_alone) {
  struct rlimit inherited {};
  ::getrlimit(RLIMIT_NOFILE, &inherited);
  auto result = run_command(service, make_spec({"sh", "-c", "ulimit -n"}));
  BOOST_TEST_REQUIRE(result.outcome.has_value());
  BOOST_TEST(result.outcome->out.data ==
             std::to_string(inherited.rlim_cur) + "\n");
}

BOOST_AUTO_TEST_CASE(address_space_limit_fails_malloc,
                     *boost::unit_test::precondition(test_helper_available{})) {
  auto spec = make_spec({*test_helper_path(), "alloc", "256"});
  spec.limits.address_space_bytes = 64u << 20;
  auto result = run_command(service, spec);
  BOOST_TEST_REQUIRE(result.outcome.has_value());
  BOOST_TEST(result.outcome->out.data == "allocation failed\n");
  BOOST_TEST(exit_code_of(result) == 3);
}

BOOST_AUTO_TEST_CASE(nofile_limit_gives_emfile,
                     *boost::unit_test::precondition(test_helper_available{})) {
  auto spec = make_spec({*test_helper_path(), "open-fds", "100"});
  spec.limits.nofile = 16;
  auto result = run_command(service, spec);
  BOOST_TEST_REQUIRE(result.outcome.has_value());
  // Descriptors 0 to 2 are open, so 13 more fit under 16.
  BOOST_TEST(result.outcome->out.data == "13\nEMFILE\n");
  BOOST_TEST(exit_code_of(result) == 4);
}

BOOST_AUTO_TEST_CASE(only_standard_descriptors_inherited,
                     *boost::unit_test::precondition(test_helper_available{})) {
  // Without O_CLOEXEC this descriptor would survive execve.
  int leaked = ::open("/dev/null", O_RDONLY);
  BOOST_TEST_REQUIRE(leaked >= 0);
  auto plain =
      run_command(service, make_spec({*test_helper_path(), "print-fds"}));
  auto spec = make_spec({*test_helper_path(), "print-fds"});
  spec.capture_state = true;
  spec.stdin_data = "";
  auto with_state = run_command(service, spec);
  ::close(leaked);

  BOOST_TEST_REQUIRE(plain.outcome.has_value());
  BOOST_TEST(plain.outcome->out.data == "0 1 2\n");
  BOOST_TEST_REQUIRE(with_state.outcome.has_value());
  BOOST_TEST(with_state.outcome->out.data == "0 1 2 8\n");
}

BOOST_AUTO_TEST_CASE(process_group_equals_pid) {
  auto result = run_command(
      service, make_spec({"cut", "-d", " ", "-f", "1,5", "/proc/self/stat"}));
  BOOST_TEST_REQUIRE(result.outcome.has_value());
  std::string pid = std::to_string(result.pid);
  BOOST_TEST(result.outcome->out.data == pid + " " + pid + "\n");
}

BOOST_AUTO_TEST_CASE(oom_score_adj_applied) {
  auto spec = make_spec({"cat", "/proc/self/oom_score_adj"});
  spec.oom_score_adj = 321;
  auto result = run_command(service, spec);
  BOOST_TEST_REQUIRE(result.outcome.has_value());
  BOOST_TEST(result.outcome->out.data == "321\n");
}

BOOST_AUTO_TEST_CASE(run_as_nobody,
                     *boost::unit_test::precondition(running_as_root{})) {
  std::string error;
  auto user = resolve_user("nobody", error);
  BOOST_TEST_REQUIRE(user.has_value(), error);
  BOOST_TEST(user->uid == 65534u);
  BOOST_TEST(!user->groups.empty());

  auto spec = make_spec({"sh", "-c", "id -u; id -g; id -G"});
  spec.user = user;
  auto result = run_command(service, spec);
  BOOST_TEST_REQUIRE(result.outcome.has_value());
  std::string groups;
  for (gid_t group : user->groups) {
    groups += (groups.empty() ? "" : " ") + std::to_string(group);
  }
  BOOST_TEST(result.outcome->out.data ==
             "65534\n" + std::to_string(user->gid) + "\n" + groups + "\n");
}

BOOST_AUTO_TEST_CASE(unknown_user_not_resolved) {
  std::string error;
  auto user = resolve_user("corral-no-such-user", error);
  BOOST_TEST(!user.has_value());
  BOOST_TEST(error == "user \"corral-no-such-user\" not found");
}

BOOST_AUTO_TEST_SUITE_END()

// The signal test builds its own service: the service thread inherits the
// signal mask of the thread that constructs it.
BOOST_AUTO_TEST_SUITE(launch_signal_test)

BOOST_AUTO_TEST_CASE(child_signals_reset,
                     *boost::unit_test::precondition(test_helper_available{})) {
  sigset_t blocked;
  sigset_t previous_mask;
  ::sigemptyset(&blocked);
  ::sigaddset(&blocked, SIGTERM);
  ::pthread_sigmask(SIG_BLOCK, &blocked, &previous_mask);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction previous_usr1 {};
  ::sigaction(SIGUSR1, &ignore, &previous_usr1);
  ::sigaction(SIGPIPE, &ignore, nullptr);

  command_result result;
  {
    process_service service;
    result = run_command(service, make_spec({*test_helper_path(), "sigmask"}));
  }
  ::sigaction(SIGUSR1, &previous_usr1, nullptr);
  ::pthread_sigmask(SIG_SETMASK, &previous_mask, nullptr);

  BOOST_TEST_REQUIRE(result.outcome.has_value());
  const std::string& output = result.outcome->out.data;
  BOOST_TEST(mask_field(output, "SigBlk:") == "0000000000000000");
  BOOST_TEST(mask_field(output, "SigIgn:") == "0000000000000000");
}

BOOST_AUTO_TEST_SUITE_END()
