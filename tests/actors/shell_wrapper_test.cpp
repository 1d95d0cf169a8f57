#include "actors/shell_wrapper.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <vector>

#include "isolation/process_service.hpp"

extern char** environ;

using corral::actors::parse_shell_state;
using corral::actors::wrap_command;
using namespace std::string_literals;

namespace {

struct wrapped_run {
  std::string report;  // what the wrapper wrote on descriptor 8
  int exit_code = -1;  // -1 unless the shell exited normally
};

// Runs the wrapped `command` as `shell -c SCRIPT`, where `shell` is the
// shell's path followed by any options, with descriptor 8 redirected to a
// file. The shell gets `env` as its environment, or this process's one.
wrapped_run run_wrapped(
    const std::string& command,
    const std::vector<std::string>& shell = {"/bin/sh"},
    const std::optional<std::vector<std::string>>& env = std::nullopt) {
  auto script = wrap_command(command);
  std::vector<char*> argv;
  for (const auto& word : shell)
    argv.push_back(const_cast<char*>(word.c_str()));
  argv.push_back(const_cast<char*>("-c"));
  argv.push_back(script.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  if (env) {
    for (const auto& entry : *env)
      envp.push_back(const_cast<char*>(entry.c_str()));
    envp.push_back(nullptr);
  }

  char path[] = "/tmp/corral-wrapper-XXXXXX";
  int fd = ::mkstemp(path);
  BOOST_REQUIRE(fd >= 0);
  auto pid = ::fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(fd, corral::isolation::state_fd);
    ::execve(argv[0], argv.data(), env ? envp.data() : environ);
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(fd);

  wrapped_run run;
  if (WIFEXITED(status))
    run.exit_code = WEXITSTATUS(status);
  std::ifstream in{path, std::ios::binary};
  std::stringstream content;
  content << in.rdbuf();
  run.report = content.str();
  ::unlink(path);
  return run;
}

// The shells to check the wrapper with: /bin/sh always, bash if installed.
std::vector<std::vector<std::string>> available_shells() {
  std::vector<std::vector<std::string>> shells = {{"/bin/sh"}};
  if (::access("/bin/bash", X_OK) == 0) {
    shells.push_back({"/bin/bash"});
    shells.push_back({"/bin/bash", "--posix"});
  }
  return shells;
}

std::string describe(const std::vector<std::string>& shell) {
  std::string text;
  for (const auto& word : shell)
    text += (text.empty() ? "" : " ") + word;
  return text;
}

// Returns a report with status 0 and cwd "/" around an `export -p` listing.
std::string report_with(const std::string& listing) {
  return "0\0/\0"s + listing + "corral-end\n";
}

// Returns values of random bytes other than NUL. Most are short and drawn
// mostly from characters that need quoting; a few are long.
std::vector<std::string> random_values(std::size_t count) {
  const std::string special =
      "'\"\\$`\n\t\r !*?[](){}~#&|;<>=%^\x01\x1b\x7f\x80\xa9\xc3\xff";
  std::mt19937 random{20240611};
  std::uniform_int_distribution<int> any_byte{1, 255};
  std::uniform_int_distribution<std::size_t> special_index{0,
                                                           special.size() - 1};
  std::uniform_int_distribution<int> coin{0, 1};
  std::uniform_int_distribution<std::size_t> short_length{0, 24};
  std::uniform_int_distribution<std::size_t> long_length{4096, 70000};

  std::vector<std::string> values;
  for (std::size_t i = 0; i < count; ++i) {
    auto length = i % 50 == 49 ? long_length(random) : short_length(random);
    std::string value;
    for (std::size_t j = 0; j < length; ++j) {
      if (coin(random))
        value += special[special_index(random)];
      else
        value += static_cast<char>(any_byte(random));
    }
    values.push_back(std::move(value));
  }
  return values;
}

struct parse_case {
  const char* description;
  std::string listing;
  std::string expected;
};

void check_parse_cases(const std::vector<parse_case>& cases) {
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.description) {
      auto state = parse_shell_state(report_with(c.listing));
      BOOST_REQUIRE(state);
      auto found = state->env.find("A");
      BOOST_REQUIRE(found != state->env.end());
      BOOST_TEST(found->second == c.expected);
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(shell_wrapper)

BOOST_AUTO_TEST_CASE(parses_status_cwd_and_environment) {
  auto report =
      "3\0/usr\0export FOO='a b'\nexport PATH='/bin'\nexport EMPTY=''\n"
      "corral-end\n"s;
  auto state = parse_shell_state(report);
  BOOST_REQUIRE(state);
  BOOST_TEST(state->exit_code == 3);
  BOOST_TEST(state->cwd == "/usr");
  BOOST_TEST(state->env.at("FOO") == "a b");
  BOOST_TEST(state->env.at("PATH") == "/bin");
  BOOST_TEST(state->env.at("EMPTY") == "");
}

BOOST_AUTO_TEST_CASE(keeps_values_with_newlines_and_equals) {
  auto state = parse_shell_state(report_with("export A='x=y\nz'\n"));
  BOOST_REQUIRE(state);
  BOOST_TEST(state->env.at("A") == "x=y\nz");
}

BOOST_AUTO_TEST_CASE(drops_shell_maintained_variables) {
  auto state = parse_shell_state(
      report_with("export PWD='/'\nexport SHLVL='1'\nexport _='/bin/sh'\n"
                  "export X='1'\n"));
  BOOST_REQUIRE(state);
  BOOST_TEST(state->env.size() == 1u);
  BOOST_TEST(state->env.count("X") == 1u);
}

BOOST_AUTO_TEST_CASE(parses_dash_export_listing) {
  check_parse_cases({
      {"plain", "export A='a b'\n", "a b"},
      {"empty", "export A=''\n", ""},
      {"single quote", "export A='it'\"'\"'s'\n", "it's"},
      {"only single quotes", "export A=''\"''\"\n", "''"},
      {"newline", "export A='l1\nl2'\n", "l1\nl2"},
      {"shell specials", "export A='x\"y\\z$w`q'\n", "x\"y\\z$w`q"},
      {"high bytes", "export A='\xc3\xa9\xff\x80'\n", "\xc3\xa9\xff\x80"},
      {"control bytes", "export A='\t\x1b\x01\x7f'\n", "\t\x1b\x01\x7f"},
      {"end marker text", "export A='\ncorral-end\n'\n", "\ncorral-end\n"},
  });
}

BOOST_AUTO_TEST_CASE(parses_bash_export_listing) {
  check_parse_cases({
      {"plain", "declare -x A=\"a b\"\n", "a b"},
      {"empty", "declare -x A=\"\"\n", ""},
      {"single quote", "declare -x A=\"it's\"\n", "it's"},
      {"escaped specials", "declare -x A=\"x\\\"y\\\\z\\$w\\`q\"\n",
       "x\"y\\z$w`q"},
      {"literal backslash", "declare -x A=\"a\\b\"\n", "a\\b"},
      {"exclamation mark", "declare -x A=\"!x\"\n", "!x"},
      {"utf-8 in double quotes", "declare -x A=\"\xc3\xa9\"\n", "\xc3\xa9"},
      {"newline", "declare -x A=$'l1\\nl2'\n", "l1\nl2"},
      {"control escapes", "declare -x A=$'\\t\\E\\r\\a\\b\\f\\v'\n",
       "\t\x1b\r\a\b\f\v"},
      {"octal escapes", "declare -x A=$'\\001\\177\\303\\251\\377'\n",
       "\x01\x7f\xc3\xa9\xff"},
      {"short octal escape", "declare -x A=$'\\1x'\n", "\x01x"},
      {"quote and backslash", "declare -x A=$'x\\'y\\\\z\\n'\n", "x'y\\z\n"},
      {"other escapes", "declare -x A=$'\\e\\\"\\?\\xff\\x9'\n",
       "\x1b\"?\xff\x09"},
      {"raw utf-8 in ansi-c quotes", "declare -x A=$'\xc3\xa9\\n'\n",
       "\xc3\xa9\n"},
      {"readonly", "declare -rx A=\"1\"\n", "1"},
      {"integer", "declare -ix A=\"5\"\n", "5"},
      {"lowercase", "declare -xl A=\"abc\"\n", "abc"},
      {"posix mode", "export A=\"a\\\"b\"\n", "a\"b"},
      {"posix mode ansi-c", "export A=$'a\\nb'\n", "a\nb"},
  });
}

BOOST_AUTO_TEST_CASE(skips_arrays_and_unset_exports) {
  const std::vector<std::pair<const char*, std::string>> cases = {
      {"dash without value", "export A\n"},
      {"bash without value", "declare -x A\n"},
      {"bash array", "declare -ax A=([0]=\"1\" [1]=\"2\")\n"},
      {"bash associative array",
       "declare -Ax A=([\"x\\\\y\"]=\"3\" [\"a b\"]=\"1\" [$'c\\nd']=\"2\" "
       ")\n"},
      {"posix mode array", "export -a A=([0]=\"1\")\n"},
  };
  for (const auto& [description, listing] : cases) {
    BOOST_TEST_CONTEXT(description) {
      auto state = parse_shell_state(report_with(listing + "export B='1'\n"));
      BOOST_REQUIRE(state);
      BOOST_TEST(state->env.count("A") == 0u);
      BOOST_TEST(state->env.count("B") == 1u);
    }
  }
}

BOOST_AUTO_TEST_CASE(rejects_incomplete_reports) {
  const std::vector<std::string> reports = {
      ""s,
      "0"s,
      "0\0"s,
      "0\0/\0"s,
      "x\0/\0corral-end\n"s,
      "\0/\0corral-end\n"s,
      "0\0\0corral-end\n"s,
      "0\0/\0export A='1'\n"s,
      "0\0/\0export A='1'\ncorral-end"s,
      "0\0/\0export A='1"s,
      "0\0/\0export A='1\ncorral-end\n"s,
      "0\0/\0declare -x A=\"1\ncorral-end\n"s,
      "0\0/\0declare -x A=$'1\ncorral-end\n"s,
      "0\0/\0corral-end\nexport A='1'\n"s,
  };
  for (const auto& report : reports) {
    BOOST_TEST_CONTEXT("report of " << report.size() << " bytes") {
      BOOST_TEST(!parse_shell_state(report));
    }
  }
}

BOOST_AUTO_TEST_CASE(rejects_unknown_listing_lines) {
  const std::vector<std::pair<const char*, std::string>> cases = {
      {"other command", "typeset -x A=1\n"},
      {"declare without export", "declare -r A=\"1\"\n"},
      {"option without space", "declare -xA=\"a b\"\n"},
      {"option with digit", "export -1 A=\"1\"\n"},
      {"invalid name", "export 1A='x'\n"},
      {"missing equals", "export A 'x'\n"},
      {"unknown ansi-c escape", "declare -x A=$'\\u00e9'\n"},
      {"hex escape without digits", "declare -x A=$'\\xg'\n"},
      {"blank line", "\n"},
  };
  for (const auto& [description, listing] : cases) {
    BOOST_TEST_CONTEXT(description) {
      BOOST_TEST(!parse_shell_state(report_with(listing)));
    }
  }
}

BOOST_AUTO_TEST_CASE(wrapper_reports_cd_and_export) {
  auto state = parse_shell_state(
      run_wrapped("cd /usr && export CORRAL_X='a b' && exit 7").report);
  BOOST_REQUIRE(state);
  BOOST_TEST(state->exit_code == 7);
  BOOST_TEST(state->cwd == "/usr");
  BOOST_TEST(state->env.at("CORRAL_X") == "a b");
}

BOOST_AUTO_TEST_CASE(wrapper_reports_syntax_error_status) {
  auto state = parse_shell_state(run_wrapped("if then").report);
  BOOST_REQUIRE(state);
  BOOST_TEST(state->exit_code == 2);
}

BOOST_AUTO_TEST_CASE(wrapper_survives_changed_path) {
  auto state =
      parse_shell_state(run_wrapped("export PATH=/nonexistent").report);
  BOOST_REQUIRE(state);
  BOOST_TEST(state->env.at("PATH") == "/nonexistent");
}

BOOST_AUTO_TEST_CASE(wrapper_keeps_status_in_each_shell) {
  struct status_case {
    const char* command;
    int exit_code;
    const char* cwd;
  };
  const std::array<status_case, 4> cases = {{
      {"exit 7", 7, "/"},
      {"if then", 2, "/"},
      {"cd /usr", 0, "/usr"},
      {"cd /usr; false", 1, "/usr"},
  }};
  for (const auto& shell : available_shells()) {
    for (const auto& c : cases) {
      BOOST_TEST_CONTEXT(describe(shell) << ": " << c.command) {
        auto run = run_wrapped("cd /\n"s + c.command, shell);
        BOOST_TEST(run.exit_code == c.exit_code);
        auto state = parse_shell_state(run.report);
        BOOST_REQUIRE(state);
        BOOST_TEST(state->exit_code == c.exit_code);
        BOOST_TEST(state->cwd == c.cwd);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(wrapper_round_trips_random_values) {
  auto values = random_values(300);
  // bash quotes bytes that are not printable in its locale, so valid UTF-8
  // is written raw under a UTF-8 locale and as octal escapes under C.
  const std::array<const char*, 2> locales = {"LC_ALL=C", "LC_ALL=C.UTF-8"};
  for (const auto& shell : available_shells()) {
    for (const auto* locale : locales) {
      for (std::size_t i = 0; i < values.size(); ++i) {
        BOOST_TEST_CONTEXT(describe(shell)
                           << ", " << locale << ": value " << i << " of "
                           << values[i].size() << " bytes") {
          // CORRAL_VALUE comes in through the environment and CORRAL_COPY
          // is set by the script, so both ways to export a variable count.
          std::vector<std::string> env = {"PATH=/usr/bin:/bin", locale,
                                          "CORRAL_VALUE=" + values[i]};
          auto run =
              run_wrapped("export CORRAL_COPY=\"$CORRAL_VALUE\"", shell, env);
          auto state = parse_shell_state(run.report);
          BOOST_REQUIRE(state);
          auto value = state->env.find("CORRAL_VALUE");
          BOOST_REQUIRE(value != state->env.end());
          BOOST_TEST(value->second == values[i]);
          auto copy = state->env.find("CORRAL_COPY");
          BOOST_REQUIRE(copy != state->env.end());
          BOOST_TEST(copy->second == values[i]);
        }
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
