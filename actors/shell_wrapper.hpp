#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "protocol/messages.hpp"

namespace corral::actors {

/// Returns the `-c` script that runs `command` in a POSIX shell and, when
/// the shell exits, reports its exit status, working directory and exported
/// environment on descriptor `isolation::state_fd`. This is how `cd` and
/// `export` in one command carry over to the next: each command is a fresh
/// shell, started from the state the previous one reported.
///
/// The report is written by an EXIT trap, so it also covers `exit N` and
/// syntax errors. It is missing when a signal kills the shell, when the
/// command replaces the shell with `exec`, or when the command sets its own
/// EXIT trap; the session then keeps its previous state.
std::string wrap_command(std::string_view command);

/// The state a shell reported when it exited.
struct shell_state {
  int exit_code = 0;
  std::string cwd;
  protocol::environment env;
};

/// Parses the wrapper's report: "<status>\0<cwd>\0" followed by the output
/// of `env -0`. Returns nothing for an incomplete or malformed report.
/// Variables the shell maintains itself (PWD, SHLVL, _) are left out.
std::optional<shell_state> parse_shell_state(std::string_view report);

}  // namespace corral::actors
