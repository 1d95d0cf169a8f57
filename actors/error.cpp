#include "actors/error.hpp"

#include <caf/message.hpp>
#include <caf/sec.hpp>

namespace corral::actors {

caf::error make_error(protocol::error_code code, std::string message,
                      std::map<std::string, std::int64_t> details) {
  return caf::error{static_cast<std::uint8_t>(code), error_category,
                    caf::make_message(std::move(message), std::move(details))};
}

protocol::rpc_error to_rpc_error(const caf::error& error) {
  protocol::rpc_error result;
  if (error.category() == error_category) {
    result.code = static_cast<protocol::error_code>(error.code());
    const auto& context = error.context();
    if (context.match_elements<std::string,
                               std::map<std::string, std::int64_t>>()) {
      result.message = context.get_as<std::string>(0);
      result.details = context.get_as<std::map<std::string, std::int64_t>>(1);
    }
    return result;
  }
  result.code = protocol::error_code::internal_error;
  result.message = "internal error: " + caf::to_string(error) +
                   "; the daemon keeps running, retry the request";
  return result;
}

}  // namespace corral::actors
