// corralctl: a command-line client of corrald for people and scripts. It
// sends one JSON-RPC request per step over TCP and prints the result as
// text, or as raw JSON with --json. exec and run exit with the command's
// own status, and exit status 125 means that corralctl itself failed.

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <boost/program_options.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "isolation/exit_status.hpp"
#include "protocol/utf8.hpp"
#include "protocol/json_text.hpp"
#include "runtime/client.hpp"

namespace {

namespace json = boost::json;
namespace po = boost::program_options;

// corralctl's own failures. Shells use 126 and 127 for "cannot execute"
// and "not found", and commands rarely pick 125 themselves.
constexpr int failure_status = 125;

constexpr const char* default_address = "127.0.0.1:7411";
constexpr std::chrono::seconds connect_timeout{5};

// Calls other than exec.run return quickly. session.destroy may wait for a
// running command to be killed, which takes up to kill_grace_ms (60 s at
// most).
constexpr std::chrono::seconds control_timeout{120};

// The daemon stops commands at their timeout on its own. The client waits
// 120 s longer, more than the largest kill_grace_ms (60 s) plus
// output_drain_ms (10 s) that the daemon accepts.
constexpr std::chrono::seconds exec_margin{120};

// Without --timeout the daemon's default_timeout_s applies, which may be
// as long as 604800 s (the largest max_timeout_s).
constexpr std::chrono::seconds longest_command{604800};

const char usage_text[] =
    R"(Usage: corralctl [--connect HOST:PORT] [--token-file PATH] [--json]
                 COMMAND [ARGS...]

Sends requests to corrald, the corral daemon.

Global options, before COMMAND:
  --connect HOST:PORT  daemon address; write IPv6 as [::1]:7411 (default:
                       $CORRAL_ADDRESS, else 127.0.0.1:7411)
  --token-file PATH    log in with the token in PATH (its first line)
                       before each request; without it, $CORRAL_TOKEN is
                       the token when set
  --json               print the raw JSON result instead of text
  -h, --help           print this help and exit

Commands:
  ping                          check that the daemon replies
  stats                         print the daemon's counters
  session create [--cwd DIR] [--env NAME=VALUE]...
                                open a session and print its id alone
  session list                  list the open sessions
  session destroy ID            close session ID and kill its processes
  exec ID [OPTIONS] -- CMD...   run CMD in session ID
  run [OPTIONS] -- CMD...       run CMD in a new session, then destroy it
  cancel ID                     stop the command running in session ID

Options of exec and run:
  --timeout SEC        seconds before the command is stopped (default: the
                       daemon's default_timeout_s)
  --cwd DIR            working directory of this command only
  --env NAME=VALUE     environment variable of this command only;
                       repeatable
  --stdin TEXT         send TEXT to the command's stdin
  --stdin-file PATH    send the bytes of PATH to the command's stdin; '-'
                       reads corralctl's own stdin
  --argv               run the CMD words as an argument vector, without a
                       shell; otherwise they are joined with spaces and
                       run by the daemon's shell
  --base64             transfer output as base64, so that bytes which are
                       not UTF-8 arrive unchanged

exec and run write the command's stdout and stderr to their own and exit
with its exit code, or 128+N when signal N ended it. A note on stderr tells
when the command timed out, hit a limit, was cancelled or lost output.
Ctrl-C cancels the running command; a second Ctrl-C quits at once.

Other commands exit 0. Exit status 125 means corralctl failed: a usage
error, no connection, or an error reply from the daemon.
)";

/// A mistake in the command line.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A JSON-RPC error reply: "<message> (<SYMBOLIC_NAME>)".
struct rpc_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct global_options {
  std::string address;
  std::string token;  // empty: do not log in
  bool json = false;
};

/// Options of `exec` and `run`: the request to send and how to print its
/// result.
struct exec_options {
  std::string session;  // empty for `run`
  std::vector<std::string> words;
  bool argv = false;
  bool base64 = false;
  std::optional<std::uint64_t> timeout_s;
  std::optional<std::string> cwd;
  json::object env;
  std::optional<std::string> stdin_data;
};

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// Writes all of `bytes` to `fd`, such as the command's stdout to ours.
void write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    auto written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0 && errno == EINTR) continue;
    if (written < 0)
      throw std::runtime_error(std::string{"cannot write output: "} +
                               std::strerror(errno));
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
}

