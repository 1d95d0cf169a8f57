// cgroup v1 support against the real hierarchies of the host. Each case
// creates its own session group below a parent group named after this
// process, inside this process's own groups, and removes both again.
// Where v1 cannot be used, a case prints why and passes without checks.

#include <signal.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "command_runner.hpp"
#include "isolation/cgroup.hpp"
#include "isolation/exit_status.hpp"
#include "isolation/process_service.hpp"

using namespace corral::isolation;
using namespace corral::isolation::testing;

namespace {

namespace fs = std::filesystem;

std::string read_file(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// Returns the session directory that contains `file`, or an empty string.
std::string directory_with(const session_cgroup& group,
                           const std::string& file) {
  for (const std::string& directory : group.directories()) {
    if (fs::exists(directory + "/" + file)) {
      return directory;
    }
  }
  return "";
}

// Returns true when `pid` is gone or a zombie that waits to be reaped.
bool process_ended(pid_t pid) {
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  std::size_t name_end = stat.rfind(')');
  return stat.empty() ||
         (name_end != std::string::npos && stat.size() > name_end + 2 &&
          stat[name_end + 2] == 'Z');
}

struct v1_fixture {
  std::string daemon_name = "corral-" + std::to_string(::getpid());
  cgroup_manager manager = cgroup_manager::open(cgroup_mode::v1, daemon_name);
  process_service service;

  // Prints why the case is skipped when v1 is unavailable.
  bool available() const {
    if (manager.version() != cgroup_version::v1) {
      BOOST_TEST_MESSAGE(
          "skipped, cgroup v1 unavailable: " << manager.description());
      return false;
    }
    return true;
  }

  session_cgroup create(const std::string& id, const cgroup_limits& limits) {
    auto result = manager.create_session(id, limits);
    if (result.error) {
      BOOST_FAIL("create_session failed: " << result.error->message());
    }
    return std::move(*result.group);
  }

  launch_spec spec_in(const session_cgroup& group,
                      std::vector<std::string> argv) {
    launch_spec spec = make_spec(std::move(argv));
    spec.cgroup_procs = group.procs_paths();
    return spec;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(cgroup_v1_test, v1_fixture)

BOOST_AUTO_TEST_CASE(v1_detected_with_parents) {
  if (!available()) {
    return;
  }
  BOOST_TEST_MESSAGE("cgroups: " << manager.description());
  BOOST_TEST(manager.description().rfind("cgroup v1 (memory, cpu, pids", 0) ==
             0u);
  for (const cgroup_hierarchy& hierarchy : manager.hierarchies()) {
    BOOST_TEST_CONTEXT("parent " << hierarchy.parent_group) {
      BOOST_TEST(fs::is_directory(hierarchy.parent_group));
      BOOST_TEST(hierarchy.parent_group ==
                 hierarchy.own_group + "/" + daemon_name);
    }
  }
}

BOOST_AUTO_TEST_CASE(limits_written_and_read_back) {
  if (!available()) {
    return;
  }
  cgroup_limits limits;
  limits.memory_bytes = 64u << 20;
  limits.cpu_percent = 20;
  limits.pids_max = 20;
  session_cgroup group = create("limits", limits);

  std::string memory = directory_with(group, "memory.limit_in_bytes");
  std::string cpu = directory_with(group, "cpu.cfs_quota_us");
  std::string pids = directory_with(group, "pids.max");
  BOOST_TEST_REQUIRE(!memory.empty());
  BOOST_TEST_REQUIRE(!cpu.empty());
  BOOST_TEST_REQUIRE(!pids.empty());
  BOOST_TEST(read_file(memory + "/memory.limit_in_bytes") == "67108864\n");
  if (fs::exists(memory + "/memory.memsw.limit_in_bytes")) {
    BOOST_TEST(read_file(memory + "/memory.memsw.limit_in_bytes") ==
               "67108864\n");
  }
  BOOST_TEST(read_file(cpu + "/cpu.cfs_period_us") == "100000\n");
  BOOST_TEST(read_file(cpu + "/cpu.cfs_quota_us") == "20000\n");
  BOOST_TEST(read_file(pids + "/pids.max") == "20\n");
}

BOOST_AUTO_TEST_CASE(launched_process_joins_group) {
  if (!available()) {
    return;
  }
  session_cgroup group = create("join", cgroup_limits{});
  pending_command pending =
      start_command(service, spec_in(group, {"sleep", "30"}));
  BOOST_TEST_REQUIRE(
      (pending.started.wait_for(5s) == std::future_status::ready));
  pid_t pid = pending.started.get();
  BOOST_TEST_REQUIRE(pid > 0);

  std::string membership =
      read_file("/proc/" + std::to_string(pid) + "/cgroup");
  std::string suffix = "/" + daemon_name + "/join\n";
  for (const char* controller : {":memory:", ":cpu:", ":pids:"}) {
    BOOST_TEST_CONTEXT("controller " << controller) {
      std::size_t line = membership.find(controller);
      BOOST_TEST_REQUIRE(line != std::string::npos);
      std::size_t end = membership.find('\n', line);
      BOOST_TEST(membership.substr(0, end + 1).rfind(suffix) !=
                 std::string::npos);
    }
  }
  std::vector<pid_t> members = group.pids();
  BOOST_TEST(members == std::vector<pid_t>{pid});

  BOOST_TEST(group.kill_all());
  command_result result = wait_for_result(pending);
  BOOST_TEST_REQUIRE(result.outcome.has_value());
  BOOST_TEST(decode_wait_status(result.outcome->wait_status).signal == SIGKILL);
}

BOOST_AUTO_TEST_CASE(memory_limit_kills_allocation,
                     *boost::unit_test::precondition(test_helper_available{})) {
  if (!available()) {
    return;
  }
  cgroup_limits limits;
  limits.memory_bytes = 64u << 20;
  limits.pids_max = 20;
  session_cgroup group = create("memory", limits);
  BOOST_TEST(group.usage().oom_kills == 0u);

  command_result result = run_command(
      service, spec_in(group, {*test_helper_path(), "alloc", "200"}), 20s);
  BOOST_TEST_REQUIRE(result.outcome.has_value());
  BOOST_TEST(result.outcome->out.data.find("allocated") == std::string::npos);
  BOOST_TEST(decode_wait_status(result.outcome->wait_status).signal == SIGKILL);
  cgroup_usage usage = group.usage();
  BOOST_TEST(usage.oom_kills >= 1u);
  BOOST_TEST(usage.memory_peak <= std::uint64_t{64u << 20});
  BOOST_TEST(usage.memory_peak > std::uint64_t{32u << 20});
}

BOOST_AUTO_TEST_CASE(pids_max_stops_fork_loop) {
  if (!available()) {
    return;
  }
  cgroup_limits limits;
  limits.memory_bytes = 256u << 20;
  limits.pids_max = 20;
  session_cgroup group = create("pids", limits);

  // The loop starts 60 processes, but at most 20 may exist at a time.
  pending_command pending = start_command(
      service, spec_in(group, {"sh", "-c",
                               "i=0; while [ $i -lt 60 ]; do sleep 30 & "
                               "i=$((i+1)); done; wait"}));
  bool rejected =
      eventually([&] { return group.usage().pids_max_events > 0; }, 5000ms);
  cgroup_usage usage = group.usage();
  BOOST_TEST(rejected);
  BOOST_TEST(usage.pids_max_events >= 1u);
  BOOST_TEST(usage.pids_current <= 20u);
  BOOST_TEST(group.pids().size() <= 20u);

  BOOST_TEST(group.kill_all());
  BOOST_TEST(group.pids().empty());
  command_result result = wait_for_result(pending);
  BOOST_TEST(!result.timed_out);
}

BOOST_AUTO_TEST_CASE(cpu_quota_limits_usage,
                     *boost::unit_test::precondition(test_helper_available{})) {
  if (!available()) {
    return;
  }
  cgroup_limits limits;
  limits.cpu_percent = 20;
  limits.pids_max = 20;
  session_cgroup group = create("cpu", limits);
  if (directory_with(group, "cpuacct.usage").empty()) {
    BOOST_TEST_MESSAGE(
        "skipped, cpuacct is not in use: " << manager.description());
    return;
  }

  pending_command pending =
      start_command(service, spec_in(group, {*test_helper_path(), "spin"}));
  BOOST_TEST_REQUIRE(
      (pending.started.wait_for(5s) == std::future_status::ready));
  BOOST_TEST_REQUIRE(pending.started.get() > 0);
  // Let the first period pass so the quota is already in force.
  std::this_thread::sleep_for(200ms);
  auto begin = std::chrono::steady_clock::now();
  std::uint64_t before = group.usage().cpu_usage_us;
  std::this_thread::sleep_for(2s);
  std::uint64_t after = group.usage().cpu_usage_us;
  auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - begin);
  cgroup_usage usage = group.usage();
  group.kill_all();
  wait_for_result(pending);

  double percent = 100.0 * static_cast<double>(after - before) /
                   static_cast<double>(elapsed.count());
  BOOST_TEST_MESSAGE("CPU share under a 20 % quota: " << percent << " %");
  BOOST_TEST(percent >= 10.0);
  BOOST_TEST(percent <= 35.0);
  BOOST_TEST(usage.nr_throttled > 0u);
  BOOST_TEST(usage.throttled_us > 0u);
}

BOOST_AUTO_TEST_CASE(kill_all_kills_escaped_session) {
  if (!available()) {
    return;
  }
  cgroup_limits limits;
  limits.pids_max = 20;
  session_cgroup group = create("escape", limits);

  // setsid(1) forks because the command leads its process group, and the
  // child starts a new session, so signals to the command's group miss it.
  launch_spec spec = spec_in(group, {"setsid", "sleep", "60"});
  command_result result = run_command(service, spec);
  BOOST_TEST_REQUIRE(result.outcome.has_value());
  BOOST_TEST(!signal_process_group(result.pid, 0));

  bool present = eventually([&] { return !group.pids().empty(); }, 2000ms);
  BOOST_TEST_REQUIRE(present);
  std::vector<pid_t> escaped = group.pids();
  BOOST_TEST_REQUIRE(escaped.size() == 1u);
  BOOST_TEST(::getsid(escaped.front()) == escaped.front());

  BOOST_TEST(group.kill_all());
  BOOST_TEST(group.pids().empty());
  BOOST_TEST(
      eventually([&] { return process_ended(escaped.front()); }, 2000ms));
}

BOOST_AUTO_TEST_CASE(remove_leaves_no_directory) {
  if (!available()) {
    return;
  }
  session_cgroup group = create("remove", cgroup_limits{});
  std::vector<std::string> directories = group.directories();
  BOOST_TEST_REQUIRE(!directories.empty());

  // A running member makes rmdir fail with EBUSY until it is killed.
  pending_command pending =
      start_command(service, spec_in(group, {"sleep", "30"}));
  BOOST_TEST_REQUIRE(
      (pending.started.wait_for(5s) == std::future_status::ready));
  BOOST_TEST_REQUIRE(pending.started.get() > 0);

  auto error = group.remove();
  BOOST_TEST(!error.has_value());
  for (const std::string& directory : directories) {
    BOOST_TEST_CONTEXT("group " << directory) {
      BOOST_TEST(!fs::exists(directory));
    }
  }
  BOOST_TEST(!wait_for_result(pending).timed_out);
}

BOOST_AUTO_TEST_CASE(manager_destructor_removes_parents) {
  if (!available()) {
    return;
  }
  std::vector<std::string> parents;
  {
    cgroup_manager second =
        cgroup_manager::open(cgroup_mode::v1, daemon_name + "-second");
    BOOST_TEST_REQUIRE(second.enabled());
    for (const cgroup_hierarchy& hierarchy : second.hierarchies()) {
      parents.push_back(hierarchy.parent_group);
    }
    auto session = second.create_session("s1", cgroup_limits{});
    BOOST_TEST_REQUIRE(session.group.has_value());
  }
  BOOST_TEST_REQUIRE(!parents.empty());
  for (const std::string& parent : parents) {
    BOOST_TEST_CONTEXT("parent " << parent) { BOOST_TEST(!fs::exists(parent)); }
  }
}

BOOST_AUTO_TEST_SUITE_END()
