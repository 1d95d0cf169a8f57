#pragma once

// Custom Boost.Process initializers, one per step of the child's setup.
//
// Every on_exec_setup and on_exec_error below runs in the child between
// vfork(2) and execve(2). The child shares the memory of the parent, which
// has other threads, so these functions follow one contract: only
// async-signal-safe system calls, no allocation, no locks, no logging and no
// exceptions. Every path, label and value is prepared by the parent before
// the fork. A failing step records its label and errno in `child_failure`
// and calls _exit(127). The parent reads the record once vfork returns.
// Boost's executor::set_error assigns a std::string, so no initializer calls
// it from the child.

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <boost/process/extend.hpp>
#include <cerrno>
#include <string>
#include <system_error>
#include <vector>

#include "isolation/process_service.hpp"

namespace corral::isolation {

/// The first setup step that failed in the child. The child writes it
/// before it exits and the parent reads it after vfork(2) returns. The
/// fields are volatile because the compiler cannot see that the child
/// writes memory the parent later reads.
struct child_failure {
  /// Label of the failed step, owned by the initializer that failed.
  const char* volatile step = nullptr;
  volatile int error_number = 0;
};

/// Records `step` and `error_number` in `failure` and exits the child.
/// Child side, between vfork and execve: async-signal-safe calls only,
/// no allocation.
[[noreturn]] inline void fail_in_child(child_failure& failure, const char* step,
                                       int error_number) noexcept {
  failure.step = step;
  failure.error_number = error_number;
  ::_exit(127);
}

/// Resets every catchable signal to its default action and unblocks all
/// signals. The daemon ignores SIGPIPE and the launch blocks every signal
/// around vfork, and neither may reach the command.
struct reset_signals_init : boost::process::extend::handler {
  child_failure* failure = nullptr;

  /// Child side, between vfork and execve: async-signal-safe calls only,
  /// no allocation.
  template <class Executor>
  void on_exec_setup(Executor&) const {
    for (int signal = 1; signal < NSIG; ++signal) {
      if (signal == SIGKILL || signal == SIGSTOP) {
        continue;
      }
      struct sigaction action {};
      action.sa_handler = SIG_DFL;
      // glibc rejects its two internal real-time signals with EINVAL.
      if (::sigaction(signal, &action, nullptr) != 0 && errno != EINVAL) {
        fail_in_child(*failure, "sigaction SIG_DFL", errno);
      }
    }
    sigset_t empty;
    ::sigemptyset(&empty);
    if (::sigprocmask(SIG_SETMASK, &empty, nullptr) != 0) {
      fail_in_child(*failure, "sigprocmask", errno);
    }
  }
};

/// One cgroup.procs file opened by the parent for the child to join.
struct cgroup_attach_step {
  int fd = -1;        // open for writing, close-on-exec
  std::string label;  // "cgroup attach <path>"
};

/// Moves the child into its cgroups by writing "0" to each cgroup.procs
/// descriptor, because the kernel reads pid 0 as the writing process. It
/// runs first, so every later step and the command itself run inside the
/// groups. That also puts it before drop_user_init, while the child still
/// has the daemon's credentials, and before stdio_init and
/// close_descriptors_init replace or close the descriptors.
struct cgroup_attach_init : boost::process::extend::handler {
  child_failure* failure = nullptr;
  std::vector<cgroup_attach_step> steps;

  /// Child side, between vfork and execve: async-signal-safe calls only,
  /// no allocation.
  template <class Executor>
  void on_exec_setup(Executor&) const {
    for (const cgroup_attach_step& step : steps) {
      ssize_t written = ::write(step.fd, "0", 1);
      if (written != 1) {
        fail_in_child(*failure, step.label.c_str(), written < 0 ? errno : EIO);
      }
    }
  }
};

/// Puts the child in a new process group whose id is its pid, so the daemon
/// can signal the command together with everything it starts.
struct process_group_init : boost::process::extend::handler {
  child_failure* failure = nullptr;

  /// Child side, between vfork and execve: async-signal-safe calls only,
  /// no allocation.
  template <class Executor>
  void on_exec_setup(Executor&) const {
    if (::setpgid(0, 0) != 0) {
      fail_in_child(*failure, "setpgid", errno);
    }
  }
};

/// Changes the child's working directory.
struct chdir_init : boost::process::extend::handler {
  child_failure* failure = nullptr;
  std::string directory;
  std::string label;  // "chdir <directory>"

  /// Child side, between vfork and execve: async-signal-safe calls only,
  /// no allocation.
  template <class Executor>
  void on_exec_setup(Executor&) const {
    if (::chdir(directory.c_str()) != 0) {
      fail_in_child(*failure, label.c_str(), errno);
    }
  }
};

/// One setrlimit(2) call prepared by the parent.
struct rlimit_step {
  int resource = 0;
  struct rlimit value {};
  std::string label;  // "setrlimit RLIMIT_CPU 5"
};

/// Applies the resource limits of the spec.
struct rlimits_init : boost::process::extend::handler {
  child_failure* failure = nullptr;
  std::vector<rlimit_step> steps;

  /// Child side, between vfork and execve: async-signal-safe calls only,
  /// no allocation.
  template <class Executor>
  void on_exec_setup(Executor&) const {
    for (const rlimit_step& step : steps) {
      if (::setrlimit(static_cast<__rlimit_resource_t>(step.resource),
                      &step.value) != 0) {
        fail_in_child(*failure, step.label.c_str(), errno);
      }
    }
  }
};

/// Writes the child's OOM killer score adjustment. Lowering it needs
/// CAP_SYS_RESOURCE, so this step runs before privileges are dropped.
struct oom_score_init : boost::process::extend::handler {
  child_failure* failure = nullptr;
  bool enabled = false;
  std::string value;  // decimal text written to the file
  std::string open_label;
  std::string write_label;

