#include "protocol/utf8.hpp"

#include <array>
#include <cstdint>

namespace corral::protocol {

namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD";

// Returns the length of the valid UTF-8 sequence at the start of `bytes`,
// or 0 when it is invalid. `maximal` receives the length of the maximal
// subpart of an invalid sequence (at least 1), so that each is replaced by
// one U+FFFD as Unicode recommends (chapter 3, "U+FFFD Substitution of
// Maximal Subparts").
std::size_t valid_sequence(std::string_view bytes, std::size_t& maximal) {
  auto byte = [&](std::size_t i) {
    return static_cast<std::uint8_t>(bytes[i]);
  };
  auto lead = byte(0);
  maximal = 1;
  if (lead < 0x80)
    return 1;
  std::size_t length = 0;
  std::uint8_t low = 0x80;
  std::uint8_t high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0)
      low = 0xA0;  // overlong forms
    else if (lead == 0xED)
      high = 0x9F;  // UTF-16 surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0)
      low = 0x90;  // overlong forms
    else if (lead == 0xF4)
      high = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  for (std::size_t i = 1; i < length; ++i) {
    if (i >= bytes.size())
      return 0;
    auto next = byte(i);
    auto lower = i == 1 ? low : std::uint8_t{0x80};
    auto upper = i == 1 ? high : std::uint8_t{0xBF};
    if (next < lower || next > upper)
      return 0;
    maximal = i + 1;
  }
  return length;
}

constexpr char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> make_base64_values() {
  std::array<std::int8_t, 256> values{};
  for (auto& value : values)
    value = -1;
  for (int i = 0; i < 64; ++i)
    values[static_cast<std::uint8_t>(base64_alphabet[i])] =
        static_cast<std::int8_t>(i);
  return values;
}

constexpr auto base64_values = make_base64_values();

}  // namespace

std::string sanitize_utf8(std::string_view bytes, bool& lossy) {
  lossy = false;
  std::string result;
  result.reserve(bytes.size());
  while (!bytes.empty()) {
    std::size_t maximal = 1;
    auto length = valid_sequence(bytes, maximal);
    if (length == 0) {
      lossy = true;
      result.append(replacement);
      bytes.remove_prefix(maximal);
      continue;
    }
    result.append(bytes.substr(0, length));
    bytes.remove_prefix(length);
  }
  return result;
}

std::size_t complete_prefix_length(std::string_view bytes) noexcept {
  // A character is at most four bytes, so only the last three can start an
  // incomplete one.
  auto size = bytes.size();
  for (std::size_t back = 1; back <= 3 && back <= size; ++back) {
    auto byte = static_cast<std::uint8_t>(bytes[size - back]);
    if ((byte & 0xC0) == 0x80)
      continue;  // a continuation byte: look further back
    std::size_t needed = 1;
    if (byte >= 0xF0)
      needed = 4;
    else if (byte >= 0xE0)
      needed = 3;
    else if (byte >= 0xC0)
      needed = 2;
    return needed > back ? size - back : size;
  }
  return size;
}

std::string base64_encode(std::string_view bytes) {
  std::string text;
  text.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto at = [&](std::size_t k) {
    return static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[k]));
  };
  for (; i + 3 <= bytes.size(); i += 3) {
    auto group = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
    text.push_back(base64_alphabet[group >> 18 & 63]);
    text.push_back(base64_alphabet[group >> 12 & 63]);
    text.push_back(base64_alphabet[group >> 6 & 63]);
    text.push_back(base64_alphabet[group & 63]);
  }
  auto rest = bytes.size() - i;
  if (rest > 0) {
    auto group = at(i) << 16 | (rest == 2 ? at(i + 1) << 8 : 0);
    text.push_back(base64_alphabet[group >> 18 & 63]);
    text.push_back(base64_alphabet[group >> 12 & 63]);
    text.push_back(rest == 2 ? base64_alphabet[group >> 6 & 63] : '=');
    text.push_back('=');
  }
  return text;
}

bool base64_decode(std::string_view text, std::string& out) {
  out.clear();
  if (text.size() % 4 != 0)
    return false;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    bool last = i + 4 == text.size();
    std::uint32_t group = 0;
    int padding = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      auto c = static_cast<std::uint8_t>(text[i + k]);
      if (c == '=' && last && k >= 2) {
        ++padding;
        group <<= 6;
        continue;
      }
      auto value = base64_values[c];
      if (value < 0 || padding > 0)
        return false;
      group = group << 6 | static_cast<std::uint32_t>(value);
    }
    out.push_back(static_cast<char>(group >> 16 & 0xFF));
    if (padding < 2)
      out.push_back(static_cast<char>(group >> 8 & 0xFF));
    if (padding < 1)
      out.push_back(static_cast<char>(group & 0xFF));
  }
  return true;
}

}  // namespace corral::protocol
