// Configuration: defaults, each validation rule, the JSON file under the
// flags, and how problems are reported.

#include "runtime/config.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

using corral::config;

namespace {

constexpr std::uint64_t kib = 1024;
constexpr std::uint64_t mib = 1024 * kib;
constexpr std::uint64_t gib = 1024 * mib;

corral::config_result load(std::vector<std::string> args) {
  args.insert(args.begin(), "corrald");
  std::vector<const char*> argv;
  for (const auto& arg : args) argv.push_back(arg.c_str());
  argv.push_back(nullptr);
  return corral::load_config(static_cast<int>(args.size()), argv.data());
}

std::string joined(const std::vector<std::string>& errors) {
  std::string text;
  for (const auto& error : errors) text += "\n  " + error;
  return text.empty() ? " (none)" : text;
}

// Counts the messages that contain `text`.
std::size_t count_mentions(const std::vector<std::string>& errors,
                           const std::string& text) {
  std::size_t count = 0;
  for (const auto& error : errors)
    if (error.find(text) != std::string::npos) ++count;
  return count;
}

// A corral.json in a fresh temporary directory, removed at the end.
class config_file {
 public:
  explicit config_file(const std::string& content) {
    char pattern[] = "/tmp/corral-config-XXXXXX";
    BOOST_REQUIRE(::mkdtemp(pattern) != nullptr);
    directory_ = pattern;
    path_ = directory_ + "/corral.json";
    std::ofstream out{path_, std::ios::binary};
    out << content;
    BOOST_REQUIRE(out.flush());
  }

  ~config_file() {
    std::remove(path_.c_str());
    ::rmdir(directory_.c_str());
  }

  const std::string& path() const { return path_; }

 private:
  std::string directory_;
  std::string path_;
};

struct config_case {
  const char* name;
  std::function<void(config&)> change;
  const char* key;  // must appear in the one expected message
};

}  // namespace

BOOST_AUTO_TEST_SUITE(configuration)

BOOST_AUTO_TEST_CASE(defaults_pass_validation) {
  auto errors = corral::validate(config{});
  BOOST_TEST(errors.empty(), "errors:" << joined(errors));
}

BOOST_AUTO_TEST_CASE(no_arguments_give_defaults) {
  auto result = load({});
  BOOST_TEST(result.errors.empty(), "errors:" << joined(result.errors));
  BOOST_TEST(!result.show_help);
  BOOST_TEST(!result.show_version);
  BOOST_TEST(result.values.listen_host == "127.0.0.1");
  BOOST_TEST(result.values.listen_port == 7411);
  BOOST_TEST(result.values.max_sessions == 64u);
}

