#pragma once

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <cstdint>
#include <map>
#include <string>

#include "protocol/messages.hpp"

namespace corral::actors {

/// Category of corral's errors inside `caf::error`.
constexpr caf::atom_value error_category = caf::atom("corral");

/// Wraps a protocol error code, its message and optional numeric details
/// into a `caf::error`, so handlers can return it as their result.
caf::error make_error(protocol::error_code code, std::string message,
                      std::map<std::string, std::int64_t> details = {});

/// Converts any error a request can end with back into what the client is
/// sent. Errors of other categories (an actor that died, a request that
/// timed out) become `internal_error` with CAF's description.
protocol::rpc_error to_rpc_error(const caf::error& error);

}  // namespace corral::actors
