// Detection of the usable cgroup version and creation of the daemon's
// parent groups: cgroup_manager::open and the mode names.

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "isolation/cgroup.hpp"
#include "isolation/cgroup_files.hpp"

namespace corral::isolation {

using namespace cgroup_detail;

std::optional<cgroup_mode> parse_cgroup_mode(std::string_view text) {
  if (text == "auto") {
    return cgroup_mode::automatic;
  }
  if (text == "v2") {
    return cgroup_mode::v2;
  }
  if (text == "v1") {
    return cgroup_mode::v1;
  }
  if (text == "off") {
    return cgroup_mode::off;
  }
  return std::nullopt;
}

const char* to_string(cgroup_mode mode) {
  switch (mode) {
    case cgroup_mode::automatic:
      return "auto";
    case cgroup_mode::v2:
      return "v2";
    case cgroup_mode::v1:
      return "v1";
    case cgroup_mode::off:
      return "off";
  }
  return "auto";
}

namespace {

// The controllers every session needs, in the order they are reported.
const std::vector<std::string> required_controllers = {"memory", "cpu", "pids"};

// One line of /proc/self/mountinfo, as described in proc(5).
struct mount_entry {
  std::string root;  // the directory of the file system mounted here
  std::string mount_point;
  std::string fs_type;
  std::vector<std::string> super_options;
};

// One line of /proc/self/cgroup: "id:controllers:path".
struct group_entry {
  std::string hierarchy_id;
  std::vector<std::string> controllers;
  std::string path;
};

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::size_t begin = 0;
  for (;;) {
    std::size_t end = text.find(separator, begin);
    parts.push_back(text.substr(begin, end - begin));
    if (end == std::string::npos) {
      return parts;
    }
    begin = end + 1;
  }
}

bool contains(const std::vector<std::string>& values, const std::string& x) {
  return std::find(values.begin(), values.end(), x) != values.end();
}

std::string join(const std::vector<std::string>& values,
                 const char* separator) {
  std::string text;
  for (const std::string& value : values) {
    if (!text.empty()) {
      text += separator;
    }
    text += value;
  }
  return text;
}

std::string errno_text(int error_number) {
  return std::system_category().message(error_number);
}

// Decodes the octal escapes (\040 for a space) that mountinfo uses in paths.
std::string unescape_octal(const std::string& text) {
  std::string result;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size()) {
      std::string digits = text.substr(i + 1, 3);
      if (digits.find_first_not_of("01234567") == std::string::npos) {
        result += static_cast<char>(std::stoi(digits, nullptr, 8));
        i += 3;
        continue;
      }
    }
    result += text[i];
  }
  return result;
}

std::vector<mount_entry> parse_mountinfo(const std::string& text) {
  std::vector<mount_entry> mounts;
  for (const std::string& line : split(text, '\n')) {
    std::vector<std::string> fields = split(line, ' ');
    auto dash = std::find(fields.begin(), fields.end(), "-");
    // Six fixed fields come before the optional ones and the separator,
    // and three follow it.
    if (dash == fields.end() || dash - fields.begin() < 6 ||
        fields.end() - dash < 4) {
      continue;
    }
    mount_entry mount;
    mount.root = unescape_octal(fields[3]);
    mount.mount_point = unescape_octal(fields[4]);
    mount.fs_type = *(dash + 1);
    mount.super_options = split(*(dash + 3), ',');
    mounts.push_back(std::move(mount));
  }
  return mounts;
}

std::vector<group_entry> parse_self_cgroup(const std::string& text) {
  std::vector<group_entry> groups;
  for (const std::string& line : split(text, '\n')) {
    std::size_t first = line.find(':');
    std::size_t second =
        first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) {
      continue;
    }
    group_entry group;
    group.hierarchy_id = line.substr(0, first);
    std::string controllers = line.substr(first + 1, second - first - 1);
    if (!controllers.empty()) {
      group.controllers = split(controllers, ',');
    }
    group.path = line.substr(second + 1);
    groups.push_back(std::move(group));
  }
  return groups;
}

bool is_below(const std::string& path, const std::string& root) {
  return path == root || root == "/" ||
         (path.size() > root.size() &&
          path.compare(0, root.size(), root) == 0 && path[root.size()] == '/');
}

