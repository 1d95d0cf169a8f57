// Tests of the params decoders: every accepted form and every rejection.

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "protocol/jsonrpc.hpp"
#include "protocol/utf8.hpp"

namespace corral::protocol {
namespace {

namespace json = boost::json;

constexpr std::size_t stdin_cap = 16;

params_ptr params_of(const std::string& text) {
  return std::make_shared<const json::object>(json::parse(text).as_object());
}

// A params text and the words its INVALID_PARAMS message must contain.
struct rejection_case {
  std::string params;
  std::string message_part;
};

template <class T>
void check_rejected(const decoded<T>& result, const rejection_case& test) {
  const auto* error = std::get_if<rpc_error>(&result);
  BOOST_TEST_REQUIRE(error != nullptr);
  BOOST_TEST(symbolic_name(error->code) == "INVALID_PARAMS");
  BOOST_TEST(error->message.find(test.message_part) != std::string::npos,
             "message \"" << error->message << "\" lacks \""
                          << test.message_part << "\"");
  BOOST_TEST(error->details.empty());
  bool lossy = false;
  BOOST_TEST(sanitize_utf8(error->message, lossy) == error->message);
}

template <class T>
std::string message_of(const decoded<T>& result) {
  const auto* error = std::get_if<rpc_error>(&result);
  return error == nullptr ? std::string{} : error->message;
}

exec_request run_ok(const std::string& text) {
  auto result = decode_exec_run(params_of(text), stdin_cap);
  BOOST_TEST_REQUIRE(std::holds_alternative<exec_request>(result),
                     "rejected: " << message_of(result));
  return std::get<exec_request>(result);
}

session_options create_ok(const std::string& text) {
  auto result = decode_session_create(params_of(text));
  BOOST_TEST_REQUIRE(std::holds_alternative<session_options>(result),
                     "rejected: " << message_of(result));
  return std::get<session_options>(result);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(params_test)

// -- session.create -----------------------------------------------------------

BOOST_AUTO_TEST_CASE(session_create_empty_params) {
  auto options = create_ok("{}");
  BOOST_TEST(!options.cwd.has_value());
  BOOST_TEST(options.env.empty());
  BOOST_TEST(!options.limits.cpu_sec.has_value());
  BOOST_TEST(!options.limits.memory_bytes.has_value());
  BOOST_TEST(!options.limits.nproc.has_value());
  BOOST_TEST(!options.limits.nofile.has_value());
  BOOST_TEST(!options.limits.timeout_s.has_value());
  BOOST_TEST(!options.limits.output_bytes.has_value());
}

BOOST_AUTO_TEST_CASE(session_create_all_fields) {
  auto options = create_ok(
      R"({"cwd":"/srv/work","env":{"A":"1","EMPTY":"","B_2":"x=y"},)"
      R"("limits":{"cpu_sec":5,"memory_bytes":18446744073709551615,)"
      R"("nproc":64,"nofile":256.0,"timeout_s":1e2,"output_bytes":4096}})");
  BOOST_TEST(options.cwd.value_or("") == "/srv/work");
  BOOST_TEST(options.env.size() == 3u);
  BOOST_TEST(options.env.at("A") == "1");
  BOOST_TEST(options.env.at("EMPTY") == "");
  BOOST_TEST(options.env.at("B_2") == "x=y");
  BOOST_TEST(options.limits.cpu_sec.value_or(0) == 5u);
  BOOST_TEST(options.limits.memory_bytes.value_or(0) ==
             18446744073709551615ull);
  BOOST_TEST(options.limits.nproc.value_or(0) == 64u);
  BOOST_TEST(options.limits.nofile.value_or(0) == 256u);
  BOOST_TEST(options.limits.timeout_s.value_or(0) == 100u);
  BOOST_TEST(options.limits.output_bytes.value_or(0) == 4096u);
}

BOOST_AUTO_TEST_CASE(session_create_rejections) {
  const std::vector<rejection_case> cases = {
      {R"({"cdw":"/tmp"})", "unknown field \"cdw\""},
      {R"({"cdw":"/tmp"})", "cwd, env, limits"},
      {R"({"cwd":""})", "cwd must not be empty"},
      {R"({"cwd":5})", "cwd must be a string, got 5"},
      {R"({"cwd":null})", "cwd must be a string"},
      {R"({"cwd":"/tmp\u0000x"})", "cwd must not contain NUL"},
      {R"({"env":[]})", "env must be an object"},
      {R"({"env":"A=1"})", "env must be an object"},
      {R"({"env":{"":"x"}})", "env name \"\" is invalid"},
      {R"({"env":{"A=B":"x"}})", "env name \"A=B\" is invalid"},
      {R"({"env":{"A\u0000":"x"}})", "is invalid"},
      {R"({"env":{"A":1}})", "env.A must be a string, got 1"},
      {R"({"env":{"A":null}})", "env.A must be a string"},
      {R"({"env":{"A":"x\u0000"}})", "env.A must not contain NUL"},
      {R"({"limits":5})", "limits must be an object, got 5"},
      {R"({"limits":{"cpu":1}})", "unknown field \"cpu\" in limits"},
      {R"({"limits":{"cpu_sec":0}})", "limits.cpu_sec must be a positive"},
      {R"({"limits":{"cpu_sec":-1}})", "limits.cpu_sec must be a positive"},
      {R"({"limits":{"memory_bytes":1.5}})", "limits.memory_bytes must be"},
      {R"({"limits":{"nproc":"4"}})", "limits.nproc must be a positive"},
      {R"({"limits":{"nofile":true}})", "limits.nofile must be a positive"},
      {R"({"limits":{"timeout_s":0.0}})", "limits.timeout_s must be"},
      {R"({"limits":{"output_bytes":null}})", "limits.output_bytes must be"},
      {R"({"limits":{"output_bytes":1e300}})", "limits.output_bytes must be"},
      {R"({"limits":{"cpu_sec":0.5}})", "limits.cpu_sec must be a positive"},
      {R"({"idle_s":0})", "idle_s must be a positive integer"},
      {R"({"idle_s":-5})", "idle_s must be a positive integer"},
      {R"({"idle_s":"60"})", "idle_s must be a positive integer"},
  };
  for (const auto& test : cases) {
    BOOST_TEST_CONTEXT("params " << test.params) {
      check_rejected(decode_session_create(params_of(test.params)), test);
    }
  }
}

BOOST_AUTO_TEST_CASE(session_create_idle_seconds) {
  auto options = create_ok(R"({"idle_s":30})");
  BOOST_TEST(options.idle_s.value_or(0) == 30u);
}

// -- auth.login ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(login_token_decoded) {
  auto result = decode_login(params_of(R"({"token":"abcdefghijklmnop"})"));
  BOOST_TEST_REQUIRE(std::holds_alternative<std::string>(result));
  BOOST_TEST(std::get<std::string>(result) == "abcdefghijklmnop");
}

BOOST_AUTO_TEST_CASE(login_rejections_hide_token) {
  const std::vector<rejection_case> cases = {
      {R"({})", "token is required"},
      {R"({"token":""})", "token must be a non-empty string"},
      {R"({"token":12345})", "token must be a non-empty string"},
      {R"({"token":"x","user":"y"})", "unknown field \"user\""},
  };
  for (const auto& test : cases) {
    BOOST_TEST_CONTEXT("params " << test.params) {
      auto result = decode_login(params_of(test.params));
      check_rejected(result, test);
      BOOST_TEST(message_of(result).find("12345") == std::string::npos);
    }
  }
}

// -- exec.run -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(exec_run_command_defaults) {
  auto request = run_ok(R"({"session":"s-1","command":"echo hi"})");
  BOOST_TEST(request.session == "s-1");
  BOOST_TEST(request.command.value_or("") == "echo hi");
  BOOST_TEST(request.argv.empty());
  BOOST_TEST(!request.has_stdin);
  BOOST_TEST(request.stdin_data.empty());
  BOOST_TEST(!request.timeout_s.has_value());
  BOOST_TEST(request.env.empty());
  BOOST_TEST(!request.cwd.has_value());
  BOOST_TEST((request.encoding == output_encoding::utf8));
}

BOOST_AUTO_TEST_CASE(exec_run_argv_all_fields) {
  auto request =
      run_ok(R"({"session":"s-9","argv":["/bin/printf","%s",""],)"
             R"("stdin":"in\u0000put","timeout_s":30,"env":{"X":"1"},)"
             R"("cwd":"/var","output_encoding":"base64"})");
  BOOST_TEST(!request.command.has_value());
  const std::vector<std::string> expected_argv = {"/bin/printf", "%s", ""};
  BOOST_TEST(request.argv == expected_argv, boost::test_tools::per_element());
  BOOST_TEST(request.has_stdin);
  BOOST_TEST(request.stdin_data == std::string("in\0put", 6));
  BOOST_TEST(request.timeout_s.value_or(0) == 30u);
  BOOST_TEST(request.env.at("X") == "1");
  BOOST_TEST(request.cwd.value_or("") == "/var");
  BOOST_TEST((request.encoding == output_encoding::base64));
}

BOOST_AUTO_TEST_CASE(exec_run_utf8_encoding_explicit) {
  auto request =
      run_ok(R"({"session":"s-1","command":"x","output_encoding":"utf8"})");
  BOOST_TEST((request.encoding == output_encoding::utf8));
}

BOOST_AUTO_TEST_CASE(exec_run_empty_stdin_is_stdin) {
  auto request = run_ok(R"({"session":"s-1","command":"cat","stdin":""})");
  BOOST_TEST(request.has_stdin);
  BOOST_TEST(request.stdin_data.empty());
}

BOOST_AUTO_TEST_CASE(exec_run_decodes_stdin_base64) {
  auto request =
      run_ok(R"({"session":"s-1","command":"cat","stdin_base64":"AP+AYQ=="})");
  BOOST_TEST(request.has_stdin);
  BOOST_TEST(request.stdin_data == std::string("\x00\xFF\x80\x61", 4));
}

BOOST_AUTO_TEST_CASE(exec_run_rejections) {
  const std::vector<rejection_case> cases = {
      {R"({"command":"ls"})", "session is required"},
      {R"({"session":"","command":"ls"})", "session must not be empty"},
      {R"({"session":1,"command":"ls"})", "session must be a string, got 1"},
      {R"({"session":"s-1"})", "exactly one of command"},
      {R"({"session":"s-1","command":"ls","argv":["ls"]})",
       "exactly one of command"},
      {R"({"session":"s-1","command":""})", "command must not be empty"},
      {R"({"session":"s-1","command":["ls"]})", "command must be a string"},
      {R"({"session":"s-1","command":"a\u0000b"})",
       "command must not contain NUL"},
      {R"({"session":"s-1","argv":[]})", "argv must be a non-empty array"},
      {R"({"session":"s-1","argv":"ls -l"})", "argv must be a non-empty array"},
      {R"({"session":"s-1","argv":[""]})", "argv[0] must not be empty"},
      {R"({"session":"s-1","argv":["ls",3]})", "argv[1] must be a string"},
      {R"({"session":"s-1","argv":["ls","-l","a\u0000"]})",
       "argv[2] must not contain NUL"},
      {R"({"session":"s-1","command":"ls","timeout_s":0})",
       "timeout_s must be a positive integer, got 0"},
      {R"({"session":"s-1","command":"ls","timeout_s":-5})",
       "timeout_s must be a positive integer"},
      {R"({"session":"s-1","command":"ls","timeout_s":2.5})",
       "timeout_s must be a positive integer, got 2.5"},
      {R"({"session":"s-1","command":"ls","timeout_s":"10"})",
       "timeout_s must be a positive integer"},
      {R"({"session":"s-1","command":"ls","env":{"A=":"1"}})",
       "env name \"A=\" is invalid"},
      {R"({"session":"s-1","command":"ls","env":{"A":false}})",
       "env.A must be a string"},
      {R"({"session":"s-1","command":"ls","cwd":""})", "cwd must not be empty"},
      {R"({"session":"s-1","command":"ls","cwd":7})", "cwd must be a string"},
      {R"({"session":"s-1","command":"ls","output_encoding":"hex"})",
       "output_encoding must be \"utf8\" or \"base64\", got \"hex\""},
      {R"({"session":"s-1","command":"ls","output_encoding":"UTF8"})",
       "output_encoding must be"},
      {R"({"session":"s-1","command":"ls","stdin":"a","stdin_base64":"YQ=="})",
       "either stdin or stdin_base64"},
      {R"({"session":"s-1","command":"ls","stdin":5})",
       "stdin must be a string, got 5"},
      {R"({"session":"s-1","command":"ls","stdin_base64":"YQ"})",
       "stdin_base64 must be standard base64"},
      {R"({"session":"s-1","command":"ls","stdin_base64":"Y Q=="})",
       "stdin_base64 must be standard base64"},
      {R"({"session":"s-1","command":"ls","stdin_base64":1})",
       "stdin_base64 must be standard base64"},
      {R"({"session":"s-1","command":"ls","timeout":5})",
       "unknown field \"timeout\" in exec.run params"},
      {R"({"session":"s-1","command":"ls","limits":{}})",
       "unknown field \"limits\""},
  };
  for (const auto& test : cases) {
    BOOST_TEST_CONTEXT("params " << test.params) {
      check_rejected(decode_exec_run(params_of(test.params), stdin_cap), test);
    }
  }
}

BOOST_AUTO_TEST_CASE(other_mistakes_before_stdin_size) {
  // The stdin cap is checked last, so the real mistake is reported first.
  rejection_case test{R"({"session":"s-1","command":"ls","timeout_s":0,)"
                      R"("stdin":"far too much input for the cap"})",
                      "timeout_s"};
  check_rejected(decode_exec_run(params_of(test.params), stdin_cap), test);
}

BOOST_AUTO_TEST_CASE(stdin_cap_in_both_encodings) {
  struct stdin_case {
    std::string field;
    std::string value;
    std::size_t bytes;
    bool accepted;
  };
  const std::vector<stdin_case> cases = {
      {"stdin", std::string(16, 'a'), 16, true},
      {"stdin", std::string(17, 'a'), 17, false},
      {"stdin", "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9", 16,
       true},
      {"stdin", "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9a", 17,
       false},
      // 16 bytes take 24 base64 characters, but the cap counts decoded bytes.
      {"stdin_base64", base64_encode(std::string(16, '\xFF')), 16, true},
      {"stdin_base64", base64_encode(std::string(17, '\xFF')), 17, false},
      {"stdin_base64", base64_encode(std::string(300, '\0')), 300, false},
  };
  for (const auto& test : cases) {
    BOOST_TEST_CONTEXT(test.field << " of " << test.bytes << " bytes") {
      auto params = R"({"session":"s-1","command":"cat",")" + test.field +
                    R"(":")" + test.value + R"("})";
      auto result = decode_exec_run(params_of(params), stdin_cap);
      const auto* error = std::get_if<rpc_error>(&result);
      if (test.accepted) {
        BOOST_TEST_REQUIRE(error == nullptr);
        BOOST_TEST(std::get<exec_request>(result).stdin_data.size() ==
                   test.bytes);
        continue;
      }
      BOOST_TEST_REQUIRE(error != nullptr);
      BOOST_TEST(symbolic_name(error->code) == "STDIN_TOO_LARGE");
      BOOST_TEST(error->details.size() == 2u);
      BOOST_TEST(error->details.at("stdin_bytes") ==
                 static_cast<std::int64_t>(test.bytes));
      BOOST_TEST(error->details.at("max_stdin_bytes") ==
                 static_cast<std::int64_t>(stdin_cap));
      BOOST_TEST(error->message.find(std::to_string(test.bytes)) !=
                 std::string::npos);
      BOOST_TEST(error->message.find("max_stdin_bytes") != std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_CASE(long_value_description_stays_utf8) {
  // The message quotes at most 60 bytes of the value, so the cut must not
  // split a character.
  std::string value;
  for (int i = 0; i < 40; ++i)
    value += "\xE2\x82\xAC";  // U+20AC
  for (std::size_t shift = 0; shift < 3; ++shift) {
    BOOST_TEST_CONTEXT("shift " << shift) {
      auto params = R"({"session":"s-1","argv":")" + std::string(shift, 'a') +
                    value + R"("})";
      auto result = decode_exec_run(params_of(params), stdin_cap);
      const auto* error = std::get_if<rpc_error>(&result);
      BOOST_TEST_REQUIRE(error != nullptr);
      bool lossy = false;
      sanitize_utf8(error->message, lossy);
      BOOST_TEST(!lossy);
      BOOST_TEST(error->message.find("...") != std::string::npos);
    }
  }
}

