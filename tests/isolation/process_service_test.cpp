// The lifecycle around a command: output collection and caps, draining,
// reaping of the command and of orphans, CPU limits, concurrency and
// shutdown. Every case runs real processes.

#include "isolation/process_service.hpp"

#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "command_runner.hpp"
#include "isolation/exit_status.hpp"

using namespace corral::isolation;
using namespace corral::isolation::testing;

namespace {

struct service_fixture {
  process_service service;
};

bool process_exists(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

// Sets the soft RLIMIT_CORE of this process, and so of the commands it
// starts, to zero while it lives, so that SIGXCPU writes no core file.
class no_core_files {
 public:
  no_core_files() {
    ::getrlimit(RLIMIT_CORE, &previous_);
    struct rlimit none = previous_;
    none.rlim_cur = 0;
    ::setrlimit(RLIMIT_CORE, &none);
  }
  no_core_files(const no_core_files&) = delete;
  no_core_files& operator=(const no_core_files&) = delete;
  ~no_core_files() { ::setrlimit(RLIMIT_CORE, &previous_); }

 private:
  struct rlimit previous_ {};
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(process_service_test, service_fixture)

BOOST_AUTO_TEST_CASE(output_cap_counts_total) {
  auto spec = make_spec({"head", "-c", "10485760", "/dev/zero"});
  spec.max_output_bytes = 1u << 20;
  auto result = run_command(service, spec);
  BOOST_TEST_REQUIRE(result.outcome.has_value());
  const collected_stream& out = result.outcome->out;
  BOOST_TEST(out.data.size() == 1u << 20);
  BOOST_TEST(out.total == 10u << 20);
  BOOST_TEST(out.truncated);
  BOOST_TEST(exit_code_of(result) == 0);
}

BOOST_AUTO_TEST_CASE(output_at_cap_not_truncated) {
  auto spec = make_spec({"head", "-c", "1048576", "/dev/zero"});
  spec.max_output_bytes = 1u << 20;
  auto result = run_command(service, spec);
  BOOST_TEST_REQUIRE(result.outcome.has_value());
  BOOST_TEST(result.outcome->out.data.size() == 1u << 20);
  BOOST_TEST(result.outcome->out.total == 1u << 20);
  BOOST_TEST(!result.outcome->out.truncated);
}

BOOST_AUTO_TEST_CASE(state_cap_separate_from_output) {
  auto spec = make_spec(
      {"sh", "-c", "head -c 5000 /dev/zero >&8; head -c 5000 /dev/zero"});
  spec.capture_state = true;
  spec.max_state_bytes = 1000;
  auto result = run_command(service, spec);
  BOOST_TEST_REQUIRE(result.outcome.has_value());
  BOOST_TEST(result.outcome->state.data.size() == 1000u);
  BOOST_TEST(result.outcome->state.total == 5000u);
  BOOST_TEST(result.outcome->state.truncated);
  BOOST_TEST(result.outcome->out.data.size() == 5000u);
  BOOST_TEST(!result.outcome->out.truncated);
}

BOOST_AUTO_TEST_CASE(fast_writer_fully_collected,
                     *boost::unit_test::precondition(test_helper_available{})) {
  auto spec = make_spec({*test_helper_path(), "write-bytes", "5242880"});
  spec.max_output_bytes = 8u << 20;
  auto result = run_command(service, spec);
  BOOST_TEST_REQUIRE(result.outcome.has_value());
  const std::string& data = result.outcome->out.data;
  BOOST_TEST(data.size() == 5u << 20);
  BOOST_TEST(
      std::all_of(data.begin(), data.end(), [](char c) { return c == 'x'; }));
  BOOST_TEST(exit_code_of(result) == 0);
}

BOOST_AUTO_TEST_CASE(late_output_drained_after_exit) {
  // The shell exits at once and its background child writes 100 ms later.
  // The child's exit closes the pipe, which ends the wait before the
  // drain timeout.
  auto spec = make_spec({"sh", "-c", "(sleep 0.1; echo late) & echo early"});
  spec.drain_timeout = 5s;
  auto begin = std::chrono::steady_clock::now();
  auto result = run_command(service, spec);
  auto elapsed = std::chrono::steady_clock::now() - begin;
  BOOST_TEST_REQUIRE(result.outcome.has_value());
  BOOST_TEST(result.outcome->out.data == "early\nlate\n");
  BOOST_TEST((elapsed < 3s));
}

BOOST_AUTO_TEST_CASE(background_holder_bounded_by_drain) {
  auto spec = make_spec({"sh", "-c", "sleep 30 & echo done"});
  spec.drain_timeout = 200ms;
  auto begin = std::chrono::steady_clock::now();
  auto result = run_command(service, spec, 3s);
  auto elapsed = std::chrono::steady_clock::now() - begin;
  BOOST_TEST_REQUIRE(!result.timed_out);
  BOOST_TEST_REQUIRE(result.outcome.has_value());
  BOOST_TEST(result.outcome->out.data == "done\n");
  BOOST_TEST((elapsed < 2s));

  // The sleep is still in the command's process group; kill it and let
  // the sweep reap it.
  BOOST_TEST(signal_process_group(result.pid, SIGKILL));
  bool group_gone =
      eventually([&] { return !signal_process_group(result.pid, 0); }, 3s);
  BOOST_TEST(group_gone);
  BOOST_TEST(zombie_children().empty());
}

BOOST_AUTO_TEST_CASE(orphan_reaped_by_sweep) {
  auto before = service.stats().orphans_reaped;
  auto result =
      run_command(service, make_spec({"sh", "-c", "(sleep 0.2 &) ; exit 0"}));
  BOOST_TEST_REQUIRE(result.outcome.has_value());
  BOOST_TEST(exit_code_of(result) == 0);

  bool reaped =
      eventually([&] { return service.stats().orphans_reaped > before; }, 3s);
  BOOST_TEST(reaped);
  BOOST_TEST(zombie_children().empty());
}

BOOST_AUTO_TEST_CASE(signaled_command_decoded) {
  auto result = run_command(service, make_spec({"sh", "-c", "kill -TERM $$"}));
  BOOST_TEST_REQUIRE(result.outcome.has_value());
  exit_status status = decode_wait_status(result.outcome->wait_status);
  BOOST_TEST(!status.exit_code.has_value());
  BOOST_TEST(status.signal == SIGTERM);
  BOOST_TEST(to_string(classify(status, kill_cause{}, 0, 0.0)) == "signaled");
}

BOOST_AUTO_TEST_CASE(cpu_limit_ends_with_sigxcpu,
                     *boost::unit_test::precondition(test_helper_available{})) {
  no_core_files no_cores;
  auto spec = make_spec({*test_helper_path(), "spin"});
  spec.limits.cpu_sec = 1;
  auto result = run_command(service, spec, 15s);
  BOOST_TEST_REQUIRE(!result.timed_out);
  BOOST_TEST_REQUIRE(result.outcome.has_value());
  const process_outcome& outcome = *result.outcome;
  exit_status status = decode_wait_status(outcome.wait_status);
  BOOST_TEST(status.signal == SIGXCPU);
  double cpu_sec = (outcome.user_ms + outcome.system_ms) / 1000.0;
  BOOST_TEST(cpu_sec >= 0.9);
  BOOST_TEST(to_string(classify(status, kill_cause{}, spec.limits.cpu_sec,
                                cpu_sec)) == "cpu_limit");
}

BOOST_AUTO_TEST_CASE(concurrent_starts_all_finish) {
  constexpr int count = 20;
  auto before = service.stats().started;
  std::vector<pending_command> pending(count);
  std::vector<std::thread> starters;
  for (int thread = 0; thread < 4; ++thread) {
    starters.emplace_back([&, thread] {
      for (int i = thread; i < count; i += 4) {
        pending[i] = start_command(
            service, make_spec({"sh", "-c", "echo " + std::to_string(i)}));
      }
    });
  }
  for (std::thread& starter : starters) {
    starter.join();
  }
  for (int i = 0; i < count; ++i) {
    BOOST_TEST_CONTEXT("command " << i) {
      auto result = wait_for_result(pending[i]);
      BOOST_TEST_REQUIRE(result.outcome.has_value());
      BOOST_TEST(result.outcome->out.data == std::to_string(i) + "\n");
      BOOST_TEST(exit_code_of(result) == 0);
    }
  }
  BOOST_TEST(service.stats().started == before + count);
  BOOST_TEST(service.stats().running == 0u);
}

BOOST_AUTO_TEST_CASE(handlers_called_once_each) {
  auto pending = start_command(service, make_spec({"echo", "once"}));
  auto result = wait_for_result(pending);
  BOOST_TEST_REQUIRE(result.outcome.has_value());
  // Longer than the drain timeout, so a late second call would show.
  std::this_thread::sleep_for(400ms);
  BOOST_TEST(pending.calls->started.load() == 1);
  BOOST_TEST(pending.calls->finished.load() == 1);
}

BOOST_AUTO_TEST_CASE(failed_launch_skips_finished) {
  auto pending = start_command(service, make_spec({"/bin/nosuch"}));
  auto result = wait_for_result(pending);
  BOOST_TEST_REQUIRE(result.error.has_value());
  BOOST_TEST(pending.started.get() == 0);
  std::this_thread::sleep_for(100ms);
  BOOST_TEST(pending.calls->started.load() == 1);
  BOOST_TEST(pending.calls->finished.load() == 0);
}

BOOST_AUTO_TEST_SUITE_END()

// These cases destroy the service themselves.
BOOST_AUTO_TEST_SUITE(process_service_shutdown_test)

BOOST_AUTO_TEST_CASE(destructor_kills_running_command) {
  auto service = std::make_unique<process_service>();
  auto pending = start_command(*service, make_spec({"sleep", "30"}));
  BOOST_TEST_REQUIRE(
      (pending.started.wait_for(5s) == std::future_status::ready));
  pid_t pid = pending.started.get();
  BOOST_TEST_REQUIRE(pid > 0);
  BOOST_TEST(service->stats().running == 1u);

  auto begin = std::chrono::steady_clock::now();
  service.reset();
  BOOST_TEST((std::chrono::steady_clock::now() - begin < 3s));
  BOOST_TEST(!process_exists(pid));
  BOOST_TEST(pending.calls->finished.load() == 0);
  BOOST_TEST(zombie_children().empty());
}

BOOST_AUTO_TEST_CASE(destructor_kills_background_group) {
  auto service = std::make_unique<process_service>();
  auto pending =
      start_command(*service, make_spec({"sh", "-c", "sleep 30 & wait"}));
  BOOST_TEST_REQUIRE(
      (pending.started.wait_for(5s) == std::future_status::ready));
  pid_t pid = pending.started.get();
  BOOST_TEST_REQUIRE(pid > 0);
  // Give the shell time to start its background sleep.
  std::this_thread::sleep_for(100ms);

  service.reset();
  BOOST_TEST(!signal_process_group(pid, 0));
  BOOST_TEST(zombie_children().empty());
}

BOOST_AUTO_TEST_SUITE_END()