// Returns the directory of `group_path` in a mount of its hierarchy, or
// nothing when the mount shows only a part of the hierarchy that does not
// contain the group.
std::optional<std::string> group_directory(const mount_entry& mount,
                                           const std::string& group_path) {
  if (!is_below(group_path, mount.root)) {
    return std::nullopt;
  }
  std::string relative =
      mount.root == "/" ? group_path : group_path.substr(mount.root.size());
  if (relative.empty() || relative == "/") {
    return mount.mount_point;
  }
  return mount.mount_point + relative;
}

std::string read_or_default(const std::optional<std::string>& given,
                            const char* path) {
  if (given) {
    return *given;
  }
  std::string text;
  read_text(path, text);
  return text;
}

// The outcome of one detection attempt: hierarchies, or the reason why
// the version cannot be used.
struct detection {
  std::vector<cgroup_hierarchy> hierarchies;
  bool moved_into_leaf = false;
  std::string summary;  // "cgroup v1 (memory, cpu, pids)"
  std::string failure;  // empty on success
};

detection failed(std::string reason) {
  detection result;
  result.failure = std::move(reason);
  return result;
}

// The state of one machine as seen by the detection.
struct host_view {
  const cgroup_system& system;
  cgroup_directories& directories;
  std::vector<mount_entry> mounts;
  std::vector<group_entry> groups;
  std::string daemon_name;
  pid_t self_pid = 0;
};

std::string controller_command(const std::vector<std::string>& controllers,
                               char sign) {
  std::string command;
  for (const std::string& controller : controllers) {
    if (!command.empty()) {
      command += ' ';
    }
    command += sign;
    command += controller;
  }
  return command;
}

// Undoes the steps of a v2 setup that failed part way, in reverse order.
void undo_v2(host_view& host, const std::string& own, const std::string& parent,
             const std::vector<std::string>& enabled_in_own, bool moved) {
  if (!enabled_in_own.empty()) {
    write_text(own + "/cgroup.subtree_control",
               controller_command(enabled_in_own, '-'));
  }
  if (moved) {
    write_text(own + "/cgroup.procs", std::to_string(host.self_pid));
    host.directories.remove_directory(parent + "/daemon");
  }
  host.directories.remove_directory(parent);
}