// -- session.destroy, exec.cancel, methods without params ---------------------

BOOST_AUTO_TEST_CASE(session_id_accepted) {
  auto result = decode_session_id(params_of(R"({"session":"s-42"})"));
  const auto* id = std::get_if<std::string>(&result);
  BOOST_TEST_REQUIRE(id != nullptr);
  BOOST_TEST(*id == "s-42");
}

BOOST_AUTO_TEST_CASE(session_id_rejections) {
  const std::vector<rejection_case> cases = {
      {"{}", "session is required"},
      {R"({"session":""})", "session must not be empty"},
      {R"({"session":42})", "session must be a string, got 42"},
      {R"({"session":null})", "session must be a string"},
      {R"({"session":"s\u0000"})", "session must not contain NUL"},
      {R"({"session":"s-1","force":true})", "unknown field \"force\""},
      {R"({"id":"s-1"})", "accepted fields: session"},
  };
  for (const auto& test : cases) {
    BOOST_TEST_CONTEXT("params " << test.params) {
      check_rejected(decode_session_id(params_of(test.params)), test);
    }
  }
}

BOOST_AUTO_TEST_CASE(no_params_accepts_empty_object) {
  BOOST_TEST(!expect_no_params(params_of("{}")).has_value());
}

BOOST_AUTO_TEST_CASE(no_params_rejects_any_field) {
  const std::vector<std::string> cases = {R"({"verbose":true})",
                                          R"({"session":"s-1"})"};
  for (const auto& params : cases) {
    BOOST_TEST_CONTEXT("params " << params) {
      auto error = expect_no_params(params_of(params));
      BOOST_TEST_REQUIRE(error.has_value());
      BOOST_TEST(symbolic_name(error->code) == "INVALID_PARAMS");
      auto object = json::parse(params).as_object();
      auto field = "\"" + std::string{object.begin()->key()} + "\"";
      BOOST_TEST(error->message.find(field) != std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace corral::protocol
