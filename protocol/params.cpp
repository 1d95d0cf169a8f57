// Decoding of method parameters into typed requests. Every error names the
// field, what was wrong and what is accepted.

#include <boost/json.hpp>
#include <cmath>
#include <initializer_list>
#include <limits>

#include "protocol/json_text.hpp"
#include "protocol/jsonrpc.hpp"
#include "protocol/utf8.hpp"

namespace corral::protocol {

namespace json = boost::json;

namespace {

rpc_error invalid(std::string message) {
  return rpc_error{error_code::invalid_params, std::move(message), {}};
}

std::string describe(const json::value& value) {
  // Plain decimal doubles: "got 2.5" rather than "got 2.5E0".
  auto text = to_json_text(value);
  if (text.size() > 60) {
    // Cut on a character boundary, so that the message stays valid UTF-8.
    text.resize(complete_prefix_length(std::string_view{text}.substr(0, 57)));
    text += "...";
  }
  return text;
}

std::optional<rpc_error> check_known(
    const json::object& params, std::initializer_list<std::string_view> known,
    std::string_view where) {
  for (const auto& member : params) {
    bool found = false;
    for (auto name : known)
      found = found || member.key() == name;
    if (found)
      continue;
    std::string list;
    for (auto name : known)
      list += (list.empty() ? "" : ", ") + std::string{name};
    return invalid("unknown field \"" + std::string{member.key()} + "\" in " +
                   std::string{where} + "; accepted fields: " + list);
  }
  return std::nullopt;
}

// Reads a positive integer, accepting doubles that hold an exact integer.
std::optional<rpc_error> read_positive(const json::value& value,
                                       std::string_view name,
                                       std::uint64_t& out) {
  auto fail = [&] {
    return invalid(std::string{name} + " must be a positive integer, got " +
                   describe(value));
  };
  if (value.is_uint64()) {
    out = value.get_uint64();
  } else if (value.is_int64()) {
    if (value.get_int64() <= 0)
      return fail();
    out = static_cast<std::uint64_t>(value.get_int64());
  } else if (value.is_double()) {
    auto number = value.get_double();
    if (!(number >= 1) || number != std::floor(number) ||
        number > static_cast<double>(std::numeric_limits<std::int64_t>::max()))
      return fail();
    out = static_cast<std::uint64_t>(number);
  } else {
    return fail();
  }
  if (out == 0)
    return fail();
  return std::nullopt;
}

std::optional<rpc_error> read_string(const json::value& value,
                                     std::string_view name, std::string& out,
                                     bool allow_empty = false) {
  if (!value.is_string())
    return invalid(std::string{name} + " must be a string, got " +
                   describe(value));
  out = std::string{value.get_string()};
  if (!allow_empty && out.empty())
    return invalid(std::string{name} + " must not be empty");
  // The kernel takes arguments, paths and environment entries as C strings.
  if (out.find('\0') != std::string::npos)
    return invalid(std::string{name} + " must not contain NUL characters");
  return std::nullopt;
}

// Reads a path that must be absolute: a relative one would resolve against
// the daemon's own working directory.
std::optional<rpc_error> read_absolute_path(const json::value& value,
                                            std::string_view name,
                                            std::string& out) {
  if (auto error = read_string(value, name, out))
    return error;
  if (out.front() != '/')
    return invalid(std::string{name} + " must be an absolute path, got \"" +
                   out + "\"");
  return std::nullopt;
}

std::optional<rpc_error> read_env(const json::value& value, environment& out) {
  if (!value.is_object())
    return invalid("env must be an object of NAME: \"value\" strings, got " +
                   describe(value));
  for (const auto& member : value.get_object()) {
    std::string name{member.key()};
    if (name.empty() || name.find('=') != std::string::npos ||
        name.find('\0') != std::string::npos)
      return invalid("env name \"" + name +
                     "\" is invalid; names are non-empty and contain no "
                     "'=' or NUL");
    std::string text;
    if (auto error = read_string(member.value(), "env." + name, text, true))
      return error;
    // execve(2) rejects an entry of 128 KiB or more (MAX_ARG_STRLEN).
    if (name.size() + text.size() + 2 > 128 * 1024)
      return invalid("env." + name + " is " + std::to_string(text.size()) +
                     " bytes; an environment entry must stay below 128 KiB, "
                     "so pass large data through stdin or a file");
    out[name] = std::move(text);
  }
  return std::nullopt;
}

std::optional<rpc_error> read_limits(const json::value& value,
                                     session_limits& out) {
  if (!value.is_object())
    return invalid("limits must be an object, got " + describe(value));
  const auto& limits = value.get_object();
  if (auto error = check_known(
          limits,
          {"cpu_sec", "memory_bytes", "nproc", "nofile", "timeout_s",
           "output_bytes", "cgroup_memory_bytes", "cpu_percent", "pids_max"},
          "limits"))
    return error;
  struct field {
    const char* name;
    std::optional<std::uint64_t>* target;
  };
  const field fields[] = {
      {"cpu_sec", &out.cpu_sec},
      {"memory_bytes", &out.memory_bytes},
      {"nproc", &out.nproc},
      {"nofile", &out.nofile},
      {"timeout_s", &out.timeout_s},
      {"output_bytes", &out.output_bytes},
      {"cgroup_memory_bytes", &out.cgroup_memory_bytes},
      {"cpu_percent", &out.cpu_percent},
      {"pids_max", &out.pids_max},
  };
  for (const auto& f : fields) {
    if (auto* item = limits.if_contains(f.name)) {
      std::uint64_t number = 0;
      if (auto error =
              read_positive(*item, std::string{"limits."} + f.name, number))
        return error;
      *f.target = number;
    }
  }
  return std::nullopt;
}

std::optional<rpc_error> read_stdin(const json::object& params,
                                    std::size_t max_stdin_bytes,
                                    exec_request& request) {
  auto* text = params.if_contains("stdin");
  auto* encoded = params.if_contains("stdin_base64");
  if (text != nullptr && encoded != nullptr)
    return invalid("give either stdin or stdin_base64, not both");
  if (text != nullptr) {
    if (!text->is_string())
      return invalid("stdin must be a string, got " + describe(*text));
    request.stdin_data = std::string{text->get_string()};
  } else if (encoded != nullptr) {
    if (!encoded->is_string() ||
        !base64_decode(encoded->get_string(), request.stdin_data))
      return invalid("stdin_base64 must be standard base64 with padding");
  } else {
    return std::nullopt;
  }
  request.has_stdin = true;
  if (request.stdin_data.size() > max_stdin_bytes)
    return rpc_error{
        error_code::stdin_too_large,
        "stdin is " + std::to_string(request.stdin_data.size()) +
            " bytes, above the limit of " + std::to_string(max_stdin_bytes) +
            " (max_stdin_bytes); send less input or write it to a file first",
        {{"stdin_bytes", static_cast<std::int64_t>(request.stdin_data.size())},
         {"max_stdin_bytes", static_cast<std::int64_t>(max_stdin_bytes)}}};
  return std::nullopt;
}

std::optional<rpc_error> read_command(const json::object& params,
                                      exec_request& request) {
  auto* command = params.if_contains("command");
  auto* argv = params.if_contains("argv");
  if ((command == nullptr) == (argv == nullptr))
    return invalid(
        "give exactly one of command (a shell command string) "
        "and argv (an array of strings run without a shell)");
  if (command != nullptr) {
    std::string text;
    if (auto error = read_string(*command, "command", text))
      return error;
    request.command = std::move(text);
    return std::nullopt;
  }
  if (!argv->is_array() || argv->get_array().empty())
    return invalid("argv must be a non-empty array of strings, got " +
                   describe(*argv));
  for (const auto& element : argv->get_array()) {
    std::string word;
    auto name = "argv[" + std::to_string(request.argv.size()) + "]";
    if (auto error = read_string(element, name, word, !request.argv.empty()))
      return error;
    request.argv.push_back(std::move(word));
  }
  return std::nullopt;
}

}  // namespace

decoded<session_options> decode_session_create(const params_ptr& params) {
  if (auto error = check_known(*params, {"cwd", "env", "limits", "idle_s"},
                               "session.create params"))
    return *error;
  session_options options;
  if (auto* cwd = params->if_contains("cwd")) {
    std::string path;
    if (auto error = read_absolute_path(*cwd, "cwd", path))
      return *error;
    options.cwd = std::move(path);
  }
  if (auto* env = params->if_contains("env"))
    if (auto error = read_env(*env, options.env))
      return *error;
  if (auto* limits = params->if_contains("limits"))
    if (auto error = read_limits(*limits, options.limits))
      return *error;
  if (auto* idle = params->if_contains("idle_s")) {
    std::uint64_t seconds = 0;
    if (auto error = read_positive(*idle, "idle_s", seconds))
      return *error;
    options.idle_s = seconds;
  }
  return options;
}

decoded<std::string> decode_login(const params_ptr& params) {
  if (auto error = check_known(*params, {"token"}, "auth.login params"))
    return *error;
  auto* token = params->if_contains("token");
  if (token == nullptr)
    return invalid("token is required: a token from the daemon's token file");
  // The message must not echo the token, so the value is not described.
  if (!token->is_string() || token->get_string().empty())
    return invalid("token must be a non-empty string");
  return std::string{token->get_string()};
}

decoded<exec_request> decode_exec_run(const params_ptr& params,
                                      std::size_t max_stdin_bytes) {
  if (auto error =
          check_known(*params,
                      {"session", "command", "argv", "stdin", "stdin_base64",
                       "timeout_s", "env", "cwd", "output_encoding"},
                      "exec.run params"))
    return *error;
  exec_request request;
  auto* session = params->if_contains("session");
  if (session == nullptr)
    return invalid(
        "session is required: the id that session.create "
        "returned");
  if (auto error = read_string(*session, "session", request.session))
    return *error;
  if (auto error = read_command(*params, request))
    return *error;
  if (auto* timeout = params->if_contains("timeout_s")) {
    std::uint64_t seconds = 0;
    if (auto error = read_positive(*timeout, "timeout_s", seconds))
      return *error;
    request.timeout_s = seconds;
  }
  if (auto* env = params->if_contains("env"))
    if (auto error = read_env(*env, request.env))
      return *error;
  if (auto* cwd = params->if_contains("cwd")) {
    std::string path;
    if (auto error = read_absolute_path(*cwd, "cwd", path))
      return *error;
    request.cwd = std::move(path);
  }
  if (auto* encoding = params->if_contains("output_encoding")) {
    if (encoding->is_string() && encoding->get_string() == "utf8")
      request.encoding = output_encoding::utf8;
    else if (encoding->is_string() && encoding->get_string() == "base64")
      request.encoding = output_encoding::base64;
    else
      return invalid("output_encoding must be \"utf8\" or \"base64\", got " +
                     describe(*encoding));
  }
  // Checked last, so a request with other mistakes reports those first.
  if (auto error = read_stdin(*params, max_stdin_bytes, request))
    return *error;
  return request;
}

decoded<std::string> decode_session_id(const params_ptr& params) {
  if (auto error = check_known(*params, {"session"}, "params"))
    return *error;
  auto* session = params->if_contains("session");
  if (session == nullptr)
    return invalid(
        "session is required: the id that session.create "
        "returned");
  std::string id;
  if (auto error = read_string(*session, "session", id))
    return *error;
  return id;
}

std::optional<rpc_error> expect_no_params(const params_ptr& params) {
  if (params->empty())
    return std::nullopt;
  return invalid("this method takes no parameters, got field \"" +
                 std::string{params->begin()->key()} + "\"");
}

}  // namespace corral::protocol
