// cgroup v1 interface files of the memory, cpu, cpuacct and pids
// controllers, each of which may be mounted as its own hierarchy.

#include <string>

#include "isolation/cgroup_files.hpp"

namespace corral::isolation::cgroup_detail::v1 {

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

std::optional<cgroup_error> apply_memory(const std::string& group,
                                         std::uint64_t bytes) {
  std::string value = std::to_string(bytes);
  // memory.memsw.limit_in_bytes (memory plus swap) must not be below
  // memory.limit_in_bytes, so the memory limit goes first. The same value
  // for both forbids swap. The memsw file is absent without swap
  // accounting.
  if (auto error = write_limit(group, "memory.limit_in_bytes", value)) {
    return error;
  }
  if (exists(group + "/memory.memsw.limit_in_bytes")) {
    return write_limit(group, "memory.memsw.limit_in_bytes", value);
  }
  return std::nullopt;
}

std::optional<cgroup_error> apply_cpu(const std::string& group,
                                      std::uint64_t percent) {
  if (auto error = write_limit(group, "cpu.cfs_period_us",
                               std::to_string(cpu_period_us))) {
    return error;
  }
  return write_limit(group, "cpu.cfs_quota_us",
                     std::to_string(cpu_quota_us(percent)));
}

}  // namespace

std::optional<cgroup_error> apply_limits(const std::vector<std::string>& groups,
                                         const cgroup_limits& limits) {
  for (const std::string& group : groups) {
    if (limits.memory_bytes > 0 && exists(group + "/memory.limit_in_bytes")) {
      if (auto error = apply_memory(group, limits.memory_bytes)) {
        return error;
      }
    }
    if (limits.cpu_percent > 0 && exists(group + "/cpu.cfs_quota_us")) {
      if (auto error = apply_cpu(group, limits.cpu_percent)) {
        return error;
      }
    }
    if (limits.pids_max > 0 && exists(group + "/pids.max")) {
      if (auto error =
              write_limit(group, "pids.max", std::to_string(limits.pids_max))) {
        return error;
      }
    }
  }
  return std::nullopt;
}

cgroup_usage read_usage(const std::vector<std::string>& groups) {
  cgroup_usage usage;
  for (const std::string& group : groups) {
    if (exists(group + "/memory.usage_in_bytes")) {
      usage.memory_current = read_number(group + "/memory.usage_in_bytes");
      usage.memory_peak = read_number(group + "/memory.max_usage_in_bytes");
      // The oom_kill line of memory.oom_control exists from Linux 4.13.
      usage.oom_kills = read_key(group + "/memory.oom_control", "oom_kill");
    }
    if (exists(group + "/cpuacct.usage")) {
      usage.cpu_usage_us = read_number(group + "/cpuacct.usage") / 1000;
    }
    std::string cpu_stat;
    if (read_text(group + "/cpu.stat", cpu_stat) == 0) {
      // v1 reports throttled_time in nanoseconds.
      usage.throttled_us =
          find_key(cpu_stat, "throttled_time").value_or(0) / 1000;
      usage.nr_throttled = find_key(cpu_stat, "nr_throttled").value_or(0);
    }
    if (exists(group + "/pids.current")) {
      usage.pids_current = read_number(group + "/pids.current");
      usage.pids_max_events = read_key(group + "/pids.events", "max");
    }
  }
  return usage;
}

}  // namespace corral::isolation::cgroup_detail::v1