  /// Child side, between vfork and execve: async-signal-safe calls only,
  /// no allocation.
  template <class Executor>
  void on_exec_setup(Executor&) const {
    if (!enabled) {
      return;
    }
    int fd = ::open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      fail_in_child(*failure, open_label.c_str(), errno);
    }
    ssize_t written = ::write(fd, value.data(), value.size());
    if (written != static_cast<ssize_t>(value.size())) {
      fail_in_child(*failure, write_label.c_str(), written < 0 ? errno : EIO);
    }
    ::close(fd);
  }
};

/// Drops the child to an unprivileged user: supplementary groups, then the
/// group id, then the user id, because each later call needs the privilege
/// that the next one gives up. It uses raw system calls because glibc's
/// wrappers change the credentials of every thread of the process, and the
/// vfork child would run that broadcast on the parent's threads.
struct drop_user_init : boost::process::extend::handler {
  child_failure* failure = nullptr;
  bool enabled = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  std::string setgroups_label;
  std::string setgid_label;
  std::string setuid_label;

  /// Child side, between vfork and execve: async-signal-safe calls only,
  /// no allocation.
  template <class Executor>
  void on_exec_setup(Executor&) const {
    if (!enabled) {
      return;
    }
    if (::syscall(SYS_setgroups, groups.size(), groups.data()) != 0) {
      fail_in_child(*failure, setgroups_label.c_str(), errno);
    }
    if (::syscall(SYS_setgid, gid) != 0) {
      fail_in_child(*failure, setgid_label.c_str(), errno);
    }
    if (::syscall(SYS_setuid, uid) != 0) {
      fail_in_child(*failure, setuid_label.c_str(), errno);
    }
  }
};

/// Connects pipe ends made by the parent to descriptors 0, 1, 2 and, with
/// state capture, `state_fd`. The sources are numbered 10 and above, so no
/// dup2 overwrites a source that a later dup2 still needs. dup2 clears
/// FD_CLOEXEC on the target and the sources close at execve.
struct stdio_init : boost::process::extend::handler {
  child_failure* failure = nullptr;
  int stdin_source = -1;
  int stdout_source = -1;
  int stderr_source = -1;
  int state_source = -1;  // -1 without state capture

  /// Child side, between vfork and execve: async-signal-safe calls only,
  /// no allocation.
  template <class Executor>
  void on_exec_setup(Executor&) const {
    if (::dup2(stdin_source, STDIN_FILENO) < 0) {
      fail_in_child(*failure, "dup2 stdin", errno);
    }
    if (::dup2(stdout_source, STDOUT_FILENO) < 0) {
      fail_in_child(*failure, "dup2 stdout", errno);
    }
    if (::dup2(stderr_source, STDERR_FILENO) < 0) {
      fail_in_child(*failure, "dup2 stderr", errno);
    }
    if (state_source >= 0 && ::dup2(state_source, state_fd) < 0) {
      fail_in_child(*failure, "dup2 state descriptor", errno);
    }
  }
};

/// Closes every descriptor the child inherited except 0 to 2 and, with
/// state capture, `state_fd`. Descriptors that other daemon threads opened
/// without O_CLOEXEC would otherwise leak into the command.
struct close_descriptors_init : boost::process::extend::handler {
  child_failure* failure = nullptr;
  bool keep_state_fd = false;

  /// Child side, between vfork and execve: async-signal-safe calls only,
  /// no allocation.
  template <class Executor>
  void on_exec_setup(Executor&) const {
    constexpr unsigned first = STDERR_FILENO + 1;
    constexpr unsigned last = ~0U;
    if (keep_state_fd) {
      if (::close_range(first, state_fd - 1, 0) != 0 ||
          ::close_range(state_fd + 1, last, 0) != 0) {
        fail_in_child(*failure, "close_range", errno);
      }
    } else if (::close_range(first, last, 0) != 0) {
      fail_in_child(*failure, "close_range", errno);
    }
  }
};

/// Replaces the argument vector Boost builds, whose first entry is always
/// the executable path, so the command gets the argv[0] of the spec.
struct argv_init : boost::process::extend::handler {
  std::vector<std::string> argv;
  std::vector<char*> pointers;  // into `argv`, ending with nullptr

  /// Parent side, before the fork.
  template <class Executor>
  void on_setup(Executor& executor) {
    pointers.clear();
    for (std::string& argument : argv) {
      pointers.push_back(argument.data());
    }
    pointers.push_back(nullptr);
    executor.cmd_line = pointers.data();
  }
};

/// Records a failed execve(2) in `child_failure`, and the pid of the child
/// that Boost gives up on, which still has to be reaped.
struct exec_failure_init : boost::process::extend::handler {
  child_failure* failure = nullptr;
  pid_t* failed_pid = nullptr;
  std::string label;  // "execve <path>"

  /// Child side, after execve failed: async-signal-safe calls only, no
  /// allocation. Boost calls _exit afterwards.
  template <class Executor>
  void on_exec_error(Executor&, const std::error_code& error) const {
    failure->step = label.c_str();
    failure->error_number = error.value();
  }

  /// Parent side, after a failed launch.
  template <class Executor>
  void on_error(Executor& executor, const std::error_code&) const {
    if (executor.pid > 0) {
      *failed_pid = executor.pid;
    }
  }
};

}  // namespace corral::isolation
