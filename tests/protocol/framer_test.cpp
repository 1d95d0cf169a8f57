// Tests of line_framer: how a TCP byte stream becomes request lines.

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "protocol/line_framer.hpp"

namespace corral::protocol {
namespace {

using events = std::vector<line_framer::event>;

// Feeds `stream` in pieces of `piece` bytes and collects the lines.
std::vector<std::string> lines_of(const std::string& stream, std::size_t piece,
                                  std::size_t max_line_bytes = 1024) {
  line_framer framer{max_line_bytes};
  events out;
  for (std::size_t offset = 0; offset < stream.size(); offset += piece)
    framer.feed(std::string_view{stream}.substr(offset, piece), out);
  std::vector<std::string> lines;
  for (const auto& event : out)
    lines.push_back(event.line);
  return lines;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(line_framer_test)

BOOST_AUTO_TEST_CASE(lines_survive_every_chunk_split) {
  const std::string stream = "{\"a\":1}\nsecond line\r\nx\n\nlast one\n";
  const std::vector<std::string> expected = {"{\"a\":1}", "second line", "x",
                                             "last one"};
  for (std::size_t piece = 1; piece <= stream.size(); ++piece) {
    BOOST_TEST_CONTEXT("piece size " << piece) {
      auto lines = lines_of(stream, piece);
      BOOST_TEST(lines == expected, boost::test_tools::per_element());
    }
  }
}

BOOST_AUTO_TEST_CASE(every_two_way_split_works) {
  const std::string stream = "alpha\r\nbeta\n";
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    BOOST_TEST_CONTEXT("cut at " << cut) {
      line_framer framer{64};
      events out;
      framer.feed(std::string_view{stream}.substr(0, cut), out);
      framer.feed(std::string_view{stream}.substr(cut), out);
      BOOST_TEST_REQUIRE(out.size() == 2u);
      BOOST_TEST(out[0].line == "alpha");
      BOOST_TEST(out[1].line == "beta");
      BOOST_TEST(framer.buffered() == 0u);
    }
  }
}

BOOST_AUTO_TEST_CASE(crlf_strips_only_one_return) {
  line_framer framer{64};
  events out;
  framer.feed("a\r\r\nb\rc\n", out);
  BOOST_TEST_REQUIRE(out.size() == 2u);
  BOOST_TEST(out[0].line == "a\r");
  BOOST_TEST(out[0].size == 2u);
  BOOST_TEST(out[1].line == "b\rc");
}

BOOST_AUTO_TEST_CASE(empty_lines_are_skipped) {
  line_framer framer{64};
  events out;
  framer.feed("\n\r\n\n\r\nping\n\n", out);
  BOOST_TEST_REQUIRE(out.size() == 1u);
  BOOST_TEST(out[0].line == "ping");
  BOOST_TEST(!out[0].oversized);
}

BOOST_AUTO_TEST_CASE(incomplete_line_stays_buffered) {
  line_framer framer{64};
  events out;
  framer.feed("partial", out);
  BOOST_TEST(out.empty());
  BOOST_TEST(framer.buffered() == 7u);
  framer.feed(" line\n", out);
  BOOST_TEST_REQUIRE(out.size() == 1u);
  BOOST_TEST(out[0].line == "partial line");
  BOOST_TEST(out[0].size == 12u);
  BOOST_TEST(framer.buffered() == 0u);
}

BOOST_AUTO_TEST_CASE(many_lines_in_one_feed) {
  std::string stream;
  for (int i = 0; i < 1000; ++i)
    stream += "line " + std::to_string(i) + "\n";
  line_framer framer{64};
  events out;
  framer.feed(stream, out);
  BOOST_TEST_REQUIRE(out.size() == 1000u);
  for (int i = 0; i < 1000; i += 111) {
    BOOST_TEST_CONTEXT("line " << i) {
      BOOST_TEST(out[i].line == "line " + std::to_string(i));
    }
  }
  BOOST_TEST(framer.buffered() == 0u);
}

BOOST_AUTO_TEST_CASE(line_at_cap_is_accepted) {
  line_framer framer{8};
  events out;
  framer.feed("12345678\n", out);
  BOOST_TEST_REQUIRE(out.size() == 1u);
  BOOST_TEST(!out[0].oversized);
  BOOST_TEST(out[0].line == "12345678");
}

BOOST_AUTO_TEST_CASE(oversized_line_reported_once) {
  line_framer framer{8};
  events out;
  framer.feed("123456789\n", out);
  BOOST_TEST_REQUIRE(out.size() == 1u);
  BOOST_TEST(out[0].oversized);
  BOOST_TEST(out[0].size == 9u);
  BOOST_TEST(out[0].line.empty());
  BOOST_TEST(!framer.discarding());
}

BOOST_AUTO_TEST_CASE(oversized_line_resyncs_at_newline) {
  line_framer framer{16};
  events out;
  const std::string big(100, 'x');
  framer.feed("first\n" + big.substr(0, 10), out);
  BOOST_TEST(!framer.discarding());
  framer.feed(big.substr(10, 30), out);
  BOOST_TEST(framer.discarding());
  framer.feed(big.substr(40), out);
  BOOST_TEST(framer.discarding());
  BOOST_TEST_REQUIRE(out.size() == 1u);
  framer.feed("\r\nafter\n", out);
  BOOST_TEST(!framer.discarding());
  BOOST_TEST_REQUIRE(out.size() == 3u);
  BOOST_TEST(out[0].line == "first");
  BOOST_TEST(out[1].oversized);
  BOOST_TEST(out[1].size == 101u);  // the bytes seen, including the '\r'
  BOOST_TEST(!out[2].oversized);
  BOOST_TEST(out[2].line == "after");
}

BOOST_AUTO_TEST_CASE(buffered_stays_within_cap) {
  const std::size_t cap = 32;
  line_framer framer{cap};
  events out;
  std::string piece(7, 'y');
  for (int i = 0; i < 500; ++i) {
    framer.feed(piece, out);
    BOOST_TEST_CONTEXT("after piece " << i) {
      BOOST_TEST(framer.buffered() <= cap);
    }
  }
  framer.feed("\nok\n", out);
  BOOST_TEST_REQUIRE(out.size() == 2u);
  BOOST_TEST(out[0].oversized);
  BOOST_TEST(out[0].size == 3500u);
  BOOST_TEST(out[1].line == "ok");
  BOOST_TEST(framer.buffered() == 0u);
}

BOOST_AUTO_TEST_CASE(oversized_single_feed_reports_once) {
  line_framer framer{4};
  events out;
  framer.feed(std::string(50, 'z') + "\nab\n" + std::string(9, 'q') + "\n",
              out);
  BOOST_TEST_REQUIRE(out.size() == 3u);
  BOOST_TEST(out[0].oversized);
  BOOST_TEST(out[0].size == 50u);
  BOOST_TEST(out[1].line == "ab");
  BOOST_TEST(out[2].oversized);
  BOOST_TEST(out[2].size == 9u);
}

BOOST_AUTO_TEST_CASE(nul_bytes_pass_through) {
  line_framer framer{16};
  events out;
  framer.feed(std::string("a\0b\n", 4), out);
  BOOST_TEST_REQUIRE(out.size() == 1u);
  BOOST_TEST(out[0].line == std::string("a\0b", 3));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace corral::protocol
