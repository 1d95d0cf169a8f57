#pragma once

#include <sys/types.h>

#include <optional>

#include "isolation/process_service.hpp"
#include "isolation/unique_fd.hpp"

namespace corral::isolation {

/// A started child and the parent ends of its pipes, all non-blocking and
/// close-on-exec.
struct launched_process {
  pid_t pid = 0;          // also the process group id
  unique_fd stdin_pipe;   // write end; empty when stdin is /dev/null
  unique_fd stdout_pipe;  // read end
  unique_fd stderr_pipe;  // read end
  unique_fd state_pipe;   // read end; empty without state capture
};

/// The result of `launch_process`: a process or an error.
struct launch_result {
  std::optional<launched_process> process;
  std::optional<launch_error> error;
  /// A child that failed between vfork and execve and exited, or 0. It may
  /// still need reaping, which only the reaper does.
  pid_t failed_pid = 0;
};

/// Starts the command of `spec` with Boost.Process (vfork, then the custom
/// initializers, then execve) and returns it with the parent ends of its
/// pipes. Returns launch failures as errors, never waits for the child, and
/// blocks all signals of the calling thread while vfork runs.
launch_result launch_process(const launch_spec& spec);

}  // namespace corral::isolation
