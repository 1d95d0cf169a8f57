#pragma once

// Synchronous wrappers around process_service for tests. Every wait is
// bounded, so a hang fails the test instead of blocking the suite.

#include <dirent.h>
#include <unistd.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "isolation/exit_status.hpp"
#include "isolation/process_service.hpp"

namespace corral::isolation::testing {

using namespace std::chrono_literals;

/// What a command reported through the service's handlers.
struct command_result {
  pid_t pid = 0;
  std::optional<launch_error> error;
  std::optional<process_outcome> outcome;
  bool timed_out = false;  // no result within the bound
};

/// Handler call counts of one command, updated on the service thread.
struct handler_calls {
  std::atomic<int> started{0};
  std::atomic<int> finished{0};
};

/// A command started with `start_command`.
struct pending_command {
  std::future<pid_t> started;  // the pid, or 0 when the launch failed
  std::future<command_result> finished;
  std::shared_ptr<handler_calls> calls;
};

/// Returns a spec for `argv` with a small PATH and "/" as cwd.
inline launch_spec make_spec(std::vector<std::string> argv) {
  launch_spec spec;
  spec.program = argv.front();
  spec.argv = std::move(argv);
  spec.env = {"PATH=/usr/local/bin:/usr/bin:/bin"};
  spec.cwd = "/";
  return spec;
}

/// Starts `spec` on `service` and returns futures for its handlers.
inline pending_command start_command(process_service& service,
                                     launch_spec spec) {
  struct shared_state {
    std::promise<pid_t> started;
    std::promise<command_result> finished;
    std::shared_ptr<handler_calls> calls = std::make_shared<handler_calls>();
    pid_t pid = 0;
  };
  auto state = std::make_shared<shared_state>();
  pending_command pending{state->started.get_future(),
                          state->finished.get_future(), state->calls};
  service.start(
      std::move(spec),
      [state](pid_t pid, std::optional<launch_error> error) {
        // Only the first call sets the promises; the counter shows more.
        if (++state->calls->started != 1) {
          return;
        }
        state->pid = pid;
        state->started.set_value(pid);
        if (error) {
          command_result result;
          result.error = std::move(error);
          state->finished.set_value(std::move(result));
        }
      },
      [state](process_outcome outcome) {
        if (++state->calls->finished != 1) {
          return;
        }
        command_result result;
        result.pid = state->pid;
        result.outcome = std::move(outcome);
        state->finished.set_value(std::move(result));
      });
  return pending;
}

/// Waits at most `bound` for the result of `pending`.
inline command_result wait_for_result(pending_command& pending,
                                      std::chrono::milliseconds bound = 10s) {
  if (pending.finished.wait_for(bound) != std::future_status::ready) {
    command_result result;
    result.timed_out = true;
    return result;
  }
  return pending.finished.get();
}

/// Runs `spec` and waits at most `bound` for its result.
inline command_result run_command(process_service& service, launch_spec spec,
                                  std::chrono::milliseconds bound = 10s) {
  pending_command pending = start_command(service, std::move(spec));
  return wait_for_result(pending, bound);
}

/// Returns the exit code of a finished command, or -1 when a signal ended
/// it or it did not finish.
inline int exit_code_of(const command_result& result) {
  if (!result.outcome) {
    return -1;
  }
  return decode_wait_status(result.outcome->wait_status).exit_code.value_or(-1);
}

/// Returns the path of corral-test-helper from CORRAL_TEST_HELPER.
inline std::optional<std::string> test_helper_path() {
  const char* path = std::getenv("CORRAL_TEST_HELPER");
  if (path == nullptr || *path == '\0') {
    return std::nullopt;
  }
  return std::string(path);
}

/// Precondition that skips a test, with the reason, when the helper is
/// unknown.
struct test_helper_available {
  boost::test_tools::assertion_result operator()(
      boost::unit_test::test_unit_id) const {
    boost::test_tools::assertion_result result(test_helper_path().has_value());
    result.message() << "CORRAL_TEST_HELPER is not set; run the suite "
                        "through ctest";
    return result;
  }
};

/// Precondition that skips a test, with the reason, unless running as root.
struct running_as_root {
  boost::test_tools::assertion_result operator()(
      boost::unit_test::test_unit_id) const {
    boost::test_tools::assertion_result result(::geteuid() == 0);
    result.message() << "needs root to change credentials";
    return result;
  }
};

/// Returns the pids of zombie processes whose parent is this process.
inline std::vector<pid_t> zombie_children() {
  std::vector<pid_t> zombies;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) {
    return zombies;
  }
  while (dirent* entry = ::readdir(proc)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') {
      continue;
    }
    std::ifstream stat_file(std::string("/proc/") + entry->d_name + "/stat");
    std::string line;
    if (!std::getline(stat_file, line)) {
      continue;
    }
    // The command name in parentheses may contain spaces; the state and
    // the parent pid follow the last ')'.
    std::size_t name_end = line.rfind(')');
    if (name_end == std::string::npos) {
      continue;
    }
    std::istringstream fields(line.substr(name_end + 1));
    char state = 0;
    pid_t parent = 0;
    fields >> state >> parent;
    if (state == 'Z' && parent == ::getpid()) {
      zombies.push_back(static_cast<pid_t>(std::atoi(entry->d_name)));
    }
  }
  ::closedir(proc);
  return zombies;
}

/// Polls `condition` every 20 ms until it is true or `bound` passes.
template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds bound) {
  auto deadline = std::chrono::steady_clock::now() + bound;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

}  // namespace corral::isolation::testing
