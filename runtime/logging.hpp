#pragma once

#include <string>

namespace corral {

/// Sends spdlog's default logger to stderr with a timestamp and the level,
/// at `level` (trace, debug, info, warn, error or off, as `validate`
/// accepts).
void setup_logging(const std::string& level);

}  // namespace corral