detection detect_v2(host_view& host) {
  auto mount = std::find_if(
      host.mounts.begin(), host.mounts.end(), [&](const mount_entry& entry) {
        return entry.fs_type == "cgroup2" &&
               is_below(entry.mount_point, host.system.root);
      });
  if (mount == host.mounts.end()) {
    return failed("cgroup v2 is not mounted below " + host.system.root);
  }
  auto group = std::find_if(
      host.groups.begin(), host.groups.end(), [](const group_entry& entry) {
        return entry.hierarchy_id == "0" && entry.controllers.empty();
      });
  if (group == host.groups.end()) {
    return failed("cgroup v2: this process has no v2 group");
  }
  std::optional<std::string> own = group_directory(*mount, group->path);
  if (!own) {
    return failed("cgroup v2: group " + group->path + " is outside the mount " +
                  mount->mount_point);
  }

  std::string available;
  read_text(*own + "/cgroup.controllers", available);
  std::vector<std::string> available_list = split(available, ' ');
  for (std::string& name : available_list) {
    name.erase(name.find_last_not_of(" \n") + 1);
  }
  std::vector<std::string> missing;
  for (const std::string& controller : required_controllers) {
    if (!contains(available_list, controller)) {
      missing.push_back(controller);
    }
  }
  if (!missing.empty()) {
    return failed(
        "cgroup v2 has no " + join(missing, ", ") +
        (missing.size() > 1 ? " controllers in " : " controller in ") + *own);
  }

  std::string parent = *own + "/" + host.daemon_name;
  int error = host.directories.make_directory(parent);
  if (error != 0 && error != EEXIST) {
    return failed("cgroup v2: mkdir " + parent + ": " + errno_text(error));
  }

  // Controllers the own group does not yet pass on to its children.
  std::string subtree;
  read_text(*own + "/cgroup.subtree_control", subtree);
  std::vector<std::string> subtree_list = split(subtree, ' ');
  for (std::string& name : subtree_list) {
    name.erase(name.find_last_not_of(" \n") + 1);
  }
  std::vector<std::string> to_enable;
  for (const std::string& controller : required_controllers) {
    if (!contains(subtree_list, controller)) {
      to_enable.push_back(controller);
    }
  }

  // The no internal process constraint does not apply to the root group.
  bool own_is_root = group->path == "/";
  bool moved = false;
  if (!to_enable.empty() && !own_is_root &&
      !read_pids(*own + "/cgroup.procs").empty()) {
    std::string leaf = parent + "/daemon";
    error = host.directories.make_directory(leaf);
    if (error != 0 && error != EEXIST) {
      undo_v2(host, *own, parent, {}, false);
      return failed("cgroup v2: mkdir " + leaf + ": " + errno_text(error));
    }
    // Writing a pid to cgroup.procs moves the whole process, all threads.
    error = write_text(leaf + "/cgroup.procs", std::to_string(host.self_pid));
    if (error != 0) {
      host.directories.remove_directory(leaf);
      undo_v2(host, *own, parent, {}, false);
      return failed("cgroup v2: move this process to " + leaf + ": " +
                    errno_text(error));
    }
    moved = true;
    // The kernel has removed this process from the list by now. Skipping
    // its pid matters only for a test tree, where nothing moves.
    std::vector<pid_t> others = read_pids(*own + "/cgroup.procs");
    others.erase(std::remove(others.begin(), others.end(), host.self_pid),
                 others.end());
    if (!others.empty()) {
      undo_v2(host, *own, parent, {}, true);
      return failed("cgroup v2 group " + *own + " contains processes of " +
                    "others (pid " + std::to_string(others.front()) +
                    "), so it cannot enable controllers for its children");
    }
  }

  if (!to_enable.empty()) {
    std::string path = *own + "/cgroup.subtree_control";
    error = write_text(path, controller_command(to_enable, '+'));
    if (error != 0) {
      undo_v2(host, *own, parent, {}, moved);
      return failed("cgroup v2: write " + path + ": " + errno_text(error));
    }
  }
  std::string path = parent + "/cgroup.subtree_control";
  error = write_text(path, controller_command(required_controllers, '+'));
  if (error != 0) {
    undo_v2(host, *own, parent, to_enable, moved);
    return failed("cgroup v2: write " + path + ": " + errno_text(error));
  }

  detection result;
  result.hierarchies.push_back(cgroup_hierarchy{{}, *own, parent});
  result.moved_into_leaf = moved;
  result.summary = "cgroup v2 (memory, cpu, pids) in " + parent;
  if (moved) {
    result.summary += ", daemon moved to " + parent + "/daemon";
  }
  return result;
}

// Finds the mount and group directory of v1 `controller`, or sets `reason`.
std::optional<std::pair<const mount_entry*, std::string>> find_v1(
    const host_view& host, const std::string& controller, std::string& reason) {
  auto mount = std::find_if(
      host.mounts.begin(), host.mounts.end(), [&](const mount_entry& entry) {
        return entry.fs_type == "cgroup" &&
               is_below(entry.mount_point, host.system.root) &&
               contains(entry.super_options, controller);
      });
  if (mount == host.mounts.end()) {
    reason = "v1 " + controller + " is not mounted below " + host.system.root;
    return std::nullopt;
  }
  auto group = std::find_if(host.groups.begin(), host.groups.end(),
                            [&](const group_entry& entry) {
                              return contains(entry.controllers, controller);
                            });
  if (group == host.groups.end()) {
    reason =
        "v1 " + controller + ": this process has no " + controller + " group";
    return std::nullopt;
  }
  std::optional<std::string> directory = group_directory(*mount, group->path);
  if (!directory) {
    reason = "v1 " + controller + ": group " + group->path +
             " is outside the mount " + mount->mount_point;
    return std::nullopt;
  }
  if (::access(directory->c_str(), W_OK) != 0) {
    reason = "v1 " + controller + ": " + *directory +
             " is not writable: " + errno_text(errno);
    return std::nullopt;
  }
  return std::make_pair(&*mount, *directory);
}

