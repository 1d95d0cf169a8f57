#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace corral::protocol {

/// Splits a byte stream into `\n`-terminated lines without ever buffering
/// more than `max_line_bytes`. A line longer than the cap is reported once
/// as oversized and its bytes are discarded up to the next newline, so the
/// stream resynchronises there. A trailing `\r` is stripped, so clients
/// that send CRLF work too, and empty lines are skipped. Not thread-safe:
/// one framer per connection.
class line_framer {
 public:
  /// One complete line, or the notice that a line was too long.
  struct event {
    bool oversized = false;
    std::size_t size = 0;  // bytes of the line, as far as they were seen
    std::string line;      // empty when oversized
  };

  explicit line_framer(std::size_t max_line_bytes);

  /// Consumes `bytes` and appends every completed line to `out`.
  void feed(std::string_view bytes, std::vector<event>& out);

  /// Returns the number of bytes held for an incomplete line.
  std::size_t buffered() const noexcept { return partial_.size(); }

  /// Returns true while the framer drops the rest of an oversized line.
  bool discarding() const noexcept { return discarding_; }

 private:
  std::size_t max_line_bytes_;
  std::string partial_;
  bool discarding_ = false;
  std::size_t discarded_ = 0;
};

}  // namespace corral::protocol
