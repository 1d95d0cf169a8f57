#pragma once

// Per-session control groups: one group per session below a parent group
// of the daemon, with memory, CPU and process-count limits and usage read
// back from the kernel's interface files.
//
// Layout, per hierarchy (one for cgroup v2, one per controller for v1):
//
//   <own group>/<daemon_name>/<session_id>   a session's commands
//   <own group>/<daemon_name>/daemon         v2 only, see below
//
// <own group> is the group this process is in when the manager opens, read
// from /proc/self/cgroup. Nothing is created anywhere else.
//
// cgroup v2 forbids processes in a non-root group that enables controllers
// for its children ("no internal process constraint", section 2-4-3 of the
// kernel's Documentation/admin-guide/cgroup-v2.rst). When <own group> is
// not the root and contains processes, the manager moves this process into
// the leaf <own group>/<daemon_name>/daemon before it writes
// cgroup.subtree_control, and opening fails over to v1 or off when other
// processes remain there. Because the daemon still lives in that leaf when
// the manager is destroyed, the destructor leaves <daemon_name> and its
// leaf in place; `remove_stale` of the next daemon removes them.
//
// A command joins its session group in the launch, through
// launch_spec::cgroup_procs and `session_cgroup::procs_paths`.
//
// Thread safety: none of the classes here is thread-safe; one thread owns
// each object.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corral::isolation {

/// The requested cgroup version. `automatic` tries v2, then v1, then off.
enum class cgroup_mode { automatic, v2, v1, off };

/// Parses "auto", "v2", "v1" or "off". Returns nothing for other text.
std::optional<cgroup_mode> parse_cgroup_mode(std::string_view text);

/// Returns the text that `parse_cgroup_mode` accepts for `mode`.
const char* to_string(cgroup_mode mode);

/// The cgroup version a manager or session uses.
enum class cgroup_version { none, v1, v2 };

/// Limits of one session group. Zero means unlimited.
struct cgroup_limits {
  /// Memory of all processes of the session, in bytes. Swap is limited to
  /// zero where the kernel offers a swap limit.
  std::uint64_t memory_bytes = 0;
  /// CPU time in percent of one CPU per 100 ms period: 20 is 20 %, 200 is
  /// two full CPUs. The kernel's minimum quota is 1 ms, so 1 % is the
  /// smallest useful value.
  std::uint64_t cpu_percent = 0;
  /// Processes and threads in the session at a time.
  std::uint64_t pids_max = 0;
};

/// Usage counters of one session group, read from the interface files.
/// A counter the kernel does not provide for the version in use is 0:
/// v1 has no memory.events and reports the peak as max_usage_in_bytes,
/// cpu_usage_us needs cpuacct in v1, and memory_peak needs Linux 5.19 in
/// v2.
struct cgroup_usage {
  std::uint64_t memory_current = 0;   // bytes
  std::uint64_t memory_peak = 0;      // bytes, since the group was created
  std::uint64_t cpu_usage_us = 0;     // CPU time of all processes
  std::uint64_t throttled_us = 0;     // time the CPU quota held them back
  std::uint64_t nr_throttled = 0;     // periods in which that happened
  std::uint64_t pids_current = 0;     // processes and threads now
  std::uint64_t oom_kills = 0;        // processes the OOM killer ended
  std::uint64_t pids_max_events = 0;  // forks rejected by pids_max
};

/// A failed file system operation on a cgroup.
struct cgroup_error {
  std::string operation;  // "mkdir", "write memory.max", ...
  std::string path;
  int error_number = 0;

  /// Returns "<operation> <path>: <strerror>".
  std::string message() const;
};

/// Directory operations on the cgroup file system. The kernel fills a new
/// group with its interface files on mkdir and removes them with the
/// group on rmdir. A test replaces these functions to emulate that on a
/// plain directory tree.
class cgroup_directories {
 public:
  virtual ~cgroup_directories() = default;

  /// Creates the directory `path` with mode 0755. Returns 0 or an errno.
  virtual int make_directory(const std::string& path);

  /// Removes the directory `path`. Returns 0 or an errno.
  virtual int remove_directory(const std::string& path);
};

/// Locations of the cgroup file systems and of this process's groups. The
/// defaults describe the running host; tests point them at a fake tree.
struct cgroup_system {
  /// Only cgroup mounts at or below this directory are used.
  std::string root = "/sys/fs/cgroup";
  /// Text of /proc/self/cgroup; read from there when unset.
  std::optional<std::string> self_cgroup;
  /// Text of /proc/self/mountinfo; read from there when unset.
  std::optional<std::string> mountinfo;
  /// The process the v2 leaf move applies to; 0 means this process.
  pid_t self_pid = 0;
  /// Directory operations; null means the real mkdir and rmdir.
  std::shared_ptr<cgroup_directories> directories;
};

