#include "protocol/line_framer.hpp"

namespace corral::protocol {

line_framer::line_framer(std::size_t max_line_bytes)
    : max_line_bytes_(max_line_bytes) {
  // nop
}

void line_framer::feed(std::string_view bytes, std::vector<event>& out) {
  while (!bytes.empty()) {
    // Only the new bytes are searched, so a long line fed in many small
    // chunks costs linear time.
    auto newline = bytes.find('\n');
    auto chunk = bytes.substr(0, newline);
    if (discarding_) {
      discarded_ += chunk.size();
    } else if (partial_.size() + chunk.size() > max_line_bytes_) {
      discarding_ = true;
      discarded_ = partial_.size() + chunk.size();
      partial_.clear();
      partial_.shrink_to_fit();
    } else {
      partial_.append(chunk);
    }
    if (newline == std::string_view::npos)
      return;
    bytes.remove_prefix(newline + 1);

    event completed;
    if (discarding_) {
      completed.oversized = true;
      completed.size = discarded_;
      discarding_ = false;
      discarded_ = 0;
    } else {
      if (!partial_.empty() && partial_.back() == '\r')
        partial_.pop_back();
      completed.size = partial_.size();
      completed.line = std::move(partial_);
      partial_.clear();
      if (completed.line.empty())
        continue;
    }
    out.push_back(std::move(completed));
  }
}

}  // namespace corral::protocol
