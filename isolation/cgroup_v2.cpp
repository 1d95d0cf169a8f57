// cgroup v2 interface files, as described in the kernel's
// Documentation/admin-guide/cgroup-v2.rst.

#include <string>

#include "isolation/cgroup_files.hpp"

namespace corral::isolation::cgroup_detail::v2 {

namespace {

std::optional<cgroup_error> write_limit(const std::string& group,
                                        const char* file,
                                        const std::string& value) {
  std::string path = group + "/" + file;
  if (int error = write_text(path, value)) {
    return make_error("write " + value + " to", path, error);
  }
  return std::nullopt;
}

}  // namespace

std::optional<cgroup_error> apply_limits(const std::string& group,
                                         const cgroup_limits& limits) {
  if (limits.memory_bytes > 0) {
    if (auto error = write_limit(group, "memory.max",
                                 std::to_string(limits.memory_bytes))) {
      return error;
    }
    // Without swap.max = 0 the kernel would swap the session out instead
    // of enforcing the limit. The file is absent without swap accounting.
    if (exists(group + "/memory.swap.max")) {
      if (auto error = write_limit(group, "memory.swap.max", "0")) {
        return error;
      }
    }
  }
  if (limits.cpu_percent > 0) {
    std::string value = std::to_string(cpu_quota_us(limits.cpu_percent)) + " " +
                        std::to_string(cpu_period_us);
    if (auto error = write_limit(group, "cpu.max", value)) {
      return error;
    }
  }
  if (limits.pids_max > 0) {
    if (auto error =
            write_limit(group, "pids.max", std::to_string(limits.pids_max))) {
      return error;
    }
  }
  return std::nullopt;
}

cgroup_usage read_usage(const std::string& group) {
  cgroup_usage usage;
  usage.memory_current = read_number(group + "/memory.current");
  // memory.peak exists from Linux 5.19.
  usage.memory_peak = read_number(group + "/memory.peak");
  usage.oom_kills = read_key(group + "/memory.events", "oom_kill");

  std::string cpu_stat;
  if (read_text(group + "/cpu.stat", cpu_stat) == 0) {
    usage.cpu_usage_us = find_key(cpu_stat, "usage_usec").value_or(0);
    usage.throttled_us = find_key(cpu_stat, "throttled_usec").value_or(0);
    usage.nr_throttled = find_key(cpu_stat, "nr_throttled").value_or(0);
  }

  usage.pids_current = read_number(group + "/pids.current");
  usage.pids_max_events = read_key(group + "/pids.events", "max");
  return usage;
}

bool request_kill(const std::string& group) {
  // cgroup.kill exists from Linux 5.14 and kills the whole subtree,
  // including processes forked while it runs.
  std::string path = group + "/cgroup.kill";
  return exists(path) && write_text(path, "1") == 0;
}

}  // namespace corral::isolation::cgroup_detail::v2
