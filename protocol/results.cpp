// Encoding of method results.

#include <boost/json.hpp>
#include <cmath>

#include "protocol/json_text.hpp"
#include "protocol/jsonrpc.hpp"
#include "protocol/utf8.hpp"

namespace corral::protocol {

namespace json = boost::json;

namespace {

// Rounds to three decimals: microsecond precision for millisecond values.
double round3(double value) { return std::round(value * 1000.0) / 1000.0; }

struct encoded_stream {
  std::string text;
  bool lossy = false;
};

encoded_stream encode_stream(const captured_output& output,
                             output_encoding encoding) {
  encoded_stream encoded;
  if (encoding == output_encoding::base64) {
    encoded.text = base64_encode(output.data);
    return encoded;
  }
  std::string_view kept = output.data;
  // A cut at the cap may fall inside a character; drop its first bytes
  // rather than show them as a replacement character.
  if (output.truncated)
    kept = kept.substr(0, complete_prefix_length(kept));
  encoded.text = sanitize_utf8(kept, encoded.lossy);
  return encoded;
}

json::value optional_string(const std::optional<std::string>& text) {
  if (!text)
    return nullptr;
  return json::value(*text);
}

json::object usage_object(const resource_usage& usage) {
  return {
      {"user_ms", round3(usage.user_ms)},
      {"system_ms", round3(usage.system_ms)},
      {"max_rss_kb", usage.max_rss_kb},
      {"minor_faults", usage.minor_faults},
      {"major_faults", usage.major_faults},
      {"voluntary_switches", usage.voluntary_switches},
      {"involuntary_switches", usage.involuntary_switches},
  };
}

json::object info_object(const session_info& info) {
  // A command can cd into a directory whose name is not UTF-8.
  bool lossy = false;
  auto cwd = sanitize_utf8(info.cwd, lossy);
  json::object object{
      {"session", info.id},          {"cwd", std::move(cwd)},
      {"busy", info.busy},           {"commands_run", info.commands_run},
      {"age_s", round3(info.age_s)}, {"idle_s", round3(info.idle_s)},
  };
  if (info.usage) {
    const auto& usage = *info.usage;
    object["usage"] = json::object{
        {"memory_bytes", usage.memory_bytes},
        {"memory_peak_bytes", usage.memory_peak_bytes},
        {"cpu_ms", round3(usage.cpu_ms)},
        {"throttled_ms", round3(usage.throttled_ms)},
        {"pids", usage.pids},
        {"oom_kills", usage.oom_kills},
        {"pids_max_events", usage.pids_max_events},
    };
  }
  return object;
}

json::object count_object(const std::map<std::string, std::uint64_t>& counts) {
  json::object object;
  for (const auto& [name, count] : counts)
    object[name] = count;
  return object;
}

}  // namespace

std::string encode_exec_result(const exec_result& result) {
  auto out = encode_stream(result.out, result.encoding);
  auto err = encode_stream(result.err, result.encoding);
  json::array limits_hit;
  for (const auto& limit : result.limits_hit)
    limits_hit.emplace_back(limit);
  json::value exit_code = nullptr;
  if (result.exit_code)
    exit_code = *result.exit_code;

  json::object object{
      {"exit_code", exit_code},
      {"signal", optional_string(result.signal)},
      {"reason", result.reason},
      {"limits_hit", std::move(limits_hit)},
      {"stdout", std::move(out.text)},
      {"stderr", std::move(err.text)},
      {"encoding",
       result.encoding == output_encoding::base64 ? "base64" : "utf8"},
      {"stdout_truncated", result.out.truncated},
      {"stderr_truncated", result.err.truncated},
      {"stdout_bytes", result.out.total},
      {"stderr_bytes", result.err.total},
      {"stdout_lossy", out.lossy},
      {"stderr_lossy", err.lossy},
      {"duration_ms", round3(result.duration_ms)},
      {"pid", result.pid},
      {"usage", usage_object(result.usage)},
  };
  return to_json_text(object);
}

std::string encode_session_info(const session_info& info) {
  return to_json_text(info_object(info));
}

std::string encode_session_list(const std::vector<session_info>& sessions) {
  json::array list;
  for (const auto& info : sessions)
    list.emplace_back(info_object(info));
  return to_json_text(json::object{{"sessions", std::move(list)}});
}

std::string encode_system_stats(const system_stats& stats) {
  json::object object{
      {"version", stats.version},
      {"uptime_s", round3(stats.uptime_s)},
      {"isolation", stats.isolation},
      {"sessions", stats.sessions},
      {"max_sessions", stats.max_sessions},
      {"commands_running", stats.commands_running},
      {"max_commands", stats.max_commands},
      {"commands_started", stats.commands_started},
      {"commands_finished", stats.commands_finished},
      {"connections", stats.connections},
      {"max_connections", stats.max_connections},
      {"draining", stats.draining},
      {"rejections", count_object(stats.rejections)},
      {"reasons", count_object(stats.reasons)},
  };
  json::object clients;
  for (const auto& [name, client] : stats.clients)
    clients[name] = json::object{
        {"sessions", client.sessions},
        {"commands_running", client.commands_running},
        {"rejections", count_object(client.rejections)},
    };
  object["clients"] = std::move(clients);
  return to_json_text(object);
}

std::string encode_params(const params_ptr& params) {
  return to_json_text(*params);
}

std::optional<std::string> normalize_json(std::string_view text) {
  json::error_code ec;
  auto value = json::parse(text, ec);
  if (ec)
    return std::nullopt;
  return to_json_text(value);
}

std::string encode_pong(std::string_view version) {
  return to_json_text(json::object{{"pong", true}, {"version", version}});
}

std::string encode_flag(std::string_view key, std::string_view value) {
  json::object object;
  object[key] = value;
  return to_json_text(object);
}

}  // namespace corral::protocol
