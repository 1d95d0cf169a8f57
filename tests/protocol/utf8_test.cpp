// Tests of UTF-8 sanitizing, character-boundary cuts and base64.

#include "protocol/utf8.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <random>
#include <string>
#include <vector>

namespace corral::protocol {
namespace {

namespace json = boost::json;

const std::string fffd = "\xEF\xBF\xBD";

std::string repeat_fffd(std::size_t count) {
  std::string text;
  for (std::size_t i = 0; i < count; ++i)
    text += fffd;
  return text;
}

// Checks `text` against RFC 3629 with a decoder written independently of
// the one under test: it decodes each code point and rejects overlongs,
// surrogates and values above U+10FFFF.
bool is_valid_utf8(const std::string& text) {
  std::size_t i = 0;
  while (i < text.size()) {
    auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    std::uint32_t code = 0;
    if (lead < 0x80) {
      length = 1;
      code = lead;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2;
      code = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3;
      code = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4;
      code = lead & 0x07;
    } else {
      return false;
    }
    if (i + length > text.size())
      return false;
    for (std::size_t k = 1; k < length; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80)
        return false;
      code = code << 6 | (next & 0x3F);
    }
    const std::uint32_t minimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < minimum[length])
      return false;
    if (code >= 0xD800 && code <= 0xDFFF)
      return false;
    if (code > 0x10FFFF)
      return false;
    i += length;
  }
  return true;
}

