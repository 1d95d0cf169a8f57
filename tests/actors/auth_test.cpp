// Tests of the token file parser, its file checks and the token lookup.

#include "actors/auth.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace corral::actors {
namespace {

const std::string source = "tokens.txt";

token_load_result parse(const std::string& text) {
  return token_store::parse(text, source);
}

bool mentions(const std::vector<std::string>& errors, const std::string& part) {
  for (const auto& error : errors)
    if (error.find(part) != std::string::npos)
      return true;
  return false;
}

// A token file in a fresh directory, removed at the end of the test.
class temporary_file {
 public:
  temporary_file(const std::string& text, mode_t mode) {
    char pattern[] = "/tmp/corral-auth-test-XXXXXX";
    BOOST_REQUIRE(::mkdtemp(pattern) != nullptr);
    directory_ = pattern;
    path_ = directory_ + "/tokens";
    std::ofstream{path_} << text;
    BOOST_REQUIRE(::chmod(path_.c_str(), mode) == 0);
  }

  ~temporary_file() {
    std::remove(path_.c_str());
    ::rmdir(directory_.c_str());
  }

  const std::string& path() const { return path_; }

 private:
  std::string directory_;
  std::string path_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(auth_test)

BOOST_AUTO_TEST_CASE(token_file_comments_and_blanks) {
  auto loaded = parse(
      "# ci machines\n"
      "\n"
      "ci-runner  aaaaaaaaaaaaaaaa\n"
      "   \t\n"
      "\talice@laptop\tbbbbbbbbbbbbbbbbbbbb\r\n"
      "  # indented comment\n"
      "bob cccccccccccccccc");
  BOOST_TEST_REQUIRE(loaded.errors.empty());
  BOOST_TEST_REQUIRE(loaded.store.has_value());
  BOOST_TEST(loaded.store->size() == 3u);
  BOOST_TEST(loaded.store->find_client("aaaaaaaaaaaaaaaa").value_or("") ==
             "ci-runner");
  BOOST_TEST(loaded.store->find_client("bbbbbbbbbbbbbbbbbbbb").value_or("") ==
             "alice@laptop");
  BOOST_TEST(loaded.store->find_client("cccccccccccccccc").value_or("") ==
             "bob");
}

BOOST_AUTO_TEST_CASE(token_file_rejections) {
  struct rejection_case {
    std::string text;
    std::string message_part;
  };
  const std::vector<rejection_case> cases = {
      {"alice\n", "line 1: expected `name token`"},
      {"alice aaaaaaaaaaaaaaaa extra\n", "got 3 words"},
      {"alice short\n", "is 5 characters; tokens need at least 16"},
      {"alice aaaaaaaaaaaaaaaa\nalice bbbbbbbbbbbbbbbb\n",
       "line 2: client name \"alice\" appears more than once"},
      {"alice aaaaaaaaaaaaaaaa\nbob aaaaaaaaaaaaaaaa\n",
       "also used by another client"},
      {"al/ice aaaaaaaaaaaaaaaa\n", "client name \"al/ice\" is invalid"},
      {"local aaaaaaaaaaaaaaaa\n", "\"local\" is reserved"},
      {"# nothing here\n\n", "contains no `name token` lines"},
      {"", "contains no `name token` lines"},
  };
  for (const auto& test : cases) {
    BOOST_TEST_CONTEXT("file " << test.text) {
      auto loaded = parse(test.text);
      BOOST_TEST(!loaded.store.has_value());
      BOOST_TEST(mentions(loaded.errors, test.message_part));
      BOOST_TEST(mentions(loaded.errors, source));
    }
  }
}

BOOST_AUTO_TEST_CASE(token_errors_never_show_token) {
  auto loaded = parse(
      "alice secret1\nbob secret1secret1xx\ncarl "
      "secret1secret1xx\n");
  BOOST_TEST(loaded.errors.size() == 2u);
  for (const auto& error : loaded.errors) {
    BOOST_TEST_CONTEXT("error " << error) {
      BOOST_TEST(error.find("secret1") == std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_CASE(lookup_rejects_near_misses) {
  auto loaded = parse("alice 0123456789abcdef\n");
  BOOST_TEST_REQUIRE(loaded.store.has_value());
  const std::string wrong[] = {"",
                               "0123456789abcde",
                               "0123456789abcdef0",
                               "0123456789abcdeF",
                               "1123456789abcdef",
                               std::string("0123456789abcde\0", 16)};
  for (const auto& token : wrong) {
    BOOST_TEST_CONTEXT("token of " << token.size() << " bytes: " << token) {
      BOOST_TEST(!loaded.store->find_client(token).has_value());
    }
  }
}

BOOST_AUTO_TEST_CASE(constant_time_compare_results) {
  BOOST_TEST(equal_in_constant_time("abc", "abc"));
  BOOST_TEST(!equal_in_constant_time("abd", "abc"));
  BOOST_TEST(!equal_in_constant_time("ab", "abc"));
  BOOST_TEST(!equal_in_constant_time("abcd", "abc"));
  BOOST_TEST(!equal_in_constant_time("", "abc"));
  BOOST_TEST(equal_in_constant_time("", ""));
}

BOOST_AUTO_TEST_CASE(file_mode_checked) {
  const std::string text = "alice 0123456789abcdef\n";
  temporary_file private_file{text, 0600};
  auto loaded = token_store::load(private_file.path());
  BOOST_TEST(loaded.errors.empty());
  BOOST_TEST(loaded.store.has_value());

  const mode_t open_modes[] = {0640, 0604, 0660, 0606};
  for (auto mode : open_modes) {
    BOOST_TEST_CONTEXT("mode " << std::oct << mode) {
      temporary_file file{text, mode};
      auto rejected = token_store::load(file.path());
      BOOST_TEST(!rejected.store.has_value());
      BOOST_TEST(mentions(rejected.errors, file.path()));
      BOOST_TEST(mentions(rejected.errors, "chmod 600"));
    }
  }
}

BOOST_AUTO_TEST_CASE(missing_file_named) {
  auto loaded = token_store::load("/nonexistent/corral-tokens");
  BOOST_TEST(!loaded.store.has_value());
  BOOST_TEST(mentions(loaded.errors, "/nonexistent/corral-tokens"));
  BOOST_TEST(mentions(loaded.errors, "cannot be opened"));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace corral::actors
