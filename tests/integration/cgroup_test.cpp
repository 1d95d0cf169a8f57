// Per-session cgroups against a real corrald and the host's kernel. The
// cases skip, saying why, when the daemon runs without cgroups.

#include <sys/stat.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <string>
#include <thread>

#include "integration/daemon.hpp"

namespace json = boost::json;
using namespace corral::testing;

namespace {

std::string text(const json::object& object, const char* key) {
  return std::string{object.at(key).as_string()};
}

bool contains(const json::array& list, const char* value) {
  for (const auto& element : list)
    if (element.is_string() && element.get_string() == value)
      return true;
  return false;
}

// Returns true when the daemon isolates sessions with cgroups; otherwise
// prints why the calling test is skipped.
bool has_cgroups(corral::client& client) {
  auto stats = result_of(client.call("system.stats"));
  auto isolation = text(stats, "isolation");
  if (isolation.find("cgroup v") != std::string::npos)
    return true;
  BOOST_TEST_MESSAGE("skipped: the daemon runs without cgroups here ("
                     << isolation << ")");
  return false;
}

json::object session_usage(corral::client& client, const std::string& id) {
  auto list = result_of(client.call("session.list"));
  for (const auto& session : list.at("sessions").as_array())
    if (session.at("session").as_string() == id)
      return session.at("usage").as_object();
  BOOST_FAIL("session " << id << " is not listed");
  return {};
}

// Returns the directory of `session` in the daemon's pids hierarchy.
std::string pids_group_of(pid_t daemon, const std::string& session) {
  std::ifstream in{"/proc/" + std::to_string(daemon) + "/cgroup"};
  std::string line;
  while (std::getline(in, line)) {
    auto marker = line.find(":pids:");
    if (marker != std::string::npos) {
      auto own = line.substr(marker + 6);
      if (own == "/")
        own.clear();
      return "/sys/fs/cgroup/pids" + own + "/corral-" + std::to_string(daemon) +
             "/" + session;
    }
  }
  return "";
}

bool directory_exists(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cgroups)

BOOST_AUTO_TEST_CASE(memory_hog_killed_with_memory_limit) {
  daemon_process corrald;
  auto client = corrald.connect();
  if (!has_cgroups(client))
    return;
  auto session = create_session(
      client, {{"limits", {{"cgroup_memory_bytes", 64ll << 20}}}});
  auto other = create_session(client);

  auto helper = program_path("CORRAL_TEST_HELPER");
  auto reply = client.call(
      "exec.run", {{"session", session}, {"argv", {helper, "alloc", "200"}}});
  auto result = result_of(reply);
  BOOST_TEST(text(result, "reason") == "memory_limit");
  BOOST_TEST(text(result, "signal") == "SIGKILL");
  BOOST_TEST(contains(result.at("limits_hit").as_array(), "memory"));
  BOOST_TEST(session_usage(client, session)
                 .at("oom_kills")
                 .to_number<std::uint64_t>() >= 1u);

  auto healthy = result_of(run(client, other, "echo unharmed"));
  BOOST_TEST(text(healthy, "stdout") == "unharmed\n");
  auto again = result_of(run(client, session, "echo usable"));
  BOOST_TEST(text(again, "stdout") == "usable\n");
}

BOOST_AUTO_TEST_CASE(fork_bomb_stopped_by_pids_max) {
  daemon_process corrald;
  auto client = corrald.connect();
  if (!has_cgroups(client))
    return;
  auto session = create_session(client, {{"limits", {{"pids_max", 30}}}});

  auto result = result_of(
      run(client, session, "f() { f | f & }; f; sleep 1", {{"timeout_s", 10}}));
  BOOST_TEST(contains(result.at("limits_hit").as_array(), "pids"));
  BOOST_TEST(session_usage(client, session)
                 .at("pids_max_events")
                 .to_number<std::uint64_t>() > 0u);

  // Destroying the session ends the bomb; a new session works at once.
  result_of(client.call("session.destroy", {{"session", session}}));
  auto fresh = create_session(client);
  auto healthy = result_of(run(client, fresh, "echo ok"));
  BOOST_TEST(text(healthy, "stdout") == "ok\n");
  auto pong = result_of(client.call("system.ping"));
  BOOST_TEST(pong.at("pong").as_bool());
}

BOOST_AUTO_TEST_CASE(cpu_quota_limits_spinner) {
  daemon_process corrald;
  auto client = corrald.connect();
  if (!has_cgroups(client))
    return;
  auto session = create_session(client, {{"limits", {{"cpu_percent", 20}}}});

  auto before = session_usage(client, session).at("cpu_ms").to_number<double>();
  auto result = result_of(
      run(client, session, "while :; do :; done", {{"timeout_s", 2}}));
  auto after = session_usage(client, session).at("cpu_ms").to_number<double>();
  BOOST_TEST(text(result, "reason") == "timeout");
  BOOST_TEST(contains(result.at("limits_hit").as_array(), "cpu"));
  // 20 % of one CPU over about two seconds is about 400 ms.
  auto used_ms = after - before;
  BOOST_TEST_MESSAGE("CPU time used under a 20 % quota in 2 s: " << used_ms
                                                                 << " ms");
  BOOST_TEST(used_ms > 200.0);
  BOOST_TEST(used_ms < 700.0);
}

BOOST_AUTO_TEST_CASE(destroy_kills_setsid_escapee_and_group) {
  daemon_process corrald;
  auto client = corrald.connect();
  if (!has_cgroups(client))
    return;
  auto session = create_session(client);

  auto result =
      result_of(run(client, session,
                    "setsid sleep 60 > /dev/null 2>&1 < /dev/null & echo $!"));
  auto escapee = std::stoi(text(result, "stdout"));
  std::this_thread::sleep_for(std::chrono::milliseconds{200});
  BOOST_REQUIRE(process_alive(escapee));
  auto group = pids_group_of(corrald.pid(), session);
  BOOST_REQUIRE(directory_exists(group));

  result_of(client.call("session.destroy", {{"session", session}}));
  std::this_thread::sleep_for(std::chrono::milliseconds{1000});
  BOOST_TEST(!process_alive(escapee));
  BOOST_TEST(!directory_exists(group));
}

BOOST_AUTO_TEST_SUITE_END()
