// Parsing of request lines and encoding of reply envelopes.

#include "protocol/jsonrpc.hpp"

#include <boost/json.hpp>
#include <cmath>

#include "protocol/json_text.hpp"
#include "protocol/utf8.hpp"

namespace corral::protocol {

namespace json = boost::json;

namespace {

const std::string null_id = "null";

bad_call make_bad(std::string id, error_code code, std::string message) {
  return bad_call{std::move(id), rpc_error{code, std::move(message), {}}};
}

bool is_valid_id(const json::value& id) {
  // A number beyond the double range parses as infinity, which has no JSON
  // text to echo in the reply.
  if (id.is_double())
    return std::isfinite(id.get_double());
  return id.is_string() || id.is_number() || id.is_null();
}

// Reads one request object. Errors name the member and what is accepted.
std::variant<call, bad_call> read_request(const json::value& value) {
  if (!value.is_object())
    return make_bad(null_id, error_code::invalid_request,
                    "a request must be a JSON object with \"method\" and "
                    "optional \"id\", \"params\" and \"jsonrpc\"");
  const auto& object = value.get_object();

  call result;
  if (auto* id = object.if_contains("id")) {
    if (!is_valid_id(*id))
      return make_bad(null_id, error_code::invalid_request,
                      "\"id\" must be a string, a finite number or null");
    result.id = json::serialize(*id);
  }
  auto id_for_errors = result.id.empty() ? null_id : result.id;

  for (const auto& member : object) {
    auto key = member.key();
    if (key != "jsonrpc" && key != "id" && key != "method" && key != "params")
      return make_bad(id_for_errors, error_code::invalid_request,
                      "unknown request member \"" + std::string{key} +
                          "\"; a request has jsonrpc, id, method and params");
  }
  if (auto* version = object.if_contains("jsonrpc")) {
    if (!version->is_string() || version->get_string() != "2.0")
      return make_bad(id_for_errors, error_code::invalid_request,
                      "\"jsonrpc\" must be \"2.0\" when present");
  }
  auto* method = object.if_contains("method");
  if (method == nullptr || !method->is_string())
    return make_bad(id_for_errors, error_code::invalid_request,
                    "\"method\" must be present and a string, such as "
                    "\"system.ping\"");
  result.method = std::string{method->get_string()};

  auto* params = object.if_contains("params");
  if (params == nullptr) {
    result.params = std::make_shared<const json::object>();
  } else if (params->is_object()) {
    result.params = std::make_shared<const json::object>(params->get_object());
  } else if (params->is_array()) {
    return make_bad(id_for_errors, error_code::invalid_params,
                    "params must be an object; corral takes parameters by "
                    "name");
  } else {
    return make_bad(id_for_errors, error_code::invalid_request,
                    "\"params\" must be an object");
  }
  return result;
}

}  // namespace

namespace {

parsed_line parse_line_unchecked(std::string_view line) {
  parsed_line parsed;
  json::error_code ec;
  json::value value;
  try {
    value = json::parse(line, ec);
  } catch (const std::exception& error) {
    // Boost.JSON reports through `ec`; only allocation failure throws.
    parsed.entries.emplace_back(
        make_bad(null_id, error_code::parse_error,
                 std::string{"request could not be parsed: "} + error.what()));
    return parsed;
  }
  if (ec) {
    parsed.entries.emplace_back(
        make_bad(null_id, error_code::parse_error,
                 "invalid JSON: " + ec.message() +
                     "; send one JSON-RPC request per line"));
    return parsed;
  }
  if (!value.is_array()) {
    parsed.entries.push_back(read_request(value));
    return parsed;
  }
  const auto& batch = value.get_array();
  if (batch.empty()) {
    parsed.entries.emplace_back(make_bad(null_id, error_code::invalid_request,
                                         "a batch must not be empty"));
    return parsed;
  }
  parsed.batch = true;
  parsed.entries.reserve(batch.size());
  for (const auto& element : batch)
    parsed.entries.push_back(read_request(element));
  return parsed;
}

}  // namespace

parsed_line parse_line(std::string_view line) {
  // The connection relies on this never throwing; only allocation failure
  // can get here.
  try {
    return parse_line_unchecked(line);
  } catch (...) {
    parsed_line parsed;
    try {
      parsed.entries.emplace_back(
          make_bad(null_id, error_code::internal_error,
                   "the request could not be processed (out of memory); "
                   "retry later"));
    } catch (...) {
    }
    return parsed;
  }
}

std::string encode_result(std::string_view id, std::string_view result_json) {
  std::string line;
  line.reserve(result_json.size() + id.size() + 32);
  line.append(R"({"jsonrpc":"2.0","id":)");
  line.append(id.empty() ? std::string_view{null_id} : id);
  line.append(R"(,"result":)");
  line.append(result_json);
  line.push_back('}');
  return line;
}

std::string encode_error(std::string_view id, const rpc_error& error) {
  json::object data;
  data["error"] = symbolic_name(error.code);
  for (const auto& [key, value] : error.details)
    data[key] = value;
  json::object body;
  body["code"] = json_rpc_code(error.code);
  // Messages may quote bytes that are not UTF-8 (paths, errors of other
  // layers); a reply must stay valid UTF-8 JSON.
  bool lossy = false;
  body["message"] = sanitize_utf8(error.message, lossy);
  body["data"] = std::move(data);

  std::string line;
  line.append(R"({"jsonrpc":"2.0","id":)");
  line.append(id.empty() ? std::string_view{null_id} : id);
  line.append(R"(,"error":)");
  line.append(to_json_text(body));
  line.push_back('}');
  return line;
}

std::string encode_batch(const std::vector<std::string>& replies) {
  std::string line = "[";
  for (std::size_t i = 0; i < replies.size(); ++i) {
    if (i > 0)
      line.push_back(',');
    line.append(replies[i]);
  }
  line.push_back(']');
  return line;
}

}  // namespace corral::protocol