void note(const std::string& text) {
  std::cerr << "corralctl: " << text << '\n';
}

// Returns the `result` of a reply, or throws rpc_failure for an error.
json::object result_of(const json::value& reply) {
  const auto& object = reply.as_object();
  if (const auto* result = object.if_contains("result")) {
    if (result->is_object()) return result->get_object();
    throw std::runtime_error(
        "the daemon sent a result that is not an "
        "object: " +
        json::serialize(*result));
  }
  const auto* error = object.if_contains("error");
  if (error == nullptr || !error->is_object())
    throw std::runtime_error(
        "the daemon sent a reply without result or "
        "error: " +
        json::serialize(reply));
  std::string message = "the daemon reported an error";
  std::string name = "UNKNOWN";
  const auto& fields = error->get_object();
  if (const auto* text = fields.if_contains("message");
      text && text->is_string())
    message = std::string{text->get_string()};
  const auto* data = fields.if_contains("data");
  if (data != nullptr && data->is_object())
    if (const auto* symbol = data->get_object().if_contains("error");
        symbol && symbol->is_string())
      name = std::string{symbol->get_string()};
  throw rpc_failure(message + " (" + name + ")");
}

json::object call(corral::client& connection, std::string_view method,
                  json::object params = {}) {
  return result_of(connection.call(method, std::move(params)));
}

corral::client connect(const global_options& global) {
  corral::network_address address;
  try {
    address = corral::parse_address(global.address);
  } catch (const std::invalid_argument& error) {
    throw usage_error(error.what());
  }
  std::optional<corral::client> connected;
  try {
    connected =
        corral::client::connect(address.host, address.port, connect_timeout);
  } catch (const std::runtime_error& error) {
    throw std::runtime_error(
        std::string{error.what()} +
        "; is corrald running there? Start it with scripts/run.sh, or pass "
        "--connect HOST:PORT or set CORRAL_ADDRESS");
  }
  auto connection = std::move(*connected);
  connection.set_timeout(control_timeout);
  if (!global.token.empty())
    call(connection, "auth.login", {{"token", global.token}});
  return connection;
}

// Returns the first line of `path` without surrounding whitespace.
std::string read_token_file(const std::string& path) {
  std::ifstream in{path};
  if (!in)
    throw usage_error("--token-file " + path +
                      " cannot be read: " + std::strerror(errno));
  std::string line;
  std::getline(in, line);
  auto first = line.find_first_not_of(" \t\r");
  auto last = line.find_last_not_of(" \t\r");
  if (first == std::string::npos)
    throw usage_error("--token-file " + path +
                      " is empty; write the token on its first line");
  return line.substr(first, last - first + 1);
}

// -- text output --------------------------------------------------------------

std::string format_scalar(const json::value& value) {
  switch (value.kind()) {
    case json::kind::string:
      return std::string{value.get_string()};
    case json::kind::bool_:
      return value.get_bool() ? "yes" : "no";
    case json::kind::null:
      return "-";
    case json::kind::double_: {
      std::ostringstream text;
      text << std::fixed << std::setprecision(1) << value.get_double();
      return text.str();
    }
    case json::kind::array: {
      std::string text;
      for (const auto& entry : value.get_array())
        text += (text.empty() ? "" : ", ") + format_scalar(entry);
      return text.empty() ? "none" : text;
    }
    default:
      return corral::protocol::to_json_text(value);
  }
}

// Turns nested objects into rows keyed "outer.inner".
void flatten(const json::object& object, const std::string& prefix,
             std::vector<std::pair<std::string, std::string>>& rows) {
  for (const auto& [key, value] : object) {
    auto name = prefix + std::string{key};
    if (value.is_object() && !value.get_object().empty())
      flatten(value.get_object(), name + ".", rows);
    else if (value.is_object())
      rows.emplace_back(name, "none");
    else
      rows.emplace_back(name, format_scalar(value));
  }
}

void print_rows(const std::vector<std::pair<std::string, std::string>>& rows) {
  std::size_t width = 0;
  for (const auto& row : rows) width = std::max(width, row.first.size());
  for (const auto& [name, value] : rows)
    std::cout << std::left << std::setw(static_cast<int>(width + 2)) << name
              << value << '\n';
}

void print_table(const std::vector<std::vector<std::string>>& table) {
  std::vector<std::size_t> widths;
  for (const auto& row : table)
    for (std::size_t i = 0; i < row.size(); ++i) {
      widths.resize(std::max(widths.size(), row.size()));
      widths[i] = std::max(widths[i], row[i].size());
    }
  for (const auto& row : table) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size())
        line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    std::cout << line << '\n';
  }
}

