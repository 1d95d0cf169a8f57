#include "protocol/error_code.hpp"

namespace corral::protocol {

namespace {

struct error_entry {
  int code;
  std::string_view name;
};

// Indexed by the enumerator value minus one.
constexpr error_entry catalogue[] = {
    {-32700, "PARSE_ERROR"},          {-32600, "INVALID_REQUEST"},
    {-32601, "METHOD_NOT_FOUND"},     {-32602, "INVALID_PARAMS"},
    {-32603, "INTERNAL_ERROR"},       {-32001, "SESSION_NOT_FOUND"},
    {-32002, "SESSION_BUSY"},         {-32003, "SESSION_LIMIT"},
    {-32004, "COMMAND_LIMIT"},        {-32005, "STDIN_TOO_LARGE"},
    {-32006, "REQUEST_TOO_LARGE"},    {-32007, "SHUTTING_DOWN"},
    {-32008, "SPAWN_FAILED"},         {-32009, "CONNECTION_LIMIT"},
    {-32010, "COMMAND_NOT_FOUND"},    {-32011, "UNAUTHORIZED"},
    {-32012, "CLIENT_SESSION_LIMIT"}, {-32013, "RATE_LIMITED"},
};

constexpr auto catalogue_size = sizeof(catalogue) / sizeof(catalogue[0]);

static_assert(catalogue_size ==
                  static_cast<std::size_t>(error_code::rate_limited),
              "every error_code needs a catalogue entry");

const error_entry& entry_of(error_code code) noexcept {
  auto index = static_cast<std::size_t>(code) - 1;
  if (index >= catalogue_size)
    index = static_cast<std::size_t>(error_code::internal_error) - 1;
  return catalogue[index];
}

}  // namespace

int json_rpc_code(error_code code) noexcept { return entry_of(code).code; }

std::string_view symbolic_name(error_code code) noexcept {
  return entry_of(code).name;
}

}  // namespace corral::protocol