BOOST_AUTO_TEST_CASE(each_rule_rejects_bad_value) {
  const config_case cases[] = {
      {"max_sessions 0", [](config& c) { c.max_sessions = 0; }, "max_sessions"},
      {"max_sessions 100001", [](config& c) { c.max_sessions = 100001; },
       "max_sessions"},
      {"max_commands 0", [](config& c) { c.max_commands = 0; }, "max_commands"},
      {"max_commands 10001", [](config& c) { c.max_commands = 10001; },
       "max_commands"},
      {"max_connections 0", [](config& c) { c.max_connections = 0; },
       "max_connections"},
      {"max_connections 100001", [](config& c) { c.max_connections = 100001; },
       "max_connections"},
      {"default_timeout_s 0", [](config& c) { c.default_timeout_s = 0; },
       "default_timeout_s"},
      {"default_timeout_s above max",
       [](config& c) { c.default_timeout_s = c.max_timeout_s + 1; },
       "max_timeout_s"},
      {"max_timeout_s 604801", [](config& c) { c.max_timeout_s = 604801; },
       "max_timeout_s"},
      {"kill_grace_ms 60001", [](config& c) { c.kill_grace_ms = 60001; },
       "kill_grace_ms"},
      {"max_output_bytes 1023", [](config& c) { c.max_output_bytes = 1023; },
       "max_output_bytes"},
      {"max_output_bytes 1 GiB + 1",
       [](config& c) { c.max_output_bytes = gib + 1; }, "max_output_bytes"},
      {"max_stdin_bytes 64 MiB + 1",
       [](config& c) { c.max_stdin_bytes = 64 * mib + 1; }, "max_stdin_bytes"},
      {"max_request_bytes below derived minimum",
       [](config& c) {
         c.max_request_bytes = 6 * c.max_stdin_bytes + 64 * kib - 1;
       },
       "max_request_bytes"},
      {"max_send_queue_bytes 65535",
       [](config& c) { c.max_send_queue_bytes = 64 * kib - 1; },
       "max_send_queue_bytes"},
      {"max_requests_in_flight 0",
       [](config& c) { c.max_requests_in_flight = 0; },
       "max_requests_in_flight"},
      {"max_requests_in_flight 100001",
       [](config& c) { c.max_requests_in_flight = 100001; },
       "max_requests_in_flight"},
      {"output_drain_ms 10001", [](config& c) { c.output_drain_ms = 10001; },
       "output_drain_ms"},
      {"relative shell", [](config& c) { c.shell = "sh"; }, "shell"},
      {"missing shell", [](config& c) { c.shell = "/no/such/shell"; }, "shell"},
      {"directory as shell", [](config& c) { c.shell = "/tmp"; }, "shell"},
      {"shell not executable", [](config& c) { c.shell = "/etc/passwd"; },
       "shell"},
      {"missing default_cwd",
       [](config& c) { c.default_cwd = "/no/such/directory"; }, "default_cwd"},
      {"file as default_cwd", [](config& c) { c.default_cwd = "/etc/passwd"; },
       "default_cwd"},
      {"empty default_path", [](config& c) { c.default_path.clear(); },
       "default_path"},
      {"oom_score_adj -1", [](config& c) { c.oom_score_adj = -1; },
       "oom_score_adj"},
      {"oom_score_adj 1001", [](config& c) { c.oom_score_adj = 1001; },
       "oom_score_adj"},
      {"unknown run_as", [](config& c) { c.run_as = "corral-no-such-user"; },
       "run_as"},
      {"unknown log_level", [](config& c) { c.log_level = "loud"; },
       "log_level"},
      {"upper-case log_level", [](config& c) { c.log_level = "INFO"; },
       "log_level"},
      {"drain_timeout_s 3601", [](config& c) { c.drain_timeout_s = 3601; },
       "drain_timeout_s"},
      {"sweep_interval_ms 99", [](config& c) { c.sweep_interval_ms = 99; },
       "sweep_interval_ms"},
      {"sweep_interval_ms 60001",
       [](config& c) { c.sweep_interval_ms = 60001; }, "sweep_interval_ms"},
      {"empty listen host", [](config& c) { c.listen_host.clear(); }, "listen"},
  };
  for (const auto& entry : cases) {
    BOOST_TEST_CONTEXT("case " << entry.name) {
      config values;
      entry.change(values);
      auto errors = corral::validate(values);
      BOOST_TEST(errors.size() == 1u, "errors:" << joined(errors));
      BOOST_TEST(count_mentions(errors, entry.key) == errors.size(),
                 "errors:" << joined(errors));
    }
  }
}

