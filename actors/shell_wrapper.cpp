#include "actors/shell_wrapper.hpp"

#include <charconv>

#include "isolation/process_service.hpp"

namespace corral::actors {

namespace {

// `env` is run by absolute path so that a command that changes PATH cannot
// break the report. `exec` avoids a fork; the shell's exit status travels
// in the report, because the process then exits with env's status.
constexpr std::string_view trap_prefix =
    "trap 'corral_status=$?; "
    "printf \"%s\\0%s\\0\" \"$corral_status\" \"$PWD\" >&";
constexpr std::string_view trap_suffix = "' EXIT\n";

bool is_shell_maintained(std::string_view name) {
  return name == "PWD" || name == "SHLVL" || name == "_";
}

}  // namespace

std::string wrap_command(std::string_view command) {
  const auto fd = std::to_string(isolation::state_fd);
  std::string script;
  script.reserve(command.size() + 128);
  script.append(trap_prefix);
  script.append(fd);
  script.append("; exec /usr/bin/env -0 >&");
  script.append(fd);
  script.append(trap_suffix);
  script.append(command);
  return script;
}

std::optional<shell_state> parse_shell_state(std::string_view report) {
  shell_state state;

  auto status_end = report.find('\0');
  if (status_end == std::string_view::npos || status_end == 0)
    return std::nullopt;
  auto status = report.substr(0, status_end);
  auto [ptr, ec] = std::from_chars(status.data(), status.data() + status.size(),
                                   state.exit_code);
  if (ec != std::errc{} || ptr != status.data() + status.size())
    return std::nullopt;

  auto cwd_begin = status_end + 1;
  auto cwd_end = report.find('\0', cwd_begin);
  if (cwd_end == std::string_view::npos || cwd_end == cwd_begin)
    return std::nullopt;
  state.cwd = std::string{report.substr(cwd_begin, cwd_end - cwd_begin)};

  // Every variable ends with a NUL; a report cut short ends without one.
  auto rest = report.substr(cwd_end + 1);
  if (!rest.empty() && rest.back() != '\0') return std::nullopt;
  while (!rest.empty()) {
    auto end = rest.find('\0');
    auto entry = rest.substr(0, end);
    rest.remove_prefix(end + 1);
    auto equals = entry.find('=');
    if (equals == std::string_view::npos || equals == 0) continue;
    auto name = entry.substr(0, equals);
    if (is_shell_maintained(name)) continue;
    state.env[std::string{name}] = std::string{entry.substr(equals + 1)};
  }
  return state;
}

}  // namespace corral::actors