detection detect_v1(host_view& host) {
  std::vector<cgroup_hierarchy> hierarchies;
  std::vector<const mount_entry*> used_mounts;
  std::vector<std::string> in_use;
  auto add = [&](const std::string& controller, std::string& reason) {
    auto found = find_v1(host, controller, reason);
    if (!found) {
      return false;
    }
    in_use.push_back(controller);
    auto known =
        std::find(used_mounts.begin(), used_mounts.end(), found->first);
    if (known != used_mounts.end()) {
      hierarchies[known - used_mounts.begin()].controllers.push_back(
          controller);
      return true;
    }
    used_mounts.push_back(found->first);
    hierarchies.push_back(cgroup_hierarchy{
        {controller}, found->second, found->second + "/" + host.daemon_name});
    return true;
  };

  for (const std::string& controller : required_controllers) {
    std::string reason;
    if (!add(controller, reason)) {
      return failed(reason);
    }
  }
  // cpuacct only adds the CPU usage counter, so its absence is no failure.
  std::string cpuacct_reason;
  bool has_cpuacct = add("cpuacct", cpuacct_reason);

  for (std::size_t i = 0; i < hierarchies.size(); ++i) {
    const std::string& parent = hierarchies[i].parent_group;
    int error = host.directories.make_directory(parent);
    if (error != 0 && error != EEXIST) {
      for (std::size_t j = 0; j < i; ++j) {
        host.directories.remove_directory(hierarchies[j].parent_group);
      }
      return failed("v1: mkdir " + parent + ": " + errno_text(error));
    }
  }

  detection result;
  result.hierarchies = std::move(hierarchies);
  result.summary = "cgroup v1 (" + join(in_use, ", ") + ")";
  if (!has_cpuacct) {
    result.summary += ", CPU usage reads 0 because " + cpuacct_reason;
  }
  return result;
}

}  // namespace

cgroup_manager cgroup_manager::open(cgroup_mode mode, std::string daemon_name,
                                    cgroup_system system) {
  cgroup_manager manager;
  manager.daemon_name_ = std::move(daemon_name);
  manager.directories_ = system.directories
                             ? system.directories
                             : std::make_shared<cgroup_directories>();
  if (mode == cgroup_mode::off) {
    manager.description_ = "none: cgroups are off by configuration";
    return manager;
  }
  if (manager.daemon_name_.empty() ||
      manager.daemon_name_.find('/') != std::string::npos ||
      manager.daemon_name_ == "." || manager.daemon_name_ == "..") {
    manager.description_ =
        "none: invalid daemon group name \"" + manager.daemon_name_ + "\"";
    return manager;
  }

  host_view host{system,
                 *manager.directories_,
                 {},
                 {},
                 manager.daemon_name_,
                 system.self_pid > 0 ? system.self_pid : ::getpid()};
  host.mounts = parse_mountinfo(
      read_or_default(system.mountinfo, "/proc/self/mountinfo"));
  host.groups = parse_self_cgroup(
      read_or_default(system.self_cgroup, "/proc/self/cgroup"));

  std::string v2_failure;
  if (mode == cgroup_mode::automatic || mode == cgroup_mode::v2) {
    detection found = detect_v2(host);
    if (found.failure.empty()) {
      manager.version_ = cgroup_version::v2;
      manager.hierarchies_ = std::move(found.hierarchies);
      manager.moved_into_leaf_ = found.moved_into_leaf;
      manager.description_ = std::move(found.summary);
      return manager;
    }
    v2_failure = std::move(found.failure);
    if (mode == cgroup_mode::v2) {
      manager.description_ = "none: " + v2_failure;
      return manager;
    }
  }

  detection found = detect_v1(host);
  if (found.failure.empty()) {
    manager.version_ = cgroup_version::v1;
    manager.hierarchies_ = std::move(found.hierarchies);
    manager.description_ = std::move(found.summary);
    if (!v2_failure.empty()) {
      manager.description_ += "; not v2 because " + v2_failure;
    }
    return manager;
  }
  manager.description_ = "none: ";
  if (!v2_failure.empty()) {
    manager.description_ += v2_failure + " and ";
  }
  manager.description_ += found.failure;
  return manager;
}

}  // namespace corral::isolation
