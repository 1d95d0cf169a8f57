// Boost.Process 1.81 compiles its vfork executor only when this is set,
// and its own test in detail/config.hpp leaves it unset under glibc's
// default feature macros (_POSIX_C_SOURCE 200809L), although glibc declares
// vfork there. Without it, bp::posix::use_vfork fails to link.
#define BOOST_POSIX_HAS_VFORK 1

#include "isolation/launcher.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/env.hpp>
#include <boost/process/environment.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/posix.hpp>
#include <cerrno>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "isolation/initializers.hpp"

namespace bp = boost::process;

namespace corral::isolation {

std::string launch_error::message() const {
  return step + ": " + std::system_category().message(error_number);
}

namespace {

// Descriptors the child will dup2 from are moved to this number or above,
// so none of them is itself a dup2 target (0, 1, 2 or state_fd).
constexpr int first_source_fd = 10;

launch_error error_from_errno(std::string step) {
  return launch_error{std::move(step), errno};
}

// Returns the PATH value of the spec's environment, or the system default
// that execvp(3) also uses when PATH is unset.
std::string search_path_of(const launch_spec& spec) {
  std::optional<std::string> path;
  for (const std::string& entry : spec.env) {
    if (entry.compare(0, 5, "PATH=") == 0) {
      path = entry.substr(5);  // a later entry replaces an earlier one
    }
  }
  if (path) {
    return *path;
  }
  std::size_t size = ::confstr(_CS_PATH, nullptr, 0);
  std::string fallback(size, '\0');
  ::confstr(_CS_PATH, fallback.data(), size);
  fallback.resize(size > 0 ? size - 1 : 0);
  return fallback;
}

bool is_executable_file(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
         ::access(path.c_str(), X_OK) == 0;
}

// Resolves the program like execvp(3), but through the spec's PATH and
// before the fork. Relative PATH entries count from the command's cwd.
std::optional<launch_error> resolve_program(const launch_spec& spec,
                                            std::string& program) {
  if (spec.program.empty()) {
    return launch_error{"resolve program: empty name", EINVAL};
  }
  if (spec.program.find('/') != std::string::npos) {
    program = spec.program;
    return std::nullopt;
  }

  std::string search_path = search_path_of(spec);
  std::size_t begin = 0;
  while (begin <= search_path.size()) {
    std::size_t end = search_path.find(':', begin);
    if (end == std::string::npos) {
      end = search_path.size();
    }
    std::string directory = search_path.substr(begin, end - begin);
    begin = end + 1;

    if (directory.empty()) {
      directory = ".";
    }
    if (directory.front() != '/') {
      directory = spec.cwd + "/" + directory;
    }
    std::string candidate = directory + "/" + spec.program;
    if (is_executable_file(candidate)) {
      program = std::move(candidate);
      return std::nullopt;
    }
  }
  return launch_error{"search PATH for " + spec.program, ENOENT};
}

std::optional<launch_error> build_environment(
    const std::vector<std::string>& entries, bp::environment& environment) {
  for (const std::string& entry : entries) {
    std::size_t equals = entry.find('=');
    if (equals == std::string::npos || equals == 0) {
      return launch_error{"parse environment entry \"" + entry + "\"", EINVAL};
    }
    environment[entry.substr(0, equals)] = entry.substr(equals + 1);
  }
  return std::nullopt;
}

// The child's ends of its standard streams, numbered first_source_fd or
// above and close-on-exec.
struct child_sources {
  unique_fd stdin_source;
  unique_fd stdout_source;
  unique_fd stderr_source;
  unique_fd state_source;
};

std::optional<launch_error> move_above_targets(unique_fd& fd) {
  int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, first_source_fd);
  if (moved < 0) {
    return error_from_errno("fcntl F_DUPFD_CLOEXEC");
  }
  fd.reset(moved);
  return std::nullopt;
}

std::optional<launch_error> set_non_blocking(const unique_fd& fd) {
  int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
    return error_from_errno("fcntl O_NONBLOCK");
  }
  return std::nullopt;
}

