// Tests of parse_line: which request lines become calls and which become
// error replies, with which id.

#include "protocol/jsonrpc.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <string>
#include <vector>

namespace corral::protocol {
namespace {

namespace json = boost::json;

struct rejection_case {
  std::string line;
  error_code code;
  std::string id;
};

call only_call(const parsed_line& parsed) {
  BOOST_TEST_REQUIRE(parsed.entries.size() == 1u);
  const auto* entry = std::get_if<call>(&parsed.entries.front());
  BOOST_TEST_REQUIRE(entry != nullptr);
  return *entry;
}

bad_call only_bad(const parsed_line& parsed) {
  BOOST_TEST_REQUIRE(parsed.entries.size() == 1u);
  const auto* entry = std::get_if<bad_call>(&parsed.entries.front());
  BOOST_TEST_REQUIRE(entry != nullptr);
  return *entry;
}

void check_rejections(const std::vector<rejection_case>& cases) {
  for (const auto& test : cases) {
    BOOST_TEST_CONTEXT("line " << test.line) {
      auto parsed = parse_line(test.line);
      BOOST_TEST(!parsed.batch);
      auto bad = only_bad(parsed);
      BOOST_TEST(symbolic_name(bad.error.code) == symbolic_name(test.code));
      BOOST_TEST(bad.id == test.id);
      BOOST_TEST(!bad.error.message.empty());
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(jsonrpc_test)

BOOST_AUTO_TEST_CASE(full_request_parses_to_call) {
  auto parsed = parse_line(R"({"jsonrpc":"2.0","id":7,"method":"exec.run",)"
                           R"("params":{"session":"s-1","command":"ls"}})");
  BOOST_TEST(!parsed.batch);
  auto request = only_call(parsed);
  BOOST_TEST(request.id == "7");
  BOOST_TEST(request.method == "exec.run");
  BOOST_TEST(!request.is_notification());
  BOOST_TEST_REQUIRE(request.params != nullptr);
  BOOST_TEST(request.params->size() == 2u);
  BOOST_TEST(request.params->at("command").as_string() == "ls");
}

BOOST_AUTO_TEST_CASE(jsonrpc_member_is_optional) {
  auto request = only_call(parse_line(R"({"id":1,"method":"a.b"})"));
  BOOST_TEST(request.method == "a.b");
  BOOST_TEST(request.id == "1");
}

BOOST_AUTO_TEST_CASE(absent_params_give_empty_object) {
  auto request = only_call(parse_line(R"({"id":1,"method":"m"})"));
  BOOST_TEST_REQUIRE(request.params != nullptr);
  BOOST_TEST(request.params->empty());
}

BOOST_AUTO_TEST_CASE(absent_id_is_notification) {
  auto request = only_call(parse_line(R"({"method":"system.ping"})"));
  BOOST_TEST(request.is_notification());
  BOOST_TEST(request.id.empty());
}

BOOST_AUTO_TEST_CASE(null_id_is_not_notification) {
  auto request = only_call(parse_line(R"({"id":null,"method":"system.ping"})"));
  BOOST_TEST(!request.is_notification());
  BOOST_TEST(request.id == "null");
}

BOOST_AUTO_TEST_CASE(id_kept_as_json_text) {
  struct id_case {
    std::string sent;
    std::string kept;
  };
  const std::vector<id_case> cases = {
      {"0", "0"},
      {"-12", "-12"},
      {"9223372036854775807", "9223372036854775807"},
      {"18446744073709551615", "18446744073709551615"},
      {R"("abc")", R"("abc")"},
      {R"("")", R"("")"},
      {R"("a \"quoted\" id")", R"("a \"quoted\" id")"},
      {R"("ünï")", R"("ünï")"},
  };
  for (const auto& test : cases) {
    BOOST_TEST_CONTEXT("id " << test.sent) {
      auto line = R"({"id":)" + test.sent + R"(,"method":"m"})";
      BOOST_TEST(only_call(parse_line(line)).id == test.kept);
    }
  }
}

BOOST_AUTO_TEST_CASE(fractional_id_keeps_its_value) {
  // Boost.JSON keeps the value of a double, not its spelling: 1.5 comes
  // back as 1.5E0. NOTE: integers beyond 64 bits are left out, because
  // Boost.JSON 1.81 may parse them one unit in the last place off.
  const std::vector<std::string> sent = {"1.5", "-0.25", "1e3", "2.5E-3",
                                         "0.1"};
  for (const auto& number : sent) {
    BOOST_TEST_CONTEXT("id " << number) {
      auto line = R"({"id":)" + number + R"(,"method":"m"})";
      auto kept = only_call(parse_line(line)).id;
      BOOST_TEST(json::parse(kept).is_double());
      BOOST_TEST(std::strtod(kept.c_str(), nullptr) ==
                 std::strtod(number.c_str(), nullptr));
    }
  }
  BOOST_TEST(only_call(parse_line(R"({"id":1.5,"method":"m"})")).id == "1.5E0");
}

BOOST_AUTO_TEST_CASE(escaped_string_id_keeps_value) {
  auto request =
      only_call(parse_line(R"({"id":"\u0041\u00e9\n","method":"m"})"));
  auto kept = json::parse(request.id);
  BOOST_TEST_REQUIRE(kept.is_string());
  BOOST_TEST(kept.get_string() == "A\xC3\xA9\n");
}

BOOST_AUTO_TEST_CASE(malformed_json_is_parse_error) {
  check_rejections({
      {"{", error_code::parse_error, "null"},
      {"not json", error_code::parse_error, "null"},
      {R"({"id":1,"method":"m",})", error_code::parse_error, "null"},
      {R"({"id":1,"method":"m"} trailing)", error_code::parse_error, "null"},
      {R"({"id":1,"method":"m"}{"id":2,"method":"m"})", error_code::parse_error,
       "null"},
      {R"({'id':1})", error_code::parse_error, "null"},
      {R"({"id":1,"method":"m"} // note)", error_code::parse_error, "null"},
      {R"([{"id":1,"method":"m"})", error_code::parse_error, "null"},
      {"", error_code::parse_error, "null"},
  });
}

BOOST_AUTO_TEST_CASE(invalid_utf8_is_parse_error) {
  check_rejections({
      {"{\"id\":1,\"method\":\"\xFF\"}", error_code::parse_error, "null"},
      {"{\"id\":1,\"method\":\"\xC0\xAF\"}", error_code::parse_error, "null"},
      {"{\"id\":1,\"method\":\"\xED\xA0\x80\"}", error_code::parse_error,
       "null"},
      {"{\"id\":1,\"method\":\"\xE2\x82\"}", error_code::parse_error, "null"},
      {R"({"id":1,"method":"\ud800"})", error_code::parse_error, "null"},
  });
}

BOOST_AUTO_TEST_CASE(non_object_is_invalid_request) {
  check_rejections({
      {"42", error_code::invalid_request, "null"},
      {R"("system.ping")", error_code::invalid_request, "null"},
      {"null", error_code::invalid_request, "null"},
      {"true", error_code::invalid_request, "null"},
  });
}

BOOST_AUTO_TEST_CASE(bad_method_is_invalid_request) {
  check_rejections({
      {R"({"id":1})", error_code::invalid_request, "1"},
      {R"({"id":2,"method":5})", error_code::invalid_request, "2"},
      {R"({"id":"x","method":null})", error_code::invalid_request, R"("x")"},
      {R"({"id":3,"method":["a"]})", error_code::invalid_request, "3"},
      {R"({"method":{}})", error_code::invalid_request, "null"},
  });
}

BOOST_AUTO_TEST_CASE(bad_id_type_is_invalid_request) {
  check_rejections({
      {R"({"id":true,"method":"m"})", error_code::invalid_request, "null"},
      {R"({"id":[1],"method":"m"})", error_code::invalid_request, "null"},
      {R"({"id":{"a":1},"method":"m"})", error_code::invalid_request, "null"},
      {R"({"id":1e999,"method":"m"})", error_code::invalid_request, "null"},
      {R"({"id":-1e999,"method":"m"})", error_code::invalid_request, "null"},
  });
}

BOOST_AUTO_TEST_CASE(jsonrpc_version_must_be_2_0) {
  check_rejections({
      {R"({"jsonrpc":"1.0","id":1,"method":"m"})", error_code::invalid_request,
       "1"},
      {R"({"jsonrpc":2.0,"id":1,"method":"m"})", error_code::invalid_request,
       "1"},
      {R"({"jsonrpc":null,"id":1,"method":"m"})", error_code::invalid_request,
       "1"},
      {R"({"jsonrpc":"2.0 ","id":1,"method":"m"})", error_code::invalid_request,
       "1"},
  });
}

BOOST_AUTO_TEST_CASE(unknown_members_are_rejected) {
  check_rejections({
      {R"({"id":1,"method":"m","param":{}})", error_code::invalid_request, "1"},
      {R"({"id":"q","method":"m","result":1})", error_code::invalid_request,
       R"("q")"},
      {R"({"method":"m","extra":0})", error_code::invalid_request, "null"},
  });
  auto bad = only_bad(parse_line(R"({"id":1,"method":"m","x":1})"));
  BOOST_TEST(bad.error.message.find("\"x\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(params_must_be_object) {
  check_rejections({
      {R"({"id":1,"method":"m","params":[]})", error_code::invalid_params, "1"},
      {R"({"id":1,"method":"m","params":["s-1"]})", error_code::invalid_params,
       "1"},
      {R"({"id":1,"method":"m","params":"s-1"})", error_code::invalid_request,
       "1"},
      {R"({"id":1,"method":"m","params":3})", error_code::invalid_request, "1"},
      {R"({"id":1,"method":"m","params":null})", error_code::invalid_request,
       "1"},
      {R"({"id":1,"method":"m","params":false})", error_code::invalid_request,
       "1"},
  });
}

BOOST_AUTO_TEST_CASE(empty_batch_is_one_error) {
  auto parsed = parse_line("[]");
  BOOST_TEST(!parsed.batch);
  auto bad = only_bad(parsed);
  BOOST_TEST(symbolic_name(bad.error.code) == "INVALID_REQUEST");
  BOOST_TEST(bad.id == "null");
}

BOOST_AUTO_TEST_CASE(batch_keeps_entry_order) {
  auto parsed = parse_line(R"([{"id":1,"method":"a"},)"
                           R"({"method":"b"},)"
                           R"(5,)"
                           R"({"id":"four","method":7},)"
                           R"([],)"
                           R"({"id":6,"method":"f","params":[1]}])");
  BOOST_TEST(parsed.batch);
  BOOST_TEST_REQUIRE(parsed.entries.size() == 6u);

  const auto* first = std::get_if<call>(&parsed.entries[0]);
  BOOST_TEST_REQUIRE(first != nullptr);
  BOOST_TEST(first->id == "1");
  BOOST_TEST(first->method == "a");

  const auto* second = std::get_if<call>(&parsed.entries[1]);
  BOOST_TEST_REQUIRE(second != nullptr);
  BOOST_TEST(second->is_notification());
  BOOST_TEST(second->method == "b");

  struct expected_bad {
    std::size_t index;
    std::string id;
    std::string name;
  };
  const std::vector<expected_bad> bad_entries = {
      {2, "null", "INVALID_REQUEST"},
      {3, R"("four")", "INVALID_REQUEST"},
      {4, "null", "INVALID_REQUEST"},
      {5, "6", "INVALID_PARAMS"},
  };
  for (const auto& expected : bad_entries) {
    BOOST_TEST_CONTEXT("entry " << expected.index) {
      const auto* bad = std::get_if<bad_call>(&parsed.entries[expected.index]);
      BOOST_TEST_REQUIRE(bad != nullptr);
      BOOST_TEST(bad->id == expected.id);
      BOOST_TEST(symbolic_name(bad->error.code) == expected.name);
    }
  }
}

BOOST_AUTO_TEST_CASE(batch_of_one_is_batch) {
  auto parsed = parse_line(R"([{"id":1,"method":"a"}])");
  BOOST_TEST(parsed.batch);
  BOOST_TEST(only_call(parsed).method == "a");
}

BOOST_AUTO_TEST_CASE(whitespace_around_request_accepted) {
  auto request =
      only_call(parse_line(" \t{ \"id\" : 1 , \"method\" : \"m\" }\t "));
  BOOST_TEST(request.method == "m");
}

BOOST_AUTO_TEST_CASE(deep_nesting_is_parse_error) {
  std::string params(100, '[');
  params += std::string(100, ']');
  auto line = R"({"id":1,"method":"m","params":{"a":)" + params + "}}";
  auto bad = only_bad(parse_line(line));
  BOOST_TEST(symbolic_name(bad.error.code) == "PARSE_ERROR");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace corral::protocol