std::string field(const json::object& object, const char* key) {
  const auto* value = object.if_contains(key);
  return value == nullptr ? "-" : format_scalar(*value);
}

// Prints numbers in plain decimal, as the daemon sends them.
void print_json(const json::object& result) {
  std::cout << corral::protocol::to_json_text(result) << '\n';
}

// -- command-line parsing -----------------------------------------------------

// The arguments of one command: options parsed by Boost.Program_options,
// the positional words before "--" and the words after it.
struct command_line {
  po::variables_map options;
  std::vector<std::string> positional;
  std::vector<std::string> words;
  bool has_separator = false;
};

command_line parse_command(const std::string& name,
                           const std::vector<std::string>& tokens,
                           po::options_description options) {
  command_line parsed;
  std::vector<std::string> before;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] == "--") {
      parsed.has_separator = true;
      parsed.words.assign(tokens.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                          tokens.end());
      break;
    }
    before.push_back(tokens[i]);
  }

  options.add_options()("help,h", "print help")(
      "positional", po::value<std::vector<std::string>>(), "arguments");
  po::positional_options_description positional;
  positional.add("positional", -1);
  try {
    auto style = po::command_line_style::unix_style &
                 ~po::command_line_style::allow_guessing;
    po::store(po::command_line_parser(before)
                  .options(options)
                  .positional(positional)
                  .style(style)
                  .run(),
              parsed.options);
  } catch (const po::error& error) {
    throw usage_error(name + ": " + error.what());
  }
  if (parsed.options.count("positional"))
    parsed.positional =
        parsed.options["positional"].as<std::vector<std::string>>();
  return parsed;
}

bool wants_help(const command_line& parsed) {
  if (!parsed.options.count("help")) return false;
  std::cout << usage_text;
  return true;
}

void expect_positional(const std::string& name, const command_line& parsed,
                       std::size_t count, const char* what) {
  if (parsed.has_separator)
    throw usage_error(name + " takes no command after --");
  if (parsed.positional.size() < count)
    throw usage_error(name + ": missing " + what);
  if (parsed.positional.size() > count)
    throw usage_error(name + ": unexpected argument \"" +
                      parsed.positional[count] + "\"");
}

std::string option_text(const command_line& parsed, const char* name) {
  return parsed.options[name].as<std::string>();
}

json::object parse_env(const command_line& parsed) {
  json::object env;
  if (!parsed.options.count("env")) return env;
  for (const auto& entry :
       parsed.options["env"].as<std::vector<std::string>>()) {
    auto equals = entry.find('=');
    if (equals == std::string::npos || equals == 0)
      throw usage_error("--env takes NAME=VALUE, got \"" + entry + "\"");
    env[entry.substr(0, equals)] = entry.substr(equals + 1);
  }
  return env;
}