// Checks that `text` survives a boost::json string round trip unchanged.
bool json_round_trips(const std::string& text) {
  auto line = json::serialize(json::value(text));
  json::error_code ec;
  auto parsed = json::parse(line, ec);
  return !ec && parsed.is_string() && parsed.get_string() == text;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(utf8_test)

BOOST_AUTO_TEST_CASE(valid_text_is_unchanged) {
  const std::vector<std::string> cases = {
      "",
      "plain ASCII\n\t\x01\x7F",
      std::string("nul\0inside", 10),
      "\xC2\x80",                  // U+0080, smallest two-byte
      "\xDF\xBF",                  // U+07FF
      "\xE0\xA0\x80",              // U+0800, smallest three-byte
      "\xED\x9F\xBF",              // U+D7FF, just below the surrogates
      "\xEE\x80\x80",              // U+E000, just above them
      "\xEF\xBF\xBD",              // U+FFFD itself
      "\xEF\xBF\xBF",              // U+FFFF
      "\xF0\x90\x80\x80",          // U+10000, smallest four-byte
      "\xF4\x8F\xBF\xBF",          // U+10FFFF, the largest code point
      "caf\xC3\xA9 \xE2\x82\xAC",  // mixed widths
  };
  for (const auto& text : cases) {
    BOOST_TEST_CONTEXT("bytes " << text.size()) {
      bool lossy = true;
      BOOST_TEST(sanitize_utf8(text, lossy) == text);
      BOOST_TEST(!lossy);
    }
  }
}

BOOST_AUTO_TEST_CASE(invalid_sequences_use_maximal_subparts) {
  struct replacement_case {
    std::string name;
    std::string bytes;
    std::string expected;
  };
  const std::vector<replacement_case> cases = {
      {"stray continuation", "a\x80z", "a" + fffd + "z"},
      {"three continuations", "\x80\xBF\x80", repeat_fffd(3)},
      {"overlong slash C0", "\xC0\xAF", repeat_fffd(2)},
      {"overlong C1", "\xC1\xBF", repeat_fffd(2)},
      {"overlong E0", "\xE0\x80\xAF", repeat_fffd(3)},
      {"overlong E0 9F", "\xE0\x9F\xBF", repeat_fffd(3)},
      {"overlong F0", "\xF0\x80\x80\xAF", repeat_fffd(4)},
      {"overlong F0 8F", "\xF0\x8F\xBF\xBF", repeat_fffd(4)},
      {"surrogate D800", "\xED\xA0\x80", repeat_fffd(3)},
      {"surrogate DFFF", "\xED\xBF\xBF", repeat_fffd(3)},
      {"surrogate pair", "\xED\xA0\xBD\xED\xB2\xA9", repeat_fffd(6)},
      {"above 10FFFF F4 90", "\xF4\x90\x80\x80", repeat_fffd(4)},
      {"lead F5", "\xF5\x80\x80\x80", repeat_fffd(4)},
      {"lead F8 five-byte form", "\xF8\x88\x80\x80\x80", repeat_fffd(5)},
      {"lead FE", "\xFE", fffd},
      {"lead FF", "\xFF", fffd},
      {"truncated two-byte", "\xC3", fffd},
      {"truncated three-byte", "\xE2\x82", fffd},
      {"truncated four-byte of 3", "\xF0\x9F\x98", fffd},
      {"truncated four-byte of 2", "\xF0\x9F", fffd},
      {"truncated then ASCII", "\xE2\x82x", fffd + "x"},
      {"truncated then lead", "\xE2\x82\xC3\xA9", fffd + "\xC3\xA9"},
      {"two truncated", "\xE2\x82\xE2\x82", repeat_fffd(2)},
      {"lead then lead", "\xC3\xC3\xA9", fffd + "\xC3\xA9"},
      {"Unicode table 3-8 example",
       "\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64",
       "a" + repeat_fffd(3) + "b" + repeat_fffd(1) + "c" + repeat_fffd(2) +
           "d"},
  };
  for (const auto& test : cases) {
    BOOST_TEST_CONTEXT(test.name) {
      bool lossy = false;
      auto sanitized = sanitize_utf8(test.bytes, lossy);
      BOOST_TEST(sanitized == test.expected);
      BOOST_TEST(lossy);
    }
  }
}

BOOST_AUTO_TEST_CASE(lossy_flag_resets_each_call) {
  bool lossy = false;
  sanitize_utf8("\xFF", lossy);
  BOOST_TEST(lossy);
  sanitize_utf8("fine", lossy);
  BOOST_TEST(!lossy);
}

BOOST_AUTO_TEST_CASE(complete_prefix_length_table) {
  struct prefix_case {
    std::string bytes;
    std::size_t length;
  };
  const std::vector<prefix_case> cases = {
      {"", 0},
      {"abc", 3},
      {"ab\xC3", 2},
      {"ab\xC3\xA9", 4},
      {"ab\xE2", 2},
      {"ab\xE2\x82", 2},
      {"ab\xE2\x82\xAC", 5},
      {"ab\xF0", 2},
      {"ab\xF0\x9F", 2},
      {"ab\xF0\x9F\x98", 2},
      {"ab\xF0\x9F\x98\x80", 6},
      {"\xF0\x9F\x98", 0},
      {"\xC3", 0},
      // Invalid bytes are left for sanitize_utf8 unless they look like
      // the start of a longer character.
      {"a\x80", 2},
      {"a\x80\x80\x80", 4},
      {"\x80\x80\x80\x80", 4},
      {"a\xFF", 1},
      {"a\xC3\xA9\x80", 4},
  };
  for (const auto& test : cases) {
    BOOST_TEST_CONTEXT("bytes of size " << test.bytes.size()) {
      BOOST_TEST(complete_prefix_length(test.bytes) == test.length);
    }
  }
}

BOOST_AUTO_TEST_CASE(prefix_cut_never_splits_character) {
  // Cuts a valid text at every byte and checks that the kept prefix is
  // valid and as long as possible.
  const std::string text = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z";
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    BOOST_TEST_CONTEXT("cut at " << cut) {
      auto prefix = std::string_view{text}.substr(0, cut);
      auto length = complete_prefix_length(prefix);
      BOOST_TEST(length <= cut);
      BOOST_TEST(cut - length <= 3u);
      bool lossy = true;
      sanitize_utf8(prefix.substr(0, length), lossy);
      BOOST_TEST(!lossy);
    }
  }
}

BOOST_AUTO_TEST_CASE(base64_encode_table) {
  struct base64_case {
    std::string bytes;
    std::string text;
  };
  const std::vector<base64_case> cases = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
      {std::string("\0", 1), "AA=="},
      {"\xFF\xFF\xFF", "////"},
      {"\xFB\xEF\xBE", "++++"},
      {std::string("\x00\xFF\x80\x61", 4), "AP+AYQ=="},
  };
  for (const auto& test : cases) {
    BOOST_TEST_CONTEXT("text " << test.text) {
      BOOST_TEST(base64_encode(test.bytes) == test.text);
      std::string decoded = "stale";
      BOOST_TEST(base64_decode(test.text, decoded));
      BOOST_TEST(decoded == test.bytes);
    }
  }
}

