// cgroup v2 support against a fake cgroup tree in a temporary directory:
// detection, paths, the move of the daemon into a leaf group, the limit
// files written and the parsing of the usage files. A small fake kernel
// creates the interface files on mkdir and removes them on rmdir.

#include <fcntl.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "isolation/cgroup.hpp"

using namespace corral::isolation;

namespace {

namespace fs = std::filesystem;

std::string read_file(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream file(path, std::ios::trunc);
  file << text;
}

// Emulates the kernel's side of mkdir and rmdir in a cgroup2 file system.
// Writes to cgroup.procs move nothing here, so rmdir ignores members.
class fake_kernel : public cgroup_directories {
 public:
  bool with_swap = true;  // whether new groups get memory.swap.max
  // Makes pids.max of new groups a link to /dev/full, whose writes fail.
  bool failing_pids_max = false;

  int make_directory(const std::string& path) override {
    int error = cgroup_directories::make_directory(path);
    if (error != 0) {
      return error;
    }
    // A child offers the controllers its parent enables for children.
    std::string enabled = read_file(fs::path(path).parent_path().string() +
                                    "/cgroup.subtree_control");
    std::string controllers;
    for (const char* name : {"memory", "cpu", "pids"}) {
      if (enabled.find(std::string("+") + name) != std::string::npos) {
        controllers += controllers.empty() ? name : std::string(" ") + name;
      }
    }
    populate(path, controllers);
    return 0;
  }

  int remove_directory(const std::string& path) override {
    for (const auto& entry : fs::directory_iterator(path)) {
      if (entry.is_directory()) {
        return ENOTEMPTY;
      }
    }
    for (const auto& entry : fs::directory_iterator(path)) {
      fs::remove(entry.path());
    }
    return cgroup_directories::remove_directory(path);
  }

  /// Writes the interface files of a new group.
  void populate(const std::string& path, const std::string& controllers) {
    write_file(path + "/cgroup.procs", "");
    write_file(path + "/cgroup.controllers", controllers + "\n");
    write_file(path + "/cgroup.subtree_control", "");
    write_file(path + "/cgroup.kill", "");
    write_file(path + "/memory.max", "max\n");
    if (with_swap) {
      write_file(path + "/memory.swap.max", "max\n");
    }
    write_file(path + "/memory.current", "0\n");
    write_file(path + "/memory.events", "oom_kill 0\n");
    write_file(path + "/cpu.max", "max 100000\n");
    write_file(path + "/cpu.stat", "usage_usec 0\n");
    if (failing_pids_max) {
      fs::create_symlink("/dev/full", path + "/pids.max");
    } else {
      write_file(path + "/pids.max", "max\n");
    }
    write_file(path + "/pids.current", "0\n");
    write_file(path + "/pids.events", "max 0\n");
  }
};

// A cgroup2 mount at <temp>/cg with this process in
// /system.slice/corral.service, which offers memory, cpu and pids.
struct fake_tree {
  std::string temp;
  std::string mount;
  std::string own;
  std::string daemon_name = "corral-" + std::to_string(::getpid());
  std::shared_ptr<fake_kernel> kernel = std::make_shared<fake_kernel>();
  cgroup_system system;

  fake_tree() {
    char pattern[] = "/tmp/corral-cgroup-v2-XXXXXX";
    temp = ::mkdtemp(pattern);
    mount = temp + "/cg";
    own = mount + "/system.slice/corral.service";
    fs::create_directories(own);
    kernel->populate(mount, "cpuset cpu io memory pids");
    kernel->populate(mount + "/system.slice", "cpuset cpu io memory pids");
    kernel->populate(own, "cpu io memory pids");

    system.root = mount;
    system.self_cgroup = "0::/system.slice/corral.service\n";
    // A v1 memory hierarchy outside the root must be ignored.
    system.mountinfo =
        "31 23 0:28 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup "
        "rw,memory\n"
        "41 31 0:38 / " +
        mount + " rw,relatime shared:9 - cgroup2 cgroup2 rw\n";
    system.directories = kernel;
  }

  ~fake_tree() { fs::remove_all(temp); }

