#pragma once

#include <cstdint>
#include <string_view>

namespace corral::protocol {

/// Failure conditions that reach a client as a JSON-RPC error. The first
/// five are the JSON-RPC 2.0 codes. The rest are corral runtime conditions,
/// each with its own code in the -32000 range and a stable symbolic name in
/// `error.data.error`. Values start at 1 so that 0 stays "no error" when
/// the enum is wrapped in a `caf::error`.
enum class error_code : std::uint8_t {
  parse_error = 1,
  invalid_request,
  method_not_found,
  invalid_params,
  internal_error,
  session_not_found,
  session_busy,
  session_limit,
  command_limit,
  stdin_too_large,
  request_too_large,
  shutting_down,
  spawn_failed,
  connection_limit,
  command_not_found,
  unauthorized,
  client_session_limit,
  rate_limited,
};

/// Returns the numeric JSON-RPC `error.code` for `code`.
int json_rpc_code(error_code code) noexcept;

/// Returns the stable symbolic name sent in `error.data.error`, such as
/// `SESSION_BUSY`. Clients branch on this name, never on the message text.
std::string_view symbolic_name(error_code code) noexcept;

}  // namespace corral::protocol