// Returns the bytes of `path`, or of corralctl's own stdin for "-".
std::string read_stdin_file(const std::string& path) {
  bool own_stdin = path == "-";
  int fd =
      own_stdin ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  auto fail = [&](int error) {
    if (!own_stdin && fd >= 0) ::close(fd);
    return std::runtime_error("cannot read --stdin-file \"" + path +
                              "\": " + std::strerror(error));
  };
  if (fd < 0) throw fail(errno);

  std::string content;
  char buffer[65536];
  while (true) {
    auto got = ::read(fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw fail(errno);
    if (got == 0) break;
    content.append(buffer, static_cast<std::size_t>(got));
  }
  if (!own_stdin) ::close(fd);
  return content;
}

po::options_description cwd_and_env_options() {
  po::options_description options;
  options.add_options()("cwd", po::value<std::string>(), "working directory")(
      "env", po::value<std::vector<std::string>>()->composing(), "NAME=VALUE");
  return options;
}

exec_options parse_exec(const std::string& name,
                        const std::vector<std::string>& tokens,
                        bool needs_session, bool& help) {
  auto options = cwd_and_env_options();
  options.add_options()("timeout", po::value<std::string>(), "seconds")(
      "stdin", po::value<std::string>(), "text")(
      "stdin-file", po::value<std::string>(), "path")("argv", "no shell")(
      "base64", "base64 output");
  auto parsed = parse_command(name, tokens, options);
  help = wants_help(parsed);
  if (help) return {};

  auto form = needs_session ? "corralctl exec ID [OPTIONS] -- CMD..."
                            : "corralctl run [OPTIONS] -- CMD...";
  exec_options exec;
  std::size_t expected = needs_session ? 1 : 0;
  if (parsed.positional.size() < expected)
    throw usage_error(name + ": missing the session ID; usage: " + form);
  if (parsed.positional.size() > expected)
    throw usage_error(name + ": unexpected argument \"" +
                      parsed.positional[expected] +
                      "\"; put the command after --, as in " + form);
  if (needs_session) exec.session = parsed.positional.front();
  if (parsed.words.empty())
    throw usage_error(name + ": missing the command after --; usage: " + form);
  exec.words = parsed.words;
  exec.argv = parsed.options.count("argv") > 0;
  exec.base64 = parsed.options.count("base64") > 0;
  exec.env = parse_env(parsed);
  if (parsed.options.count("cwd")) exec.cwd = option_text(parsed, "cwd");

  if (parsed.options.count("timeout")) {
    auto text = option_text(parsed, "timeout");
    std::uint64_t seconds = 0;
    std::istringstream in{text};
    if (text.empty() ||
        text.find_first_not_of("0123456789") != std::string::npos ||
        !(in >> seconds) || seconds == 0)
      throw usage_error(
          "--timeout takes a whole number of seconds of at "
          "least 1, got \"" +
          text + "\"");
    exec.timeout_s = seconds;
  }

  bool has_text = parsed.options.count("stdin") > 0;
  bool has_file = parsed.options.count("stdin-file") > 0;
  if (has_text && has_file)
    throw usage_error("--stdin and --stdin-file cannot be used together");
  if (has_text) exec.stdin_data = option_text(parsed, "stdin");
  if (has_file)
    exec.stdin_data = read_stdin_file(option_text(parsed, "stdin-file"));
  return exec;
}

// -- cancelling on Ctrl-C -----------------------------------------------------

// Turns the first SIGINT or SIGTERM during a command into exec.cancel on a
// second connection, so that the command stops in the daemon as well and
// its result still arrives. A signal while no command runs, or a second
// one, quits at once.
class cancel_on_interrupt {
 public:
  // Blocks the signals in the calling thread, which must be the only one,
  // so that every later thread inherits the mask and sigwait gets them.
  explicit cancel_on_interrupt(global_options global)
      : state_{std::make_shared<state>()} {
    state_->global = std::move(global);
    sigset_t signals = watched();
    ::pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    // The thread is detached and owns a share of the state, because it may
    // outlive main while the process exits.
    std::thread{[shared = state_] { watch(*shared); }}.detach();
  }

  // Sets the session whose command runs now; "" when none runs.
  void set_session(std::string session) {
    std::lock_guard<std::mutex> lock{state_->mutex};
    state_->session = std::move(session);
  }

 private:
  struct state {
    std::mutex mutex;
    global_options global;
    std::string session;
  };

  static sigset_t watched() {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    return signals;
  }

  static void watch(state& shared) {
    sigset_t signals = watched();
    bool cancelling = false;
    while (true) {
      int signal = 0;
      if (sigwait(&signals, &signal) != 0) continue;
      std::string session;
      {
        std::lock_guard<std::mutex> lock{shared.mutex};
        session = shared.session;
      }
      if (session.empty() || cancelling) ::_exit(128 + signal);
      cancelling = true;
      note("cancelling the command in session " + session +
           "; interrupt again to quit at once");
      try {
        auto connection = connect(shared.global);
        call(connection, "exec.cancel", {{"session", session}});
      } catch (const std::exception& error) {
        note(std::string{"cannot cancel the command: "} + error.what());
      }
    }
  }

  std::shared_ptr<state> state_;
};

// -- exec and run -------------------------------------------------------------

json::object exec_params(const exec_options& exec, const std::string& session) {
  json::object params;
  params["session"] = session;
  if (exec.argv) {
    json::array argv;
    for (const auto& word : exec.words) argv.emplace_back(word);
    params["argv"] = std::move(argv);
  } else {
    std::string command;
    for (const auto& word : exec.words)
      command += (command.empty() ? "" : " ") + word;
    params["command"] = std::move(command);
  }
  if (exec.timeout_s) params["timeout_s"] = *exec.timeout_s;
  if (exec.cwd) params["cwd"] = *exec.cwd;
  if (!exec.env.empty()) params["env"] = exec.env;
  // base64 carries any bytes, where a JSON string needs valid UTF-8.
  if (exec.stdin_data)
    params["stdin_base64"] = corral::protocol::base64_encode(*exec.stdin_data);
  if (exec.base64) params["output_encoding"] = "base64";
  return params;
}

// Returns the number of a signal name such as "SIGKILL" or "SIG40".
std::optional<int> signal_number(const std::string& name) {
  for (int number = 1; number <= SIGRTMAX; ++number)
    if (corral::isolation::signal_name(number) == name) return number;
  if (starts_with(name, "SIG") && name.size() > 3 &&
      name.find_first_not_of("0123456789", 3) == std::string::npos)
    return std::atoi(name.c_str() + 3);
  return std::nullopt;
}

int exit_status_of(const json::object& result) {
  const auto* code = result.if_contains("exit_code");
  if (code != nullptr && code->is_int64() && code->get_int64() >= 0 &&
      code->get_int64() <= 255)
    return static_cast<int>(code->get_int64());
  const auto* signal = result.if_contains("signal");
  if (signal != nullptr && signal->is_string()) {
    if (auto number = signal_number(std::string{signal->get_string()}))
      return 128 + *number;
    note("the command ended by unknown signal " +
         std::string{signal->get_string()});
    return failure_status;
  }
  note("the result has neither an exit code from 0 to 255 nor a signal: " +
       json::serialize(result));
  return failure_status;
}

std::string output_of(const json::object& result, const char* stream,
                      bool base64) {
  const auto* value = result.if_contains(stream);
  if (value == nullptr || !value->is_string()) return "";
  std::string_view text = value->get_string();
  if (!base64) return std::string{text};
  std::string bytes;
  if (!corral::protocol::base64_decode(text, bytes))
    throw std::runtime_error(std::string{"the daemon sent "} + stream +
                             " that is not valid base64");
  return bytes;
}

bool flag_set(const json::object& result, const std::string& key) {
  const auto* value = result.if_contains(key);
  return value != nullptr && value->is_bool() && value->get_bool();
}

void note_stream(const json::object& result, const char* stream,
                 std::size_t kept) {
  std::string name = stream;
  if (flag_set(result, name + "_truncated")) {
    auto total = field(result, (name + "_bytes").c_str());
    note(name + " was truncated: the command wrote " + total +
         " bytes and the first " + std::to_string(kept) +
         " were kept (the daemon's max_output_bytes)");
  }
  if (flag_set(result, name + "_lossy"))
    note(name +
         " was not valid UTF-8, so invalid bytes show as U+FFFD; "
         "use --base64 for the exact bytes");
}

void note_reason(const json::object& result, const exec_options& exec) {
  auto reason = field(result, "reason");
  std::string tail = " (reason: " + reason + ")";
  if (reason == "timeout") {
    if (exec.timeout_s)
      note("command timed out after " + std::to_string(*exec.timeout_s) + " s" +
           tail);
    else
      note("command timed out at the daemon's default timeout, after " +
           field(result, "duration_ms") + " ms" + tail);
  } else if (reason == "cpu_limit") {
    note("command reached its CPU time limit" + tail);
  } else if (reason == "memory_limit") {
    note("command reached its memory limit" + tail);
  } else if (reason == "cancelled") {
    note("command was cancelled" + tail);
  } else if (reason == "shutdown") {
    note("command was stopped because corrald is shutting down" + tail);
  }
  const auto* limits = result.if_contains("limits_hit");
  if (limits != nullptr && limits->is_array() && !limits->get_array().empty())
    note("a process of the command reached a limit: " + format_scalar(*limits));
}

int report_exec(const json::object& result, const exec_options& exec,
                const global_options& global) {
  if (global.json) {
    print_json(result);
    return exit_status_of(result);
  }
  auto out = output_of(result, "stdout", exec.base64);
  auto err = output_of(result, "stderr", exec.base64);
  write_all(STDOUT_FILENO, out);
  write_all(STDERR_FILENO, err);
  note_reason(result, exec);
  note_stream(result, "stdout", out.size());
  note_stream(result, "stderr", err.size());
  return exit_status_of(result);
}

json::object run_exec(corral::client& connection, const exec_options& exec,
                      const std::string& session,
                      cancel_on_interrupt& interrupts) {
  connection.set_timeout(
      exec.timeout_s ? std::chrono::seconds{*exec.timeout_s} + exec_margin
                     : longest_command + exec_margin);
  interrupts.set_session(session);
  auto reply = connection.call("exec.run", exec_params(exec, session));
  interrupts.set_session("");
  connection.set_timeout(control_timeout);
  return result_of(reply);
}

int command_exec(const global_options& global,
                 const std::vector<std::string>& tokens) {
  bool help = false;
  auto exec = parse_exec("exec", tokens, true, help);
  if (help) return 0;
  cancel_on_interrupt interrupts{global};
  auto connection = connect(global);
  auto result = run_exec(connection, exec, exec.session, interrupts);
  return report_exec(result, exec, global);
}

int command_run(const global_options& global,
                const std::vector<std::string>& tokens) {
  bool help = false;
  auto exec = parse_exec("run", tokens, false, help);
  if (help) return 0;
  cancel_on_interrupt interrupts{global};
  auto connection = connect(global);
  auto created = call(connection, "session.create");
  const auto* id = created.if_contains("session");
  if (id == nullptr || !id->is_string())
    throw std::runtime_error("session.create returned no session id: " +
                             json::serialize(created));
  std::string session{id->get_string()};

  std::optional<json::object> result;
  std::exception_ptr failure;
  try {
    result = run_exec(connection, exec, session, interrupts);
  } catch (...) {
    failure = std::current_exception();
  }
  try {
    call(connection, "session.destroy", {{"session", session}});
  } catch (const std::exception& error) {
    note("cannot destroy session " + session + ": " + error.what());
  }
  if (failure) std::rethrow_exception(failure);
  return report_exec(*result, exec, global);
}

// -- other commands -----------------------------------------------------------

int command_ping(const global_options& global,
                 const std::vector<std::string>& tokens) {
  auto parsed = parse_command("ping", tokens, {});
  if (wants_help(parsed)) return 0;
  expect_positional("ping", parsed, 0, "");
  auto connection = connect(global);
  auto begin = std::chrono::steady_clock::now();
  auto result = call(connection, "system.ping");
  std::chrono::duration<double, std::milli> elapsed =
      std::chrono::steady_clock::now() - begin;
  if (global.json) {
    print_json(result);
    return 0;
  }
  std::ostringstream latency;
  latency << std::fixed << std::setprecision(2) << elapsed.count() << " ms";
  print_rows({{"address", connection.peer()},
              {"version", field(result, "version")},
              {"latency", latency.str()}});
  return 0;
}

int command_stats(const global_options& global,
                  const std::vector<std::string>& tokens) {
  auto parsed = parse_command("stats", tokens, {});
  if (wants_help(parsed)) return 0;
  expect_positional("stats", parsed, 0, "");
  auto connection = connect(global);
  auto result = call(connection, "system.stats");
  if (global.json) {
    print_json(result);
    return 0;
  }
  std::vector<std::pair<std::string, std::string>> rows;
  flatten(result, "", rows);
  print_rows(rows);
  return 0;
}

int session_create(const global_options& global,
                   const std::vector<std::string>& tokens) {
  auto parsed = parse_command("session create", tokens, cwd_and_env_options());
  if (wants_help(parsed)) return 0;
  expect_positional("session create", parsed, 0, "");
  json::object params;
  if (parsed.options.count("cwd")) params["cwd"] = option_text(parsed, "cwd");
  auto env = parse_env(parsed);
  if (!env.empty()) params["env"] = std::move(env);

  auto connection = connect(global);
  auto result = call(connection, "session.create", std::move(params));
  if (global.json) {
    print_json(result);
    return 0;
  }
  const auto* id = result.if_contains("session");
  if (id == nullptr || !id->is_string())
    throw std::runtime_error("session.create returned no session id: " +
                             json::serialize(result));
  std::cout << std::string_view{id->get_string()} << '\n';
  return 0;
}

int session_list(const global_options& global,
                 const std::vector<std::string>& tokens) {
  auto parsed = parse_command("session list", tokens, {});
  if (wants_help(parsed)) return 0;
  expect_positional("session list", parsed, 0, "");
  auto connection = connect(global);
  auto result = call(connection, "session.list");
  if (global.json) {
    print_json(result);
    return 0;
  }
  const auto* sessions = result.if_contains("sessions");
  if (sessions == nullptr || !sessions->is_array())
    throw std::runtime_error("session.list returned no session array: " +
                             json::serialize(result));
  if (sessions->get_array().empty()) {
    std::cout << "no sessions\n";
    return 0;
  }
  std::vector<std::vector<std::string>> table = {
      {"SESSION", "BUSY", "COMMANDS", "AGE_S", "IDLE_S", "CWD"}};
  for (const auto& entry : sessions->get_array()) {
    if (!entry.is_object()) continue;
    const auto& info = entry.get_object();
    table.push_back({field(info, "session"), field(info, "busy"),
                     field(info, "commands_run"), field(info, "age_s"),
                     field(info, "idle_s"), field(info, "cwd")});
  }
  print_table(table);
  return 0;
}

// Runs a command whose only argument is a session id and that prints
// nothing on success: session destroy and cancel.
int session_method(const global_options& global, const std::string& name,
                   const char* method, const std::vector<std::string>& tokens) {
  auto parsed = parse_command(name, tokens, {});
  if (wants_help(parsed)) return 0;
  expect_positional(name, parsed, 1, "the session ID");
  auto connection = connect(global);
  auto result = call(connection, method, {{"session", parsed.positional[0]}});
  if (global.json) print_json(result);
  return 0;
}

int command_session(const global_options& global,
                    const std::vector<std::string>& tokens) {
  if (tokens.empty())
    throw usage_error(
        "session: missing a subcommand: create, list or "
        "destroy");
  const auto& subcommand = tokens.front();
  std::vector<std::string> rest(tokens.begin() + 1, tokens.end());
  if (subcommand == "create") return session_create(global, rest);
  if (subcommand == "list") return session_list(global, rest);
  if (subcommand == "destroy")
    return session_method(global, "session destroy", "session.destroy", rest);
  if (subcommand == "-h" || subcommand == "--help") {
    std::cout << usage_text;
    return 0;
  }
  throw usage_error("session: unknown subcommand \"" + subcommand +
                    "\"; use create, list or destroy");
}

int run_cli(const std::vector<std::string>& args) {
  global_options global;
  const char* from_environment = std::getenv("CORRAL_ADDRESS");
  global.address = from_environment != nullptr && *from_environment != '\0'
                       ? from_environment
                       : default_address;
  std::optional<std::string> token_file;

  std::size_t next = 0;
  for (; next < args.size() && starts_with(args[next], "-"); ++next) {
    const auto& token = args[next];
    if (token == "-h" || token == "--help") {
      std::cout << usage_text;
      return 0;
    }
    if (token == "--json") {
      global.json = true;
    } else if (token == "--connect") {
      if (next + 1 == args.size())
        throw usage_error("--connect needs a value HOST:PORT");
      global.address = args[++next];
    } else if (starts_with(token, "--connect=")) {
      global.address = token.substr(std::strlen("--connect="));
    } else if (token == "--token-file") {
      if (next + 1 == args.size())
        throw usage_error("--token-file needs a value PATH");
      token_file = args[++next];
    } else if (starts_with(token, "--token-file=")) {
      token_file = token.substr(std::strlen("--token-file="));
    } else {
      throw usage_error("unknown global option \"" + token +
                        "\"; the global options are --connect, --token-file, "
                        "--json and --help, and they go before the command");
    }
  }
  if (token_file) {
    global.token = read_token_file(*token_file);
  } else if (const char* token = std::getenv("CORRAL_TOKEN")) {
    global.token = token;
  }
  if (next == args.size()) throw usage_error("missing a command");

  const auto& command = args[next];
  std::vector<std::string> rest(
      args.begin() + static_cast<std::ptrdiff_t>(next) + 1, args.end());
  if (command == "ping") return command_ping(global, rest);
  if (command == "stats") return command_stats(global, rest);
  if (command == "session") return command_session(global, rest);
  if (command == "exec") return command_exec(global, rest);
  if (command == "run") return command_run(global, rest);
  if (command == "cancel")
    return session_method(global, "cancel", "exec.cancel", rest);
  if (command == "help") {
    std::cout << usage_text;
    return 0;
  }
  throw usage_error("unknown command \"" + command +
                    "\"; the commands are ping, stats, session, exec, run "
                    "and cancel");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    return run_cli(args);
  } catch (const usage_error& error) {
    note(error.what());
    std::cerr << "Run 'corralctl --help' for usage.\n";
  } catch (const std::exception& error) {
    note(error.what());
  }
  return failure_status;
}