  std::string parent() const { return own + "/" + daemon_name; }

  cgroup_manager open(cgroup_mode mode = cgroup_mode::automatic) {
    return cgroup_manager::open(mode, daemon_name, system);
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(cgroup_v2_test, fake_tree)

BOOST_AUTO_TEST_CASE(mode_parsed_from_text) {
  struct row {
    const char* text;
    std::optional<cgroup_mode> mode;
  };
  const row rows[] = {{"auto", cgroup_mode::automatic},
                      {"v2", cgroup_mode::v2},
                      {"v1", cgroup_mode::v1},
                      {"off", cgroup_mode::off},
                      {"V2", std::nullopt},
                      {"", std::nullopt},
                      {"automatic", std::nullopt}};
  for (const row& entry : rows) {
    BOOST_TEST_CONTEXT("text \"" << entry.text << "\"") {
      BOOST_TEST((parse_cgroup_mode(entry.text) == entry.mode));
      if (entry.mode) {
        BOOST_TEST(to_string(*entry.mode) == std::string(entry.text));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(v2_detected_with_controllers) {
  cgroup_manager manager = open();
  BOOST_TEST((manager.version() == cgroup_version::v2));
  BOOST_TEST(manager.enabled());
  BOOST_TEST(manager.description() ==
             "cgroup v2 (memory, cpu, pids) in " + parent());
  BOOST_TEST_REQUIRE(manager.hierarchies().size() == 1u);
  BOOST_TEST(manager.hierarchies()[0].own_group == own);
  BOOST_TEST(manager.hierarchies()[0].parent_group == parent());
  BOOST_TEST(fs::is_directory(parent()));
  BOOST_TEST(read_file(own + "/cgroup.subtree_control") ==
             "+memory +cpu +pids");
  BOOST_TEST(read_file(parent() + "/cgroup.subtree_control") ==
             "+memory +cpu +pids");
}

BOOST_AUTO_TEST_CASE(enabled_controllers_not_rewritten) {
  write_file(own + "/cgroup.subtree_control", "memory cpu pids\n");
  write_file(own + "/cgroup.procs", std::to_string(::getpid()) + "\n");
  cgroup_manager manager = open();
  BOOST_TEST((manager.version() == cgroup_version::v2));
  BOOST_TEST(read_file(own + "/cgroup.subtree_control") == "memory cpu pids\n");
  // Nothing is missing in the own group, so no leaf move is needed.
  BOOST_TEST(!fs::exists(parent() + "/daemon"));
}

BOOST_AUTO_TEST_CASE(daemon_moved_into_leaf) {
  write_file(own + "/cgroup.procs", std::to_string(::getpid()) + "\n");
  {
    cgroup_manager manager = open();
    BOOST_TEST((manager.version() == cgroup_version::v2));
    BOOST_TEST(read_file(parent() + "/daemon/cgroup.procs") ==
               std::to_string(::getpid()));
    BOOST_TEST(manager.description().find("daemon moved to " + parent() +
                                          "/daemon") != std::string::npos);
    BOOST_TEST(read_file(own + "/cgroup.subtree_control") ==
               "+memory +cpu +pids");
  }
  // The daemon still lives in the leaf, so both groups stay.
  BOOST_TEST(fs::is_directory(parent() + "/daemon"));
}

BOOST_AUTO_TEST_CASE(other_processes_block_v2) {
  pid_t self = ::getpid();
  write_file(own + "/cgroup.procs",
             std::to_string(self) + "\n" + std::to_string(self + 1) + "\n");
  cgroup_manager manager = open(cgroup_mode::v2);
  BOOST_TEST((manager.version() == cgroup_version::none));
  BOOST_TEST(manager.description().find("contains processes of others") !=
             std::string::npos);
  // The move is undone: this process is written back and the groups go.
  BOOST_TEST(read_file(own + "/cgroup.procs") == std::to_string(self));
  BOOST_TEST(!fs::exists(parent()));
  BOOST_TEST(read_file(own + "/cgroup.subtree_control").empty());
}

BOOST_AUTO_TEST_CASE(root_group_needs_no_leaf) {
  system.self_cgroup = "0::/\n";
  write_file(mount + "/cgroup.procs", std::to_string(::getpid()) + "\n");
  std::string root_parent = mount + "/" + daemon_name;
  {
    cgroup_manager manager = open();
    BOOST_TEST((manager.version() == cgroup_version::v2));
    BOOST_TEST_REQUIRE(manager.hierarchies().size() == 1u);
    BOOST_TEST(manager.hierarchies()[0].parent_group == root_parent);
    BOOST_TEST(!fs::exists(root_parent + "/daemon"));
  }
  BOOST_TEST(!fs::exists(root_parent));
}

BOOST_AUTO_TEST_CASE(missing_memory_controller_reported) {
  write_file(own + "/cgroup.controllers", "cpu pids\n");
  cgroup_manager manager = open();
  BOOST_TEST((manager.version() == cgroup_version::none));
  BOOST_TEST(!manager.enabled());
  BOOST_TEST(manager.description() ==
             "none: cgroup v2 has no memory controller in " + own +
                 " and v1 memory is not mounted below " + mount);
  BOOST_TEST(!fs::exists(parent()));
}

BOOST_AUTO_TEST_CASE(off_mode_creates_nothing) {
  cgroup_manager manager = open(cgroup_mode::off);
  BOOST_TEST((manager.version() == cgroup_version::none));
  BOOST_TEST(manager.description() == "none: cgroups are off by configuration");
  BOOST_TEST(!fs::exists(parent()));
  auto result = manager.create_session("s1", {});
  BOOST_TEST(!result.group.has_value());
  BOOST_TEST_REQUIRE(result.error.has_value());
  BOOST_TEST(result.error->error_number == ENOTSUP);
}

BOOST_AUTO_TEST_CASE(group_outside_mount_rejected) {
  system.mountinfo =
      "41 31 0:38 /other " + mount + " rw,relatime - cgroup2 cgroup2 rw\n";
  cgroup_manager manager = open(cgroup_mode::v2);
  BOOST_TEST((manager.version() == cgroup_version::none));
  BOOST_TEST(manager.description() ==
             "none: cgroup v2: group /system.slice/corral.service is outside "
             "the mount " +
                 mount);
}

BOOST_AUTO_TEST_CASE(mount_root_stripped_from_path) {
  // A mount of /system.slice shows the group at <mount>/corral.service.
  fs::create_directories(mount + "/corral.service");
  kernel->populate(mount + "/corral.service", "memory cpu pids");
  system.mountinfo = "41 31 0:38 /system.slice " + mount +
                     " rw,relatime - cgroup2 cgroup2 rw\n";
  cgroup_manager manager = open(cgroup_mode::v2);
  BOOST_TEST_REQUIRE(manager.hierarchies().size() == 1u);
  BOOST_TEST(manager.hierarchies()[0].own_group == mount + "/corral.service");
}

BOOST_AUTO_TEST_CASE(limits_written_to_files) {
  cgroup_manager manager = open();
  cgroup_limits limits;
  limits.memory_bytes = 64u << 20;
  limits.cpu_percent = 20;
  limits.pids_max = 20;
  auto result = manager.create_session("s1", limits);
  BOOST_TEST_REQUIRE(result.group.has_value());
  std::string group = parent() + "/s1";
  BOOST_TEST(result.group->directories() == std::vector<std::string>{group});
  BOOST_TEST(result.group->procs_paths() ==
             std::vector<std::string>{group + "/cgroup.procs"});

  struct row {
    const char* file;
    const char* content;
  };
  const row rows[] = {{"memory.max", "67108864"},
                      {"memory.swap.max", "0"},
                      {"cpu.max", "20000 100000"},
                      {"pids.max", "20"}};
  for (const row& entry : rows) {
    BOOST_TEST_CONTEXT("file " << entry.file) {
      BOOST_TEST(read_file(group + "/" + entry.file) == entry.content);
    }
  }
}

BOOST_AUTO_TEST_CASE(zero_limits_leave_defaults) {
  cgroup_manager manager = open();
  auto result = manager.create_session("s1", cgroup_limits{});
  BOOST_TEST_REQUIRE(result.group.has_value());
  std::string group = parent() + "/s1";
  BOOST_TEST(read_file(group + "/memory.max") == "max\n");
  BOOST_TEST(read_file(group + "/memory.swap.max") == "max\n");
  BOOST_TEST(read_file(group + "/cpu.max") == "max 100000\n");
  BOOST_TEST(read_file(group + "/pids.max") == "max\n");
}

BOOST_AUTO_TEST_CASE(cpu_quota_above_one_cpu) {
  cgroup_manager manager = open();
  cgroup_limits limits;
  limits.cpu_percent = 250;
  auto result = manager.create_session("s1", limits);
  BOOST_TEST_REQUIRE(result.group.has_value());
  BOOST_TEST(read_file(parent() + "/s1/cpu.max") == "250000 100000");
}

BOOST_AUTO_TEST_CASE(swap_limit_skipped_without_file) {
  kernel->with_swap = false;
  cgroup_manager manager = open();
  cgroup_limits limits;
  limits.memory_bytes = 1u << 20;
  auto result = manager.create_session("s1", limits);
  BOOST_TEST_REQUIRE(result.group.has_value());
  BOOST_TEST(read_file(parent() + "/s1/memory.max") == "1048576");
  BOOST_TEST(!fs::exists(parent() + "/s1/memory.swap.max"));
}

BOOST_AUTO_TEST_CASE(limit_write_failure_removes_group) {
  kernel->failing_pids_max = true;
  cgroup_manager manager = open();
  cgroup_limits limits;
  limits.pids_max = 5;
  auto result = manager.create_session("s1", limits);
  BOOST_TEST(!result.group.has_value());
  BOOST_TEST_REQUIRE(result.error.has_value());
  BOOST_TEST(result.error->path == parent() + "/s1/pids.max");
  BOOST_TEST(result.error->error_number == ENOSPC);
  BOOST_TEST(result.error->message() == "write 5 to " + parent() +
                                            "/s1/pids.max: No space left on "
                                            "device");
  BOOST_TEST(!fs::exists(parent() + "/s1"));
}

BOOST_AUTO_TEST_CASE(usage_parsed_from_files) {
  cgroup_manager manager = open();
  auto result = manager.create_session("s1", cgroup_limits{});
  BOOST_TEST_REQUIRE(result.group.has_value());
  std::string group = parent() + "/s1";
  write_file(group + "/memory.current", "4096\n");
  write_file(group + "/memory.peak", "8192\n");
  write_file(group + "/memory.events",
             "low 0\nhigh 0\nmax 5\noom 2\noom_kill 3\noom_group_kill 1\n");
  write_file(group + "/cpu.stat",
             "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n"
             "nr_periods 10\nnr_throttled 4\nthrottled_usec 2500\n"
             "nr_bursts 0\nburst_usec 0\n");
  write_file(group + "/pids.current", "3\n");
  write_file(group + "/pids.events", "max 7\n");

  cgroup_usage usage = result.group->usage();
  BOOST_TEST(usage.memory_current == 4096u);
  BOOST_TEST(usage.memory_peak == 8192u);
  BOOST_TEST(usage.oom_kills == 3u);
  BOOST_TEST(usage.cpu_usage_us == 1500u);
  BOOST_TEST(usage.nr_throttled == 4u);
  BOOST_TEST(usage.throttled_us == 2500u);
  BOOST_TEST(usage.pids_current == 3u);
  BOOST_TEST(usage.pids_max_events == 7u);
}

BOOST_AUTO_TEST_CASE(usage_missing_files_read_zero) {
  cgroup_manager manager = open();
  auto result = manager.create_session("s1", cgroup_limits{});
  BOOST_TEST_REQUIRE(result.group.has_value());
  std::string group = parent() + "/s1";
  // Kernels before 5.19 have no memory.peak, and cpu.stat without the cpu
  // controller has no throttling keys.
  fs::remove(group + "/memory.peak");
  fs::remove(group + "/pids.events");
  write_file(group + "/cpu.stat", "usage_usec 42\n");
  cgroup_usage usage = result.group->usage();
  BOOST_TEST(usage.memory_peak == 0u);
  BOOST_TEST(usage.pids_max_events == 0u);
  BOOST_TEST(usage.cpu_usage_us == 42u);
  BOOST_TEST(usage.nr_throttled == 0u);
}

BOOST_AUTO_TEST_CASE(kill_all_writes_cgroup_kill) {
  cgroup_manager manager = open();
  auto result = manager.create_session("s1", cgroup_limits{});
  BOOST_TEST_REQUIRE(result.group.has_value());
  BOOST_TEST(result.group->kill_all());
  BOOST_TEST(read_file(parent() + "/s1/cgroup.kill") == "1");
}

BOOST_AUTO_TEST_CASE(remove_deletes_session_group) {
  cgroup_manager manager = open();
  auto result = manager.create_session("s1", cgroup_limits{});
  BOOST_TEST_REQUIRE(result.group.has_value());
  BOOST_TEST(!result.group->remove().has_value());
  BOOST_TEST(!fs::exists(parent() + "/s1"));
  BOOST_TEST(result.group->directories().empty());
  // A second call has nothing left to do.
  BOOST_TEST(!result.group->remove().has_value());
}

BOOST_AUTO_TEST_CASE(destructors_remove_groups) {
  {
    cgroup_manager manager = open();
    auto result = manager.create_session("s1", cgroup_limits{});
    BOOST_TEST_REQUIRE(result.group.has_value());
    session_cgroup moved = std::move(*result.group);
    BOOST_TEST(result.group->directories().empty());
    BOOST_TEST(fs::is_directory(parent() + "/s1"));
  }
  BOOST_TEST(!fs::exists(parent()));
}

BOOST_AUTO_TEST_CASE(invalid_session_ids_rejected) {
  cgroup_manager manager = open();
  for (const char* id : {"", ".", "..", "a/b", "daemon"}) {
    BOOST_TEST_CONTEXT("id \"" << id << "\"") {
      auto result = manager.create_session(id, cgroup_limits{});
      BOOST_TEST(!result.group.has_value());
      BOOST_TEST_REQUIRE(result.error.has_value());
      BOOST_TEST(result.error->error_number == EINVAL);
    }
  }
}

BOOST_AUTO_TEST_CASE(existing_session_group_rejected) {
  cgroup_manager manager = open();
  auto first = manager.create_session("s1", cgroup_limits{});
  BOOST_TEST_REQUIRE(first.group.has_value());
  auto second = manager.create_session("s1", cgroup_limits{});
  BOOST_TEST(!second.group.has_value());
  BOOST_TEST_REQUIRE(second.error.has_value());
  BOOST_TEST(second.error->error_number == EEXIST);
  BOOST_TEST(second.error->path == parent() + "/s1");
  BOOST_TEST(second.error->message() ==
             "mkdir " + parent() + "/s1: File exists");
  // The failed attempt must not remove the first session's group.
  BOOST_TEST(fs::is_directory(parent() + "/s1"));
}

BOOST_AUTO_TEST_CASE(stale_daemon_groups_removed) {
  std::string pid_max = read_file("/proc/sys/kernel/pid_max");
  // No process has the pid pid_max, because pids stay below it.
  std::string dead =
      own + "/corral-" + std::to_string(std::atoi(pid_max.c_str()));
  std::string live = own + "/corral-1";
  std::string other = own + "/other-group";
  std::string malformed = own + "/corral-12x";
  for (const std::string& group :
       {dead, dead + "/s1", dead + "/daemon", live, other, malformed}) {
    BOOST_TEST_REQUIRE(kernel->make_directory(group) == 0);
  }

  cgroup_manager manager = open();
  BOOST_TEST(manager.remove_stale() == 1u);
  BOOST_TEST(!fs::exists(dead));
  BOOST_TEST(fs::is_directory(live));
  BOOST_TEST(fs::is_directory(other));
  BOOST_TEST(fs::is_directory(malformed));
  BOOST_TEST(fs::is_directory(parent()));
}

BOOST_AUTO_TEST_SUITE_END()