// Makes a pipe whose `parent_end` is non-blocking and whose `child_end` is
// moved above the dup2 targets. `child_reads` selects the direction.
std::optional<launch_error> make_pipe(const char* name, bool child_reads,
                                      unique_fd& parent_end,
                                      unique_fd& child_end) {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) {
    return error_from_errno(std::string("pipe2 ") + name);
  }
  unique_fd read_end(ends[0]);
  unique_fd write_end(ends[1]);
  parent_end = child_reads ? std::move(write_end) : std::move(read_end);
  child_end = child_reads ? std::move(read_end) : std::move(write_end);
  if (auto error = set_non_blocking(parent_end)) {
    return error;
  }
  return move_above_targets(child_end);
}

std::optional<launch_error> make_pipes(const launch_spec& spec,
                                       launched_process& process,
                                       child_sources& sources) {
  if (spec.stdin_data) {
    if (auto error = make_pipe("stdin", true, process.stdin_pipe,
                               sources.stdin_source)) {
      return error;
    }
  } else {
    sources.stdin_source.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!sources.stdin_source) {
      return error_from_errno("open /dev/null");
    }
    if (auto error = move_above_targets(sources.stdin_source)) {
      return error;
    }
  }
  if (auto error = make_pipe("stdout", false, process.stdout_pipe,
                             sources.stdout_source)) {
    return error;
  }
  if (auto error = make_pipe("stderr", false, process.stderr_pipe,
                             sources.stderr_source)) {
    return error;
  }
  if (spec.capture_state) {
    return make_pipe("state", false, process.state_pipe, sources.state_source);
  }
  return std::nullopt;
}

rlimit_step make_rlimit_step(int resource, const char* name, std::uint64_t soft,
                             std::uint64_t hard) {
  rlimit_step step;
  step.resource = resource;
  step.value.rlim_cur = static_cast<rlim_t>(soft);
  step.value.rlim_max = static_cast<rlim_t>(hard);
  step.label = std::string("setrlimit ") + name + " " + std::to_string(soft);
  return step;
}

std::vector<rlimit_step> make_rlimit_steps(const rlimit_values& limits) {
  std::vector<rlimit_step> steps;
  if (limits.cpu_sec > 0) {
    // The hard limit one second above the soft one lets SIGXCPU arrive
    // first; the kernel sends SIGKILL only at the hard limit.
    // Saturates, so that a huge value cannot wrap around to a hard limit
    // of 0, which setrlimit rejects.
    auto hard = limits.cpu_sec < RLIM_INFINITY - 1 ? limits.cpu_sec + 1
                                                   : RLIM_INFINITY;
    steps.push_back(
        make_rlimit_step(RLIMIT_CPU, "RLIMIT_CPU", limits.cpu_sec, hard));
  }
  if (limits.address_space_bytes > 0) {
    steps.push_back(make_rlimit_step(RLIMIT_AS, "RLIMIT_AS",
                                     limits.address_space_bytes,
                                     limits.address_space_bytes));
  }
  if (limits.nproc > 0) {
    steps.push_back(make_rlimit_step(RLIMIT_NPROC, "RLIMIT_NPROC", limits.nproc,
                                     limits.nproc));
  }
  if (limits.nofile > 0) {
    steps.push_back(make_rlimit_step(RLIMIT_NOFILE, "RLIMIT_NOFILE",
                                     limits.nofile, limits.nofile));
  }
  return steps;
}

// Opens the cgroup.procs files of `spec` for the child's attach step. The
// descriptors stay open until the launch returns.
std::optional<launch_error> open_cgroup_procs(
    const launch_spec& spec, std::vector<unique_fd>& descriptors,
    std::vector<cgroup_attach_step>& steps) {
  for (const std::string& path : spec.cgroup_procs) {
    unique_fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) {
      return error_from_errno("open " + path);
    }
    cgroup_attach_step step;
    step.fd = fd.get();
    step.label = "cgroup attach " + path;
    steps.push_back(std::move(step));
    descriptors.push_back(std::move(fd));
  }
  return std::nullopt;
}

// Blocks every signal of the calling thread while it lives. A signal
// handler of the daemon must not run in the vfork child, which shares the
// parent's memory and stack. The child resets its own mask.
class signals_blocked {
 public:
  signals_blocked() noexcept {
    sigset_t all;
    ::sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &previous_);
  }

  signals_blocked(const signals_blocked&) = delete;
  signals_blocked& operator=(const signals_blocked&) = delete;

  ~signals_blocked() { ::pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }

 private:
  sigset_t previous_;
};

}  // namespace

