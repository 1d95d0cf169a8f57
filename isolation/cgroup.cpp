// Lifetime of the groups: session groups, stale daemon groups and the
// daemon's parent groups. Detection is in cgroup_detect.cpp and the
// version-specific files are in cgroup_v1.cpp and cgroup_v2.cpp.

#include "isolation/cgroup.hpp"

#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <set>
#include <utility>

#include "isolation/cgroup_files.hpp"
#include "runtime/log.hpp"

namespace corral::isolation {

using namespace cgroup_detail;

namespace {

// How long the manager's destructor retries rmdir of a parent group.
constexpr std::chrono::milliseconds parent_removal_bound{500};

bool is_valid_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find('/') == std::string::npos;
}

// Returns the pid of a stale daemon group name "corral-<pid>", or 0.
pid_t daemon_pid_of(const std::string& name) {
  const std::string prefix = "corral-";
  if (name.compare(0, prefix.size(), prefix) != 0) {
    return 0;
  }
  auto pid = parse_number(std::string_view(name).substr(prefix.size()));
  if (!pid || *pid == 0 || name.size() == prefix.size() ||
      !std::isdigit(static_cast<unsigned char>(name[prefix.size()]))) {
    return 0;
  }
  return static_cast<pid_t>(*pid);
}

bool is_live_process(pid_t pid) {
  return ::kill(pid, 0) == 0 || errno == EPERM;
}

}  // namespace

session_cgroup::session_cgroup(cgroup_version version,
                               std::vector<std::string> groups,
                               std::shared_ptr<cgroup_directories> directories)
    : version_(version),
      groups_(std::move(groups)),
      directories_(std::move(directories)) {}

session_cgroup::session_cgroup(session_cgroup&& other) noexcept
    : version_(other.version_),
      groups_(std::move(other.groups_)),
      directories_(std::move(other.directories_)) {
  other.groups_.clear();
}

session_cgroup& session_cgroup::operator=(session_cgroup&& other) noexcept {
  if (this != &other) {
    remove();
    version_ = other.version_;
    groups_ = std::move(other.groups_);
    directories_ = std::move(other.directories_);
    other.groups_.clear();
  }
  return *this;
}

session_cgroup::~session_cgroup() {
  if (auto error = remove()) {
    log::warn("cgroup removal failed error=\"{}\"", error->message());
  }
}

std::vector<std::string> session_cgroup::procs_paths() const {
  std::vector<std::string> paths;
  for (const std::string& group : groups_) {
    paths.push_back(group + "/cgroup.procs");
  }
  return paths;
}

cgroup_usage session_cgroup::usage() const {
  if (groups_.empty()) {
    return {};
  }
  if (version_ == cgroup_version::v2) {
    return v2::read_usage(groups_.front());
  }
  return v1::read_usage(groups_);
}

std::vector<pid_t> session_cgroup::pids() const { return pids_in(groups_); }

bool session_cgroup::kill_all(std::chrono::milliseconds bound) {
  if (version_ == cgroup_version::v2 && !groups_.empty()) {
    v2::request_kill(groups_.front());
  }
  return kill_processes(groups_, bound);
}

std::optional<cgroup_error> session_cgroup::remove(
    std::chrono::milliseconds bound) {
  if (groups_.empty()) {
    return std::nullopt;
  }
  kill_all(bound);
  std::optional<cgroup_error> first_error;
  std::vector<std::string> remaining;
  for (const std::string& group : groups_) {
    if (int error = remove_group(*directories_, group, bound)) {
      remaining.push_back(group);
      if (!first_error) {
        first_error = make_error("rmdir", group, error);
      }
    }
  }
  // Groups that could not be removed stay, so a later call can retry.
  groups_ = std::move(remaining);
  return first_error;
}

