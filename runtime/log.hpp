#pragma once

// Application logging for every layer: spdlog's default logger, writing to
// stderr. Messages start lower-case, name the ids involved as key=value
// fields (session=, pid=, peer=) and never contain environment values or
// stdin. spdlog checks the level before it formats anything.

#include <spdlog/spdlog.h>

#include <cstdio>
#include <string>
#include <string_view>

namespace corral::log {

/// Returns client-supplied `text` fit for one log line: control characters
/// and bytes outside printable ASCII as \xHH, so a client cannot forge log
/// lines, and at most `max_bytes` of it.
inline std::string printable(std::string_view text,
                             std::size_t max_bytes = 80) {
  std::string out;
  for (char c : text.substr(0, max_bytes)) {
    auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && c != '\\') {
      out.push_back(c);
      continue;
    }
    char escaped[8];
    std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
    out.append(escaped);
  }
  if (text.size() > max_bytes)
    out.append("...");
  return out;
}

using spdlog::debug;
using spdlog::error;
using spdlog::info;
using spdlog::trace;
using spdlog::warn;

}  // namespace corral::log