BOOST_AUTO_TEST_CASE(boundary_values_are_accepted) {
  const config_case cases[] = {
      {"max_sessions 1", [](config& c) { c.max_sessions = 1; }, ""},
      {"max_sessions 100000", [](config& c) { c.max_sessions = 100000; }, ""},
      {"max_commands 1", [](config& c) { c.max_commands = 1; }, ""},
      {"max_commands 10000", [](config& c) { c.max_commands = 10000; }, ""},
      {"max_connections 100000", [](config& c) { c.max_connections = 100000; },
       ""},
      {"default_timeout_s equal to max",
       [](config& c) { c.default_timeout_s = c.max_timeout_s; }, ""},
      {"max_timeout_s 604800", [](config& c) { c.max_timeout_s = 604800; }, ""},
      {"kill_grace_ms 60000", [](config& c) { c.kill_grace_ms = 60000; }, ""},
      {"max_output_bytes 1 KiB", [](config& c) { c.max_output_bytes = kib; },
       ""},
      {"max_output_bytes 1 GiB", [](config& c) { c.max_output_bytes = gib; },
       ""},
      {"max_stdin_bytes 0", [](config& c) { c.max_stdin_bytes = 0; }, ""},
      {"max_stdin_bytes 64 MiB",
       [](config& c) { c.max_stdin_bytes = 64 * mib; }, ""},
      {"max_request_bytes at derived minimum",
       [](config& c) {
         c.max_request_bytes = 6 * c.max_stdin_bytes + 64 * kib;
       },
       ""},
      {"max_send_queue_bytes 64 KiB",
       [](config& c) { c.max_send_queue_bytes = 64 * kib; }, ""},
      {"output_drain_ms 10000", [](config& c) { c.output_drain_ms = 10000; },
       ""},
      {"oom_score_adj 0", [](config& c) { c.oom_score_adj = 0; }, ""},
      {"oom_score_adj 1000", [](config& c) { c.oom_score_adj = 1000; }, ""},
      {"drain_timeout_s 3600", [](config& c) { c.drain_timeout_s = 3600; }, ""},
      {"sweep_interval_ms 100", [](config& c) { c.sweep_interval_ms = 100; },
       ""},
      {"sweep_interval_ms 60000",
       [](config& c) { c.sweep_interval_ms = 60000; }, ""},
      {"log_level trace", [](config& c) { c.log_level = "trace"; }, ""},
      {"log_level off", [](config& c) { c.log_level = "off"; }, ""},
      {"limits all zero",
       [](config& c) {
         c.limit_cpu_sec = 0;
         c.limit_memory_bytes = 0;
         c.limit_nproc = 0;
         c.limit_nofile = 0;
       },
       ""},
  };
  for (const auto& entry : cases) {
    BOOST_TEST_CONTEXT("case " << entry.name) {
      config values;
      entry.change(values);
      auto errors = corral::validate(values);
      BOOST_TEST(errors.empty(), "errors:" << joined(errors));
    }
  }
}

BOOST_AUTO_TEST_CASE(run_as_accepts_existing_user) {
  const auto* entry = ::getpwuid(::getuid());
  if (entry == nullptr) {
    BOOST_TEST_MESSAGE("skipped: the current uid has no passwd entry");
    return;
  }
  config values;
  values.run_as = entry->pw_name;
  auto errors = corral::validate(values);
  BOOST_TEST(errors.empty(), "errors:" << joined(errors));
}

BOOST_AUTO_TEST_CASE(flags_override_config_file) {
  config_file file{R"({"max_sessions": 10, "max_commands": 5,
                       "log_level": "debug"})"};
  auto result = load({"--max-sessions", "20", "--config", file.path()});
  BOOST_TEST(result.errors.empty(), "errors:" << joined(result.errors));
  BOOST_TEST(result.values.max_sessions == 20u);
  BOOST_TEST(result.values.max_commands == 5u);
  BOOST_TEST(result.values.log_level == "debug");
  BOOST_TEST(result.values.max_connections == config{}.max_connections);
}

BOOST_AUTO_TEST_CASE(file_sets_every_kind_of_value) {
  config_file file{R"({"listen": "[::1]:7412", "ready_file": "/tmp/r",
                       "oom_score_adj": 0, "max_request_bytes": 0,
                       "limit_nofile": 128})"};
  auto result = load({"--config", file.path()});
  BOOST_TEST(result.errors.empty(), "errors:" << joined(result.errors));
  BOOST_TEST(result.values.listen_host == "::1");
  BOOST_TEST(result.values.listen_port == 7412);
  BOOST_TEST(result.values.ready_file == "/tmp/r");
  BOOST_TEST(result.values.oom_score_adj == 0);
  BOOST_TEST(result.values.limit_nofile == 128u);
}

BOOST_AUTO_TEST_CASE(unknown_json_key_is_reported) {
  config_file file{R"({"max_session": 3})"};
  auto result = load({"--config", file.path()});
  BOOST_TEST(result.errors.size() == 1u, "errors:" << joined(result.errors));
  BOOST_TEST(count_mentions(result.errors, "unknown key \"max_session\" in " +
                                               file.path()) == 1u,
             "errors:" << joined(result.errors));
  BOOST_TEST(
      count_mentions(result.errors, "did you mean \"max_sessions\"") == 1u,
      "errors:" << joined(result.errors));
}

