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
/// syntax errors, and the shell still exits with the command's status. The
/// report is missing when a signal kills the shell, when the command
/// replaces the shell with `exec`, or when the command sets its own EXIT
/// trap. The session then keeps its previous state.
std::string wrap_command(std::string_view command);

/// The state a shell reported when it exited.
struct shell_state {
  int exit_code = 0;
  std::string cwd;
  protocol::environment env;
};

/// Parses the wrapper's report: "<status>\0<cwd>\0", then the output of
/// the shell's `export -p`, then the line "corral-end". Reads the listing
/// formats of dash (`export NAME='value'`), bash (`declare -x NAME="value"`,
/// with `$'...'` for bytes not printable in its locale) and bash --posix
/// (`export NAME="value"`). Returns nothing for an incomplete or malformed
/// report. Left out are variables exported without a value, arrays (the shell
/// does not put them in the environment) and the variables the shell maintains
/// itself (PWD, SHLVL, _).
///
/// NOTE: bash passes on environment entries whose names are not shell
/// identifiers, and exported functions (BASH_FUNC_name%%), but `export -p`
/// leaves them out, so they do not carry over to the next command. Only the
/// dash and bash listings are tested. Another shell's listing may be
/// rejected, and then `cd` and `export` do not carry over.
std::optional<shell_state> parse_shell_state(std::string_view report);

}  // namespace corral::actors
