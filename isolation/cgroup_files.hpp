#pragma once

// Internal helpers of the cgroup module: reading and writing interface
// files, and the version-specific steps behind cgroup_manager and
// session_cgroup. Not part of the public API.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "isolation/cgroup.hpp"

namespace corral::isolation::cgroup_detail {

/// Reads the whole file `path` into `text`. Returns 0 or an errno.
int read_text(const std::string& path, std::string& text);

/// Replaces the content of the existing file `path` with `text` in one
/// write(2), as the kernel expects for interface files. Never creates the
/// file. Returns 0 or an errno.
int write_text(const std::string& path, std::string_view text);

/// Returns true when `path` exists.
bool exists(const std::string& path);

/// Returns the names of the subdirectories of `path`, which in a cgroup
/// file system are the child groups.
std::vector<std::string> subdirectories(const std::string& path);

/// Parses a decimal number, ignoring surrounding white space. Returns
/// nothing for other text, such as "max".
std::optional<std::uint64_t> parse_number(std::string_view text);

/// Returns the value of `key` in "key value" lines, as in cpu.stat or
/// memory.events, or nothing when the key is absent.
std::optional<std::uint64_t> find_key(std::string_view text,
                                      std::string_view key);

/// Reads a number file such as memory.current. Returns 0 when the file
/// is missing or contains no number.
std::uint64_t read_number(const std::string& path);

/// Reads one key of a "key value" file. Returns 0 when either is missing.
std::uint64_t read_key(const std::string& path, std::string_view key);

/// Returns the pids listed in the file `procs_path`.
std::vector<pid_t> read_pids(const std::string& procs_path);

/// Returns the pids in the cgroup.procs files of `groups`, without
/// duplicates.
std::vector<pid_t> pids_in(const std::vector<std::string>& groups);

/// Sends SIGKILL to the processes of `groups` until none is left or `bound`
/// passes. Never signals pid 1 or this process. Returns true when empty.
bool kill_processes(const std::vector<std::string>& groups,
                    std::chrono::milliseconds bound);

/// Removes `group` with rmdir, retrying on EBUSY until `bound` passes,
/// because the kernel empties a group shortly after its last process
/// died. Returns 0 or an errno.
int remove_group(cgroup_directories& directories, const std::string& group,
                 std::chrono::milliseconds bound);

/// Kills the processes of `group` and of every group below it and removes
/// them, deepest first. Returns the first failure.
std::optional<cgroup_error> remove_tree(cgroup_directories& directories,
                                        const std::string& group,
                                        std::chrono::milliseconds bound);

/// Returns a cgroup_error for `operation` on `path` with `error_number`.
cgroup_error make_error(std::string operation, std::string path,
                        int error_number);

/// CPU period written with every quota, in microseconds.
constexpr std::uint64_t cpu_period_us = 100000;

/// Returns the quota in microseconds per `cpu_period_us` for `percent` of
/// one CPU. 1 % gives 1000, the kernel's minimum quota.
std::uint64_t cpu_quota_us(std::uint64_t percent);

namespace v2 {

/// Writes `limits` to the v2 group `group`.
std::optional<cgroup_error> apply_limits(const std::string& group,
                                         const cgroup_limits& limits);

/// Reads the counters of the v2 group `group`.
cgroup_usage read_usage(const std::string& group);

/// Writes "1" to cgroup.kill when the file exists. Returns true when the
/// kernel accepted it.
bool request_kill(const std::string& group);

}  // namespace v2

namespace v1 {

/// Writes `limits` to the v1 groups of one session, one per hierarchy. The
/// controllers of each are recognized by their interface files, so a
/// hierarchy that combines controllers needs no special case.
std::optional<cgroup_error> apply_limits(const std::vector<std::string>& groups,
                                         const cgroup_limits& limits);

/// Reads the counters of the v1 groups of one session.
cgroup_usage read_usage(const std::vector<std::string>& groups);

}  // namespace v1

}  // namespace corral::isolation::cgroup_detail
