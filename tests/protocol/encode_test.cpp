// Tests of the reply encoders: error codes, envelopes and result objects.

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "protocol/json_text.hpp"
#include "protocol/jsonrpc.hpp"
#include "protocol/utf8.hpp"

namespace corral::protocol {
namespace {

namespace json = boost::json;

// Parses a reply line strictly, as a client would, and checks that it is
// one line.
json::value parse_reply(const std::string& line) {
  BOOST_TEST(line.find('\n') == std::string::npos);
  BOOST_TEST(line.find('\r') == std::string::npos);
  json::error_code ec;
  auto value = json::parse(line, ec);
  BOOST_TEST_REQUIRE(!ec, "reply does not parse: " << line);
  return value;
}

json::object parse_object(const std::string& text) {
  auto value = parse_reply(text);
  BOOST_TEST_REQUIRE(value.is_object());
  return value.as_object();
}

exec_result sample_result() {
  exec_result result;
  result.exit_code = 3;
  result.reason = "exited";
  result.out = {"hello\n", 6, false};
  result.err = {"", 0, false};
  result.duration_ms = 12.5;
  result.pid = 4242;
  result.usage.user_ms = 1.25;
  result.usage.system_ms = 0.5;
  result.usage.max_rss_kb = 2048;
  result.usage.minor_faults = 10;
  result.usage.major_faults = 1;
  result.usage.voluntary_switches = 2;
  result.usage.involuntary_switches = 3;
  return result;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(encode_test)

BOOST_AUTO_TEST_CASE(error_codes_match_catalogue) {
  struct code_case {
    error_code code;
    int number;
    std::string name;
  };
  const std::vector<code_case> cases = {
      {error_code::parse_error, -32700, "PARSE_ERROR"},
      {error_code::invalid_request, -32600, "INVALID_REQUEST"},
      {error_code::method_not_found, -32601, "METHOD_NOT_FOUND"},
      {error_code::invalid_params, -32602, "INVALID_PARAMS"},
      {error_code::internal_error, -32603, "INTERNAL_ERROR"},
      {error_code::session_not_found, -32001, "SESSION_NOT_FOUND"},
      {error_code::session_busy, -32002, "SESSION_BUSY"},
      {error_code::session_limit, -32003, "SESSION_LIMIT"},
      {error_code::command_limit, -32004, "COMMAND_LIMIT"},
      {error_code::stdin_too_large, -32005, "STDIN_TOO_LARGE"},
      {error_code::request_too_large, -32006, "REQUEST_TOO_LARGE"},
      {error_code::shutting_down, -32007, "SHUTTING_DOWN"},
      {error_code::spawn_failed, -32008, "SPAWN_FAILED"},
      {error_code::connection_limit, -32009, "CONNECTION_LIMIT"},
      {error_code::command_not_found, -32010, "COMMAND_NOT_FOUND"},
      {error_code::unauthorized, -32011, "UNAUTHORIZED"},
      {error_code::client_session_limit, -32012, "CLIENT_SESSION_LIMIT"},
      {error_code::rate_limited, -32013, "RATE_LIMITED"},
  };
  BOOST_TEST(cases.size() ==
             static_cast<std::size_t>(error_code::rate_limited));
  for (const auto& test : cases) {
    BOOST_TEST_CONTEXT("error " << test.name) {
      BOOST_TEST(json_rpc_code(test.code) == test.number);
      BOOST_TEST(symbolic_name(test.code) == test.name);

      rpc_error error{test.code, "what went wrong", {}};
      auto reply = parse_object(encode_error("5", error));
      BOOST_TEST(reply.size() == 3u);
      BOOST_TEST(reply.at("jsonrpc").as_string() == "2.0");
      BOOST_TEST(reply.at("id").as_int64() == 5);
      const auto& body = reply.at("error").as_object();
      BOOST_TEST(body.size() == 3u);
      BOOST_TEST(body.at("code").as_int64() == test.number);
      BOOST_TEST(body.at("message").as_string() == "what went wrong");
      const auto& data = body.at("data").as_object();
      BOOST_TEST(data.size() == 1u);
      BOOST_TEST(data.at("error").as_string() == test.name);
    }
  }
}

BOOST_AUTO_TEST_CASE(unknown_code_maps_to_internal_error) {
  auto out_of_range = static_cast<error_code>(200);
  BOOST_TEST(json_rpc_code(out_of_range) == -32603);
  BOOST_TEST(symbolic_name(out_of_range) == "INTERNAL_ERROR");
  auto zero = static_cast<error_code>(0);
  BOOST_TEST(symbolic_name(zero) == "INTERNAL_ERROR");
}

BOOST_AUTO_TEST_CASE(error_details_go_into_data) {
  rpc_error error{error_code::command_limit,
                  "16 commands are running",
                  {{"max_commands", 16}, {"negative", -3}}};
  auto reply = parse_object(encode_error(R"("req-1")", error));
  BOOST_TEST(reply.at("id").as_string() == "req-1");
  const auto& data = reply.at("error").as_object().at("data").as_object();
  BOOST_TEST(data.size() == 3u);
  BOOST_TEST(data.at("error").as_string() == "COMMAND_LIMIT");
  BOOST_TEST(data.at("max_commands").as_int64() == 16);
  BOOST_TEST(data.at("negative").as_int64() == -3);
}

BOOST_AUTO_TEST_CASE(error_without_id_uses_null) {
  rpc_error error{error_code::parse_error, "invalid JSON", {}};
  for (std::string id : {"", "null"}) {
    BOOST_TEST_CONTEXT("id \"" << id << "\"") {
      auto reply = parse_object(encode_error(id, error));
      BOOST_TEST(reply.at("id").is_null());
    }
  }
}

BOOST_AUTO_TEST_CASE(error_message_is_escaped) {
  rpc_error error{
      error_code::invalid_params, "line one\nline \"two\"\ttab\\ \x01", {}};
  auto line = encode_error("1", error);
  auto reply = parse_object(line);
  BOOST_TEST(reply.at("error").at("message").as_string() == error.message);
}

BOOST_AUTO_TEST_CASE(result_envelope_shape) {
  auto reply = parse_object(encode_result("7", R"({"pong":true})"));
  BOOST_TEST(reply.size() == 3u);
  BOOST_TEST(reply.at("jsonrpc").as_string() == "2.0");
  BOOST_TEST(reply.at("id").as_int64() == 7);
  BOOST_TEST(reply.at("result").at("pong").as_bool());
  BOOST_TEST(parse_object(encode_result("", "1")).at("id").is_null());
  BOOST_TEST(parse_object(encode_result(R"("x")", "[]")).at("id").as_string() ==
             "x");
}

BOOST_AUTO_TEST_CASE(parsed_id_round_trips_to_reply) {
  const std::vector<std::string> ids = {"0",
                                        "-1",
                                        "18446744073709551615",
                                        R"("text")",
                                        R"("\u00e9\n")",
                                        "null",
                                        "1.5",
                                        "1e300"};
  for (const auto& id : ids) {
    BOOST_TEST_CONTEXT("id " << id) {
      auto parsed = parse_line(R"({"id":)" + id + R"(,"method":"m"})");
      BOOST_TEST_REQUIRE(parsed.entries.size() == 1u);
      const auto* request = std::get_if<call>(&parsed.entries.front());
      BOOST_TEST_REQUIRE(request != nullptr);
      auto reply = parse_object(encode_result(request->id, "{}"));
      BOOST_TEST(reply.at("id") == json::parse(id));
    }
  }
}

BOOST_AUTO_TEST_CASE(batch_joins_replies_in_order) {
  std::vector<std::string> replies = {
      encode_result("1", "{}"),
      encode_error("2", {error_code::method_not_found, "no such method", {}}),
      encode_result("3", "true")};
  auto value = parse_reply(encode_batch(replies));
  BOOST_TEST_REQUIRE(value.is_array());
  const auto& array = value.as_array();
  BOOST_TEST_REQUIRE(array.size() == 3u);
  BOOST_TEST(array[0].at("id").as_int64() == 1);
  BOOST_TEST(array[1].at("error").at("code").as_int64() == -32601);
  BOOST_TEST(array[2].at("result").as_bool());
  BOOST_TEST(encode_batch({}) == "[]");
  BOOST_TEST(encode_batch({"1"}) == "[1]");
}

BOOST_AUTO_TEST_CASE(exec_result_has_every_field) {
  auto object = parse_object(encode_exec_result(sample_result()));
  const std::vector<std::string> fields = {
      "exit_code",        "signal",       "reason",       "limits_hit",
      "stdout",           "stderr",       "encoding",     "stdout_truncated",
      "stderr_truncated", "stdout_bytes", "stderr_bytes", "stdout_lossy",
      "stderr_lossy",     "duration_ms",  "pid",          "usage"};
  BOOST_TEST(object.size() == fields.size());
  for (const auto& field : fields) {
    BOOST_TEST_CONTEXT("field " << field) {
      BOOST_TEST(object.contains(field));
    }
  }
  BOOST_TEST(object.at("exit_code").as_int64() == 3);
  BOOST_TEST(object.at("signal").is_null());
  BOOST_TEST(object.at("reason").as_string() == "exited");
  BOOST_TEST(object.at("limits_hit").as_array().empty());
  BOOST_TEST(object.at("stdout").as_string() == "hello\n");
  BOOST_TEST(object.at("stderr").as_string() == "");
  BOOST_TEST(object.at("encoding").as_string() == "utf8");
  BOOST_TEST(!object.at("stdout_truncated").as_bool());
  BOOST_TEST(object.at("stdout_bytes").to_number<std::uint64_t>() == 6u);
  BOOST_TEST(!object.at("stdout_lossy").as_bool());
  BOOST_TEST(object.at("pid").as_int64() == 4242);

  const auto& usage = object.at("usage").as_object();
  BOOST_TEST(usage.size() == 7u);
  BOOST_TEST(usage.at("max_rss_kb").to_number<std::uint64_t>() == 2048u);
  BOOST_TEST(usage.at("minor_faults").to_number<std::uint64_t>() == 10u);
  BOOST_TEST(usage.at("major_faults").to_number<std::uint64_t>() == 1u);
  BOOST_TEST(usage.at("voluntary_switches").to_number<std::uint64_t>() == 2u);
  BOOST_TEST(usage.at("involuntary_switches").to_number<std::uint64_t>() == 3u);
}

BOOST_AUTO_TEST_CASE(signaled_result_has_null_exit) {
  auto result = sample_result();
  result.exit_code.reset();
  result.signal = "SIGKILL";
  result.reason = "timeout";
  result.limits_hit = {"nproc"};
  auto object = parse_object(encode_exec_result(result));
  BOOST_TEST(object.at("exit_code").is_null());
  BOOST_TEST(object.at("signal").as_string() == "SIGKILL");
  BOOST_TEST(object.at("reason").as_string() == "timeout");
  BOOST_TEST_REQUIRE(object.at("limits_hit").as_array().size() == 1u);
  BOOST_TEST(object.at("limits_hit").as_array()[0].as_string() == "nproc");
}

BOOST_AUTO_TEST_CASE(invalid_utf8_output_is_lossy) {
  auto result = sample_result();
  result.out = {"ok\xFFok", 5, false};
  result.err = {"\xE2\x82\xAC fine", 8, false};
  auto object = parse_object(encode_exec_result(result));
  BOOST_TEST(object.at("stdout").as_string() == "ok\xEF\xBF\xBDok");
  BOOST_TEST(object.at("stdout_lossy").as_bool());
  BOOST_TEST(object.at("stderr").as_string() == "\xE2\x82\xAC fine");
  BOOST_TEST(!object.at("stderr_lossy").as_bool());
  BOOST_TEST(object.at("stdout_bytes").to_number<std::uint64_t>() == 5u);
}

BOOST_AUTO_TEST_CASE(truncated_stream_drops_partial_character) {
  struct cut_case {
    std::string kept;
    std::string shown;
  };
  const std::vector<cut_case> cases = {
      {"ab\xE2\x82", "ab"},
      {"ab\xE2", "ab"},
      {"ab\xF0\x9F\x98", "ab"},
      {"ab\xC3", "ab"},
      {"ab\xE2\x82\xAC", "ab\xE2\x82\xAC"},
      {"ab", "ab"},
  };
  for (const auto& test : cases) {
    BOOST_TEST_CONTEXT("kept bytes " << test.kept.size()) {
      auto result = sample_result();
      result.out = {test.kept, 100, true};
      auto object = parse_object(encode_exec_result(result));
      BOOST_TEST(object.at("stdout").as_string() == test.shown);
      BOOST_TEST(!object.at("stdout_lossy").as_bool());
      BOOST_TEST(object.at("stdout_truncated").as_bool());
      BOOST_TEST(object.at("stdout_bytes").to_number<std::uint64_t>() == 100u);
    }
  }
}

BOOST_AUTO_TEST_CASE(complete_stream_shows_partial_character) {
  // Without truncation a cut-off character is the command's own output,
  // so it is shown as U+FFFD.
  auto result = sample_result();
  result.out = {"ab\xE2\x82", 4, false};
  auto object = parse_object(encode_exec_result(result));
  BOOST_TEST(object.at("stdout").as_string() == "ab\xEF\xBF\xBD");
  BOOST_TEST(object.at("stdout_lossy").as_bool());
}

BOOST_AUTO_TEST_CASE(base64_output_round_trips_binary) {
  std::string binary;
  for (int byte = 0; byte < 256; ++byte)
    binary.push_back(char(byte));
  auto result = sample_result();
  result.encoding = output_encoding::base64;
  result.out = {binary, 256, false};
  result.err = {"\xE2\x82", 10, true};
  auto object = parse_object(encode_exec_result(result));
  BOOST_TEST(object.at("encoding").as_string() == "base64");

  std::string decoded;
  BOOST_TEST_REQUIRE(base64_decode(object.at("stdout").as_string(), decoded));
  BOOST_TEST(decoded == binary);
  BOOST_TEST(!object.at("stdout_lossy").as_bool());

  // A truncated stream keeps its partial character in base64.
  BOOST_TEST_REQUIRE(base64_decode(object.at("stderr").as_string(), decoded));
  BOOST_TEST(decoded == "\xE2\x82");
  BOOST_TEST(!object.at("stderr_lossy").as_bool());
}

BOOST_AUTO_TEST_CASE(doubles_print_in_plain_decimal) {
  auto result = sample_result();
  result.duration_ms = 1234.5678;
  result.usage.user_ms = 0.0004;
  result.usage.system_ms = 2.0;
  auto text = encode_exec_result(result);
  BOOST_TEST(text.find(R"("duration_ms":1234.568)") != std::string::npos);
  BOOST_TEST(text.find(R"("user_ms":0,)") != std::string::npos);
  BOOST_TEST(text.find(R"("system_ms":2,)") != std::string::npos);
  BOOST_TEST(text.find('E') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(json_text_formats_doubles) {
  struct double_case {
    double number;
    std::string text;
  };
  const std::vector<double_case> cases = {
      {12.5, "12.5"}, {0.001, "0.001"},         {-3.25, "-3.25"},
      {100.0, "100"}, {86400.123, "86400.123"}, {0.1, "0.1"},
  };
  for (const auto& test : cases) {
    BOOST_TEST_CONTEXT("number " << test.number) {
      BOOST_TEST(to_json_text(json::value(test.number)) == test.text);
    }
  }
  BOOST_TEST(to_json_text(
                 json::value(std::numeric_limits<double>::infinity())) == "0");
  BOOST_TEST(to_json_text(
                 json::value(std::numeric_limits<double>::quiet_NaN())) == "0");
}

BOOST_AUTO_TEST_CASE(json_text_matches_serialize_otherwise) {
  auto value = json::parse(
      R"({"a":[1,-2,"x\"y",true,null,{"b\n":{}}],"c":18446744073709551615})");
  BOOST_TEST(to_json_text(value) == json::serialize(value));
  auto mixed = json::parse(R"({"k\u00e9y":[1.5,{"z":0.25}]})");
  BOOST_TEST(to_json_text(mixed) == R"({"kéy":[1.5,{"z":0.25}]})");
}

BOOST_AUTO_TEST_CASE(session_info_shape) {
  session_info info{"s-3", "/tmp/work", true, 4, 10.0004, 2.5};
  auto object = parse_object(encode_session_info(info));
  BOOST_TEST(object.size() == 6u);
  BOOST_TEST(object.at("session").as_string() == "s-3");
  BOOST_TEST(object.at("cwd").as_string() == "/tmp/work");
  BOOST_TEST(object.at("busy").as_bool());
  BOOST_TEST(object.at("commands_run").to_number<std::uint64_t>() == 4u);
  BOOST_TEST(object.at("age_s").to_number<double>() == 10.0);
  BOOST_TEST(object.at("idle_s").to_number<double>() == 2.5);
}

BOOST_AUTO_TEST_CASE(session_cwd_not_utf8_is_sanitized) {
  session_info info{"s-1", "/tmp/\xFF\xFE", false, 0, 0, 0};
  auto object = parse_object(encode_session_info(info));
  BOOST_TEST(object.at("cwd").as_string() == "/tmp/\xEF\xBF\xBD\xEF\xBF\xBD");
  auto list = parse_object(encode_session_list({info}));
  BOOST_TEST(list.at("sessions").at(0).at("cwd").as_string() ==
             "/tmp/\xEF\xBF\xBD\xEF\xBF\xBD");
}

BOOST_AUTO_TEST_CASE(session_list_shape) {
  auto empty = parse_object(encode_session_list({}));
  BOOST_TEST(empty.size() == 1u);
  BOOST_TEST(empty.at("sessions").as_array().empty());

  std::vector<session_info> sessions = {{"s-1", "/a", false, 0, 1, 1},
                                        {"s-2", "/b", true, 9, 2, 0}};
  auto object = parse_object(encode_session_list(sessions));
  const auto& list = object.at("sessions").as_array();
  BOOST_TEST_REQUIRE(list.size() == 2u);
  BOOST_TEST(list[0].at("session").as_string() == "s-1");
  BOOST_TEST(list[1].at("session").as_string() == "s-2");
  BOOST_TEST(list[1].at("busy").as_bool());
}

BOOST_AUTO_TEST_CASE(system_stats_shape) {
  system_stats stats;
  stats.version = "0.1.0";
  stats.uptime_s = 3.14159;
  stats.isolation = "rlimits";
  stats.sessions = 2;
  stats.max_sessions = 64;
  stats.commands_running = 1;
  stats.max_commands = 16;
  stats.commands_started = 10;
  stats.commands_finished = 9;
  stats.connections = 3;
  stats.max_connections = 256;
  stats.draining = false;
  stats.rejections = {{"SESSION_BUSY", 2}};
  stats.reasons = {{"exited", 8}, {"timeout", 1}};
  stats.clients["alice"].sessions = 2;
  stats.clients["alice"].commands_running = 1;
  stats.clients["alice"].rejections = {{"RATE_LIMITED", 4}};
  auto object = parse_object(encode_system_stats(stats));
  BOOST_TEST(object.size() == 15u);
  BOOST_TEST(object.at("version").as_string() == "0.1.0");
  BOOST_TEST(object.at("uptime_s").to_number<double>() == 3.142);
  BOOST_TEST(object.at("isolation").as_string() == "rlimits");
  BOOST_TEST(object.at("sessions").to_number<std::uint64_t>() == 2u);
  BOOST_TEST(object.at("max_sessions").to_number<std::uint64_t>() == 64u);
  BOOST_TEST(object.at("commands_running").to_number<std::uint64_t>() == 1u);
  BOOST_TEST(object.at("max_commands").to_number<std::uint64_t>() == 16u);
  BOOST_TEST(object.at("commands_started").to_number<std::uint64_t>() == 10u);
  BOOST_TEST(object.at("commands_finished").to_number<std::uint64_t>() == 9u);
  BOOST_TEST(object.at("connections").to_number<std::uint64_t>() == 3u);
  BOOST_TEST(object.at("max_connections").to_number<std::uint64_t>() == 256u);
  BOOST_TEST(!object.at("draining").as_bool());
  BOOST_TEST(object.at("rejections").at("SESSION_BUSY").as_int64() == 2);
  BOOST_TEST(object.at("reasons").as_object().size() == 2u);
  BOOST_TEST(object.at("reasons").at("timeout").as_int64() == 1);
  const auto& alice = object.at("clients").at("alice");
  BOOST_TEST(alice.at("sessions").as_int64() == 2);
  BOOST_TEST(alice.at("commands_running").as_int64() == 1);
  BOOST_TEST(alice.at("rejections").at("RATE_LIMITED").as_int64() == 4);
}

BOOST_AUTO_TEST_CASE(pong_and_flag_shapes) {
  auto pong = parse_object(encode_pong("1.2.3"));
  BOOST_TEST(pong.size() == 2u);
  BOOST_TEST(pong.at("pong").as_bool());
  BOOST_TEST(pong.at("version").as_string() == "1.2.3");

  auto flag = parse_object(encode_flag("destroyed", "s-1"));
  BOOST_TEST(flag.size() == 1u);
  BOOST_TEST(flag.at("destroyed").as_string() == "s-1");
}

BOOST_AUTO_TEST_CASE(control_bytes_stay_on_one_line) {
  auto result = sample_result();
  std::string noisy;
  for (int byte = 0; byte < 0x20; ++byte)
    noisy.push_back(char(byte));
  noisy += "\x7F\"\\";
  result.out = {noisy, noisy.size(), false};
  auto line = encode_result("1", encode_exec_result(result));
  auto reply = parse_object(line);
  BOOST_TEST(reply.at("result").at("stdout").as_string() == noisy);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace corral::protocol