/// The group of one session in every hierarchy in use. Movable, not
/// copyable; the destructor calls `remove`.
class session_cgroup {
 public:
  session_cgroup(session_cgroup&& other) noexcept;
  session_cgroup& operator=(session_cgroup&& other) noexcept;
  session_cgroup(const session_cgroup&) = delete;
  session_cgroup& operator=(const session_cgroup&) = delete;
  ~session_cgroup();

  /// Returns the version the group uses.
  cgroup_version version() const { return version_; }

  /// Returns the group's directory per hierarchy (one for v2).
  const std::vector<std::string>& directories() const { return groups_; }

  /// Returns the cgroup.procs file of each hierarchy, for
  /// launch_spec::cgroup_procs.
  std::vector<std::string> procs_paths() const;

  /// Reads the usage counters. A file that cannot be read leaves its
  /// counters at 0.
  cgroup_usage usage() const;

  /// Returns the pids in the group's cgroup.procs files, without
  /// duplicates.
  std::vector<pid_t> pids() const;

  /// Kills every process in the group, also those that left the command's
  /// process group with setsid(2) or a double fork. v2 writes cgroup.kill
  /// (Linux 5.14 and later). Both versions then send SIGKILL to every pid
  /// in cgroup.procs until the files are empty or `bound` passes. Returns
  /// true when the group is empty.
  bool kill_all(std::chrono::milliseconds bound = std::chrono::seconds(2));

  /// Kills the processes and removes the group's directories, retrying
  /// rmdir for up to `bound` while the kernel finishes the teardown of
  /// killed processes. Returns the first failure. Calling it again after
  /// success does nothing.
  std::optional<cgroup_error> remove(
      std::chrono::milliseconds bound = std::chrono::seconds(2));

 private:
  friend class cgroup_manager;
  session_cgroup(cgroup_version version, std::vector<std::string> groups,
                 std::shared_ptr<cgroup_directories> directories);

  cgroup_version version_ = cgroup_version::none;
  std::vector<std::string> groups_;  // empty once removed
  std::shared_ptr<cgroup_directories> directories_;
};

/// The result of `cgroup_manager::create_session`: a group or an error.
struct session_result {
  std::optional<session_cgroup> group;
  std::optional<cgroup_error> error;
};

/// One cgroup hierarchy in use: its controllers and the directories of
/// this process's group and of the daemon's parent group in it.
struct cgroup_hierarchy {
  std::vector<std::string> controllers;  // empty for v2
  std::string own_group;                 // directory of our own group
  std::string parent_group;              // own_group + "/" + daemon name
};

/// Detects the cgroup version, owns the daemon's parent group in each
/// hierarchy and creates session groups below it. Movable, not copyable.
class cgroup_manager {
 public:
  /// Detects what `mode` allows on `system` and creates the parent group
  /// <own group>/<daemon_name> in each hierarchy; an existing one is
  /// reused. `daemon_name` should be "corral-<pid>" so that
  /// `remove_stale` of a later daemon recognizes it. Never fails: when
  /// nothing usable is found, the manager is off and `description`
  /// gives the reason.
  static cgroup_manager open(cgroup_mode mode, std::string daemon_name,
                             cgroup_system system = {});

  cgroup_manager(cgroup_manager&& other) noexcept;
  cgroup_manager& operator=(cgroup_manager&& other) noexcept;
  cgroup_manager(const cgroup_manager&) = delete;
  cgroup_manager& operator=(const cgroup_manager&) = delete;

  /// Removes the parent groups, which must be empty by then: sessions are
  /// removed first. With the v2 leaf move, see the file comment.
  ~cgroup_manager();

  /// Returns the version in force.
  cgroup_version version() const { return version_; }

  /// Returns true when a cgroup version is in use.
  bool enabled() const { return version_ != cgroup_version::none; }

  /// Returns which version is in force and why, such as "cgroup v1
  /// (memory, cpu, pids, cpuacct)" or "none: cgroup v2 has no memory
  /// controller in /sys/fs/cgroup/unified and v1 memory is not mounted".
  const std::string& description() const { return description_; }

  /// Returns the hierarchies in use; empty when off.
  const std::vector<cgroup_hierarchy>& hierarchies() const {
    return hierarchies_;
  }

  /// Removes sibling groups of the parent named "corral-<pid>" whose pid
  /// is not a live process, after killing the processes left in them.
  /// Returns how many were removed, counting a name once even when it
  /// exists in several hierarchies. A pid that an unrelated process reuses
  /// keeps its group until a later call finds the pid unused.
  std::size_t remove_stale();

  /// Creates the group of `session_id` and writes `limits` to it. The id
  /// must be a single path component. On failure, the partly created
  /// group is removed again.
  session_result create_session(const std::string& session_id,
                                const cgroup_limits& limits);

 private:
  cgroup_manager() = default;
  void release() noexcept;

  cgroup_version version_ = cgroup_version::none;
  std::string description_;
  std::string daemon_name_;
  std::vector<cgroup_hierarchy> hierarchies_;
  bool moved_into_leaf_ = false;  // v2: this process lives in <parent>/daemon
  std::shared_ptr<cgroup_directories> directories_;
};

}  // namespace corral::isolation
