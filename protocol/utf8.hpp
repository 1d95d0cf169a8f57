#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace corral::protocol {

/// Returns `bytes` with every invalid UTF-8 sequence replaced by U+FFFD,
/// and sets `lossy` when anything was replaced. Overlong forms, surrogates
/// and code points above U+10FFFF count as invalid (RFC 3629).
std::string sanitize_utf8(std::string_view bytes, bool& lossy);

/// Returns the length of the longest prefix of `bytes` that does not end
/// inside a multi-byte character, so that a cut there splits nothing.
std::size_t complete_prefix_length(std::string_view bytes) noexcept;

/// Encodes `bytes` as standard base64 with padding.
std::string base64_encode(std::string_view bytes);

/// Decodes standard base64 (padding required, no whitespace). Returns false
/// on invalid input and leaves `out` unspecified.
bool base64_decode(std::string_view text, std::string& out);

}  // namespace corral::protocol