BOOST_AUTO_TEST_CASE(wrong_json_types_are_reported) {
  struct type_case {
    const char* json;
    const char* key;
  };
  const type_case cases[] = {
      {R"({"max_sessions": "64"})", "max_sessions"},
      {R"({"max_sessions": 64.0})", "max_sessions"},
      {R"({"max_sessions": -1})", "max_sessions"},
      {R"({"max_sessions": null})", "max_sessions"},
      {R"({"oom_score_adj": 1.5})", "oom_score_adj"},
      {R"({"oom_score_adj": 99999999999})", "oom_score_adj"},
      {R"({"shell": 5})", "shell"},
      {R"({"log_level": ["info"]})", "log_level"},
      {R"({"listen": 7411})", "listen"},
      {R"({"listen": "localhost"})", "listen"},
      {R"({"run_as": true})", "run_as"},
  };
  for (const auto& entry : cases) {
    BOOST_TEST_CONTEXT("json " << entry.json) {
      config values;
      auto errors = corral::apply_config_json(entry.json, values);
      BOOST_TEST(errors.size() == 1u, "errors:" << joined(errors));
      BOOST_TEST(count_mentions(errors, entry.key) == errors.size(),
                 "errors:" << joined(errors));
      BOOST_TEST(values.max_sessions == config{}.max_sessions);
      BOOST_TEST(values.shell == config{}.shell);
    }
  }
}

BOOST_AUTO_TEST_CASE(json_must_be_an_object) {
  config values;
  auto errors = corral::apply_config_json("[1, 2]", values);
  BOOST_TEST(errors.size() == 1u, "errors:" << joined(errors));
  BOOST_TEST(count_mentions(errors, "JSON object") == 1u,
             "errors:" << joined(errors));
}

BOOST_AUTO_TEST_CASE(invalid_json_names_file_and_line) {
  config_file file{"{\n  \"max_sessions\": 4,\n  \"max_commands\": }\n"};
  auto result = load({"--config", file.path()});
  BOOST_TEST(result.errors.size() == 1u, "errors:" << joined(result.errors));
  BOOST_TEST(count_mentions(result.errors, file.path()) == 1u,
             "errors:" << joined(result.errors));
  BOOST_TEST(count_mentions(result.errors, "line 3") == 1u,
             "errors:" << joined(result.errors));
}

BOOST_AUTO_TEST_CASE(missing_config_file_is_reported) {
  auto result = load({"--config", "/no/such/corral.json"});
  BOOST_TEST(result.errors.size() == 1u, "errors:" << joined(result.errors));
  BOOST_TEST(count_mentions(result.errors, "/no/such/corral.json") == 1u,
             "errors:" << joined(result.errors));
}

BOOST_AUTO_TEST_CASE(several_errors_reported_together) {
  config_file file{R"({"max_sessions": 0, "max_sesions": 1})"};
  auto result = load({"--config", file.path(), "--max-commands", "0",
                      "--log-level", "loud", "--kill-grace-ms", "soon"});
  BOOST_TEST(result.errors.size() == 5u, "errors:" << joined(result.errors));
  const char* expected[] = {"max_sessions must be", "\"max_sesions\"",
                            "max_commands must be", "log_level must be",
                            "--kill-grace-ms must be"};
  for (const char* text : expected) BOOST_TEST_CONTEXT("message " << text) {
      BOOST_TEST(count_mentions(result.errors, text) == 1u,
                 "errors:" << joined(result.errors));
    }
}

BOOST_AUTO_TEST_CASE(range_message_names_value_and_range) {
  auto result = load({"--max-sessions", "0"});
  BOOST_REQUIRE(result.errors.size() == 1u);
  BOOST_TEST(result.errors.front() ==
             "max_sessions must be an integer from 1 to 100000, got 0");
}

BOOST_AUTO_TEST_CASE(flag_values_must_be_integers) {
  struct flag_case {
    std::vector<std::string> args;
    const char* flag;
  };
  const flag_case cases[] = {
      {{"--max-sessions", "abc"}, "--max-sessions"},
      {{"--max-sessions=-1"}, "--max-sessions"},
      {{"--max-sessions", "1.5"}, "--max-sessions"},
      {{"--max-sessions", " 5"}, "--max-sessions"},
      {{"--limit-cpu-sec", "99999999999999999999999"}, "--limit-cpu-sec"},
      {{"--oom-score-adj", "9999999999"}, "--oom-score-adj"},
  };
  for (const auto& entry : cases) {
    BOOST_TEST_CONTEXT("flag " << entry.args.front()) {
      auto result = load(entry.args);
      BOOST_TEST(result.errors.size() == 1u,
                 "errors:" << joined(result.errors));
      BOOST_TEST(count_mentions(result.errors, entry.flag) == 1u,
                 "errors:" << joined(result.errors));
    }
  }
}

