#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace corral::isolation {

/// Per-process resource limits applied with setrlimit(2) in the child. Zero
/// means "leave the inherited limit alone".
struct rlimit_values {
  /// RLIMIT_CPU in seconds. The soft limit is this value and the hard limit
  /// one second more, so the kernel sends SIGXCPU before SIGKILL.
  std::uint64_t cpu_sec = 0;
  /// RLIMIT_AS in bytes. Programs that reserve large address space (JVM,
  /// Go, V8, sanitizers) fail under a low value.
  std::uint64_t address_space_bytes = 0;
  /// RLIMIT_NPROC: processes and threads of the real user id on the whole
  /// host. Not enforced for root.
  std::uint64_t nproc = 0;
  /// RLIMIT_NOFILE: open descriptors per process.
  std::uint64_t nofile = 0;
};

/// An unprivileged account to run commands as, resolved before fork so the
/// child needs no lookups.
struct run_as_user {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups
  std::string home;
};

/// Resolves `name` through the passwd and group databases. Returns nothing
/// and sets `error` when the user does not exist.
std::optional<run_as_user> resolve_user(const std::string& name,
                                        std::string& error);

}  // namespace corral::isolation