BOOST_AUTO_TEST_CASE(base64_decode_rejects_invalid) {
  const std::vector<std::string> cases = {
      "Z",         // not a multiple of four
      "Zg",        // padding missing
      "Zg=",       // padding short
      "Zm9vY",     // five characters
      "Zg==Zg==",  // padding inside the text
      "Z===",      // too much padding
      "====",      // padding only
      "Zm=v",      // data after padding
      "Zm9v\n",    // whitespace
      "Zm 9",      // space
      "Zm9-",      // URL-safe alphabet
      "Zm9_",      // URL-safe alphabet
      "Zm9\x80",   // non-ASCII
      std::string("Zm9\0", 4),
  };
  for (const auto& text : cases) {
    BOOST_TEST_CONTEXT("text " << text) {
      std::string decoded;
      BOOST_TEST(!base64_decode(text, decoded));
    }
  }
}

BOOST_AUTO_TEST_CASE(base64_round_trips_every_length) {
  std::mt19937 generator{7411};
  std::uniform_int_distribution<int> byte{0, 255};
  for (std::size_t size = 0; size < 200; ++size) {
    BOOST_TEST_CONTEXT("size " << size) {
      std::string bytes;
      for (std::size_t i = 0; i < size; ++i)
        bytes.push_back(static_cast<char>(byte(generator)));
      auto text = base64_encode(bytes);
      BOOST_TEST(text.size() == (size + 2) / 3 * 4);
      std::string decoded;
      BOOST_TEST(base64_decode(text, decoded));
      BOOST_TEST(decoded == bytes);
    }
  }
}

BOOST_AUTO_TEST_CASE(every_single_byte_sanitizes) {
  for (int value = 0; value < 256; ++value) {
    BOOST_TEST_CONTEXT("byte " << value) {
      std::string bytes(1, static_cast<char>(value));
      bool lossy = false;
      auto sanitized = sanitize_utf8(bytes, lossy);
      BOOST_TEST(is_valid_utf8(sanitized));
      BOOST_TEST(json_round_trips(sanitized));
      BOOST_TEST(lossy == (value >= 0x80));
      BOOST_TEST(sanitized == (value < 0x80 ? bytes : fffd));
    }
  }
}

BOOST_AUTO_TEST_CASE(random_bytes_sanitize_to_valid) {
  // Fixed seed, so that a failure reproduces. Bytes are drawn mostly from
  // the ranges that make up multi-byte sequences, to hit the edge cases.
  std::mt19937 generator{20240601};
  const std::vector<unsigned char> interesting = {
      0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0,
      0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0,
      0xF1, 0xF3, 0xF4, 0xF5, 0xF7, 0xF8, 0xFB, 0xFC, 0xFE, 0xFF};
  std::uniform_int_distribution<std::size_t> pick{0, interesting.size() - 1};
  std::uniform_int_distribution<int> any_byte{0, 255};
  std::uniform_int_distribution<int> length{0, 24};
  std::uniform_int_distribution<int> coin{0, 1};
  for (int round = 0; round < 5000; ++round) {
    std::string bytes;
    auto size = length(generator);
    for (int i = 0; i < size; ++i) {
      auto value = coin(generator) != 0 ? interesting[pick(generator)]
                                        : any_byte(generator);
      bytes.push_back(static_cast<char>(value));
    }
    BOOST_TEST_CONTEXT("round " << round) {
      bool lossy = false;
      auto sanitized = sanitize_utf8(bytes, lossy);
      BOOST_TEST(is_valid_utf8(sanitized));
      BOOST_TEST(json_round_trips(sanitized));
      BOOST_TEST(lossy == !is_valid_utf8(bytes));
      if (!lossy)
        BOOST_TEST(sanitized == bytes);
      // Each replacement stands for at least one input byte.
      BOOST_TEST(sanitized.size() <= bytes.size() * 3);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace corral::protocol