BOOST_AUTO_TEST_CASE(unknown_flag_is_reported) {
  auto result = load({"--max-session", "3", "--bogus=1"});
  BOOST_TEST(result.errors.size() == 2u, "errors:" << joined(result.errors));
  BOOST_TEST(count_mentions(result.errors,
                            "unknown option --max-session; did you mean "
                            "--max-sessions?") == 1u,
             "errors:" << joined(result.errors));
  BOOST_TEST(count_mentions(result.errors, "unknown option --bogus") == 1u,
             "errors:" << joined(result.errors));
}

BOOST_AUTO_TEST_CASE(malformed_command_lines_are_reported) {
  const std::vector<std::string> cases[] = {
      {"--listen"},
      {"stray"},
      {"--max-sess", "3"},
  };
  for (const auto& args : cases) {
    BOOST_TEST_CONTEXT("arguments " << args.front()) {
      auto result = load(args);
      BOOST_TEST(!result.errors.empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(later_flag_wins) {
  auto result = load({"--max-sessions", "3", "--max-sessions", "4"});
  BOOST_TEST(result.errors.empty(), "errors:" << joined(result.errors));
  BOOST_TEST(result.values.max_sessions == 4u);
}

BOOST_AUTO_TEST_CASE(derived_request_cap_fits_stdin) {
  config values;
  BOOST_TEST(values.request_line_cap() == 6 * mib + 64 * kib);
  values.max_stdin_bytes = kib;
  BOOST_TEST(values.request_line_cap() == 6 * kib + 64 * kib);
  values.max_request_bytes = 10 * mib;
  BOOST_TEST(values.request_line_cap() == 10 * mib);
}

BOOST_AUTO_TEST_CASE(listen_accepts_ipv6_and_port_zero) {
  struct listen_case {
    const char* text;
    const char* host;
    std::uint16_t port;
  };
  const listen_case cases[] = {
      {"[::1]:7411", "::1", 7411},
      {"[::1]:0", "::1", 0},
      {"0.0.0.0:65535", "0.0.0.0", 65535},
      {"localhost:80", "localhost", 80},
  };
  for (const auto& entry : cases) {
    BOOST_TEST_CONTEXT("listen " << entry.text) {
      auto result =
          load({"--listen", entry.text, "--allow-unauthenticated-remote"});
      BOOST_TEST(result.errors.empty(), "errors:" << joined(result.errors));
      BOOST_TEST(result.values.listen_host == entry.host);
      BOOST_TEST(result.values.listen_port == entry.port);
    }
  }
}

BOOST_AUTO_TEST_CASE(loopback_hosts_recognised) {
  struct host_case {
    const char* host;
    bool loopback;
  };
  const host_case cases[] = {
      {"127.0.0.1", true},
      {"127.255.0.9", true},
      {"::1", true},
      {"localhost", true},
      {"LocalHost", true},
      {"::ffff:127.0.0.1", true},
      {"0.0.0.0", false},
      {"::", false},
      {"10.0.0.1", false},
      {"128.0.0.1", false},
      {"::ffff:10.0.0.1", false},
      {"example.org", false},
  };
  for (const auto& entry : cases) {
    BOOST_TEST_CONTEXT("host " << entry.host) {
      BOOST_TEST(corral::is_loopback_host(entry.host) == entry.loopback);
    }
  }
}

BOOST_AUTO_TEST_CASE(remote_listen_needs_tokens_or_opt_out) {
  auto refused = load({"--listen", "0.0.0.0:7411"});
  BOOST_TEST(count_mentions(refused.errors, "not loopback") == 1u);
  BOOST_TEST(count_mentions(refused.errors, "--allow-unauthenticated-remote") ==
             1u);

  const std::vector<std::vector<std::string>> accepted = {
      {"--listen", "0.0.0.0:7411", "--allow-unauthenticated-remote"},
      {"--listen", "0.0.0.0:7411", "--allow-unauthenticated-remote=true"},
      {"--listen", "[::1]:7411"},
  };
  for (const auto& args : accepted) {
    BOOST_TEST_CONTEXT("args " << args[1] << " " << args.back()) {
      auto result = load(args);
      BOOST_TEST(result.errors.empty(), "errors:" << joined(result.errors));
    }
  }
  auto opted_out = load(
      {"--listen", "0.0.0.0:7411", "--allow-unauthenticated-remote=false"});
  BOOST_TEST(count_mentions(opted_out.errors, "not loopback") == 1u);
}

BOOST_AUTO_TEST_CASE(boolean_setting_forms) {
  config_file file{R"({"allow_unauthenticated_remote": true})"};
  auto from_file = load({"--config", file.path()});
  BOOST_TEST(from_file.values.allow_unauthenticated_remote);

  config_file wrong{R"({"allow_unauthenticated_remote": "yes"})"};
  auto wrong_type = load({"--config", wrong.path()});
  BOOST_TEST(count_mentions(wrong_type.errors, "must be true or false") == 1u);

  auto bad_flag = load({"--allow-unauthenticated-remote=maybe"});
  BOOST_TEST(count_mentions(bad_flag.errors, "must be true or false") == 1u);
}

BOOST_AUTO_TEST_CASE(token_file_problems_reported) {
  auto missing = load({"--auth-tokens-file", "/nonexistent/tokens"});
  BOOST_TEST(count_mentions(missing.errors, "/nonexistent/tokens") == 1u);

  config_file readable{"alice 0123456789abcdef\n"};
  BOOST_REQUIRE(::chmod(readable.path().c_str(), 0644) == 0);
  auto open_mode = load({"--auth-tokens-file", readable.path()});
  BOOST_TEST(count_mentions(open_mode.errors, "chmod 600") == 1u);
}

BOOST_AUTO_TEST_CASE(listen_rejects_bad_addresses) {
  const char* cases[] = {"localhost", ":7411",      "::1:7411",
                         "[::1]",     "host:65536", "host:-1",
                         "host:",     "[::1]x:1",   "[]:7411"};
  for (const char* text : cases) {
    BOOST_TEST_CONTEXT("listen " << text) {
      auto result = load({"--listen", text});
      BOOST_TEST(result.errors.size() == 1u,
                 "errors:" << joined(result.errors));
      BOOST_TEST(count_mentions(result.errors, "--listen") == 1u,
                 "errors:" << joined(result.errors));
    }
  }
}

BOOST_AUTO_TEST_CASE(help_lists_settings_with_defaults) {
  auto result = load({"--help"});
  BOOST_TEST(result.show_help);
  // Wrapped lines break phrases, so compare with single spaces.
  std::string help;
  for (char c : result.help_text)
    if (!std::isspace(static_cast<unsigned char>(c)))
      help += c;
    else if (!help.empty() && help.back() != ' ')
      help += ' ';
  BOOST_TEST(result.errors.empty(), "errors:" << joined(result.errors));
  const char* expected[] = {"--config FILE",
                            "--listen HOST:PORT",
                            "(default 127.0.0.1:7411)",
                            "--max-sessions N",
                            "(default 64)",
                            "--limit-cpu-sec SEC",
                            "--run-as USER",
                            "--log-level LEVEL",
                            "--max-send-queue-bytes",
                            "(default 67108864 = 64 MiB)",
                            "--sweep-interval-ms MS"};
  for (const char* text : expected) BOOST_TEST_CONTEXT("text " << text) {
      BOOST_TEST(help.find(text) != std::string::npos, "help:\n"
                                                           << result.help_text);
    }
}

BOOST_AUTO_TEST_CASE(version_flag_is_reported) {
  auto result = load({"--version", "--max-sessions", "0"});
  BOOST_TEST(result.show_version);
  BOOST_TEST(result.errors.empty(), "errors:" << joined(result.errors));
}

BOOST_AUTO_TEST_CASE(rlimits_of_maps_limit_fields) {
  config values;
  values.limit_cpu_sec = 3;
  values.limit_memory_bytes = 512 * mib;
  values.limit_nproc = 40;
  values.limit_nofile = 100;
  auto limits = corral::rlimits_of(values);
  BOOST_TEST(limits.cpu_sec == 3u);
  BOOST_TEST(limits.address_space_bytes == 512 * mib);
  BOOST_TEST(limits.nproc == 40u);
  BOOST_TEST(limits.nofile == 100u);
}

BOOST_AUTO_TEST_SUITE_END()
