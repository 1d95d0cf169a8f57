#pragma once

// Application logging for every layer: spdlog's default logger, writing to
// stderr. Messages start lower-case, name the ids involved as key=value
// fields (session=, pid=, peer=) and never contain environment values or
// stdin. spdlog checks the level before it formats anything.

#include <spdlog/spdlog.h>

namespace corral::log {

using spdlog::debug;
using spdlog::error;
using spdlog::info;
using spdlog::trace;
using spdlog::warn;

}  // namespace corral::log