launch_result launch_process(const launch_spec& spec) {
  launch_result result;

  std::string program;
  if (auto error = resolve_program(spec, program)) {
    result.error = std::move(error);
    return result;
  }
  bp::environment environment;
  if (auto error = build_environment(spec.env, environment)) {
    result.error = std::move(error);
    return result;
  }
  launched_process process;
  child_sources sources;
  if (auto error = make_pipes(spec, process, sources)) {
    result.error = std::move(error);
    return result;
  }

  child_failure failure;
  pid_t failed_pid = 0;

  cgroup_attach_init cgroups;
  cgroups.failure = &failure;
  std::vector<unique_fd> cgroup_descriptors;
  if (auto error = open_cgroup_procs(spec, cgroup_descriptors, cgroups.steps)) {
    result.error = std::move(error);
    return result;
  }

  reset_signals_init signals;
  signals.failure = &failure;

  process_group_init group;
  group.failure = &failure;

  chdir_init directory;
  directory.failure = &failure;
  directory.directory = spec.cwd;
  directory.label = "chdir " + spec.cwd;

  rlimits_init limits;
  limits.failure = &failure;
  limits.steps = make_rlimit_steps(spec.limits);

  oom_score_init oom_score;
  oom_score.failure = &failure;
  oom_score.enabled = spec.oom_score_adj != 0;
  oom_score.value = std::to_string(spec.oom_score_adj);
  oom_score.open_label = "open /proc/self/oom_score_adj";
  oom_score.write_label = "write oom_score_adj " + oom_score.value;

  drop_user_init user;
  user.failure = &failure;
  if (spec.user) {
    user.enabled = true;
    user.uid = spec.user->uid;
    user.gid = spec.user->gid;
    user.groups = spec.user->groups;
    user.setgroups_label = "setgroups " + spec.user->name;
    user.setgid_label = "setgid " + std::to_string(spec.user->gid);
    user.setuid_label = "setuid " + std::to_string(spec.user->uid);
  }

  stdio_init stdio;
  stdio.failure = &failure;
  stdio.stdin_source = sources.stdin_source.get();
  stdio.stdout_source = sources.stdout_source.get();
  stdio.stderr_source = sources.stderr_source.get();
  stdio.state_source = sources.state_source.get();

  close_descriptors_init close_descriptors;
  close_descriptors.failure = &failure;
  close_descriptors.keep_state_fd = spec.capture_state;

  argv_init argv;
  argv.argv = spec.argv.empty() ? std::vector<std::string>{program} : spec.argv;

  exec_failure_init exec_failure;
  exec_failure.failure = &failure;
  exec_failure.failed_pid = &failed_pid;
  exec_failure.label = "execve " + program;

  std::vector<std::string> arguments;
  if (spec.argv.size() > 1) {
    arguments.assign(spec.argv.begin() + 1, spec.argv.end());
  }

  std::error_code boost_error;
  pid_t pid = -1;
  {
    signals_blocked blocked;
    // The initializers' child sides run in this order; see each type.
    // The rlimits come after the inherited descriptors are closed, because
    // a low RLIMIT_NOFILE would otherwise make the steps that open files
    // fail whenever the daemon has many descriptors open. The user is
    // dropped last, so that the rlimits are still set with root's rights.
    // argv_init replaces the command line that bp::exe and bp::args build,
    // only to give the spec's argv[0].
    bp::child child(bp::exe(program), bp::args(arguments),
                    bp::env = environment, bp::posix::use_vfork, cgroups,
                    signals, group, directory, oom_score, stdio,
                    close_descriptors, limits, user, argv, exec_failure,
                    boost_error);
    // Detach at once: the destructor of an attached bp::child kills the
    // process and waits for it, and only the reaper may wait.
    child.detach();
    pid = child.id();
  }

  if (failure.step != nullptr) {
    result.error = launch_error{failure.step, failure.error_number};
    result.failed_pid = pid > 0 ? pid : failed_pid;
    return result;
  }
  if (boost_error) {
    result.error = launch_error{"vfork " + program, boost_error.value()};
    result.failed_pid = failed_pid;
    return result;
  }
  process.pid = pid;
  result.process = std::move(process);
  return result;
}

}  // namespace corral::isolation