cgroup_manager::cgroup_manager(cgroup_manager&& other) noexcept
    : version_(std::exchange(other.version_, cgroup_version::none)),
      description_(std::move(other.description_)),
      daemon_name_(std::move(other.daemon_name_)),
      hierarchies_(std::move(other.hierarchies_)),
      moved_into_leaf_(std::exchange(other.moved_into_leaf_, false)),
      directories_(std::move(other.directories_)) {
  other.hierarchies_.clear();
}

cgroup_manager& cgroup_manager::operator=(cgroup_manager&& other) noexcept {
  if (this != &other) {
    release();
    version_ = std::exchange(other.version_, cgroup_version::none);
    description_ = std::move(other.description_);
    daemon_name_ = std::move(other.daemon_name_);
    hierarchies_ = std::move(other.hierarchies_);
    moved_into_leaf_ = std::exchange(other.moved_into_leaf_, false);
    directories_ = std::move(other.directories_);
    other.hierarchies_.clear();
  }
  return *this;
}

cgroup_manager::~cgroup_manager() { release(); }

void cgroup_manager::release() noexcept {
  // With the v2 leaf move this process still lives in <parent>/daemon,
  // and the kernel would reject moving it back into a group that enables
  // controllers for its children. The next daemon's remove_stale removes
  // both groups.
  if (!moved_into_leaf_) {
    for (const cgroup_hierarchy& hierarchy : hierarchies_) {
      if (int error = remove_group(*directories_, hierarchy.parent_group,
                                   parent_removal_bound)) {
        log::warn("cgroup removal failed group={} error=\"{}\"",
                  hierarchy.parent_group,
                  make_error("rmdir", hierarchy.parent_group, error).message());
      }
    }
  }
  hierarchies_.clear();
  version_ = cgroup_version::none;
}

std::size_t cgroup_manager::remove_stale() {
  std::set<std::string> removed;
  std::set<std::string> failed;
  for (const cgroup_hierarchy& hierarchy : hierarchies_) {
    for (const std::string& name : subdirectories(hierarchy.own_group)) {
      pid_t pid = daemon_pid_of(name);
      if (pid == 0 || name == daemon_name_ || is_live_process(pid)) {
        continue;
      }
      std::string group = hierarchy.own_group + "/" + name;
      if (auto error =
              remove_tree(*directories_, group, std::chrono::seconds(2))) {
        log::warn("stale cgroup removal failed group={} error=\"{}\"", group,
                  error->message());
        failed.insert(name);
      } else {
        removed.insert(name);
        log::info("removed stale cgroup group={}", group);
      }
    }
  }
  std::size_t count = 0;
  for (const std::string& name : removed) {
    if (failed.count(name) == 0) {
      ++count;
    }
  }
  return count;
}

session_result cgroup_manager::create_session(const std::string& session_id,
                                              const cgroup_limits& limits) {
  session_result result;
  if (version_ == cgroup_version::none) {
    result.error = make_error("create session group", session_id, ENOTSUP);
    return result;
  }
  // "daemon" is the v2 leaf that may hold this process.
  if (!is_valid_name(session_id) || session_id == "daemon") {
    result.error = make_error("check session id", session_id, EINVAL);
    return result;
  }

  std::vector<std::string> groups;
  for (const cgroup_hierarchy& hierarchy : hierarchies_) {
    std::string group = hierarchy.parent_group + "/" + session_id;
    if (int error = directories_->make_directory(group)) {
      // The groups made so far are removed by the session's destructor.
      session_cgroup partial(version_, std::move(groups), directories_);
      result.error = make_error("mkdir", group, error);
      return result;
    }
    groups.push_back(std::move(group));
  }

  session_cgroup session(version_, std::move(groups), directories_);
  std::optional<cgroup_error> error =
      version_ == cgroup_version::v2
          ? v2::apply_limits(session.directories().front(), limits)
          : v1::apply_limits(session.directories(), limits);
  if (error) {
    result.error = std::move(error);
    return result;
  }
  result.group = std::move(session);
  return result;
}

}  // namespace corral::isolation
