#include "runtime/config.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <boost/make_shared.hpp>
#include <boost/program_options.hpp>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <variant>

#include "actors/auth.hpp"
#include "isolation/cgroup.hpp"
#include "runtime/client.hpp"

namespace corral {

namespace {

namespace po = boost::program_options;
namespace json = boost::json;

constexpr std::uint64_t kib = 1024;
constexpr std::uint64_t mib = 1024 * kib;
constexpr std::uint64_t gib = 1024 * mib;
constexpr std::uint64_t no_maximum = std::numeric_limits<std::uint64_t>::max();

constexpr const char* log_levels[] = {"trace", "debug", "info",
                                      "warn",  "error", "off"};

// Marks the "listen" setting, which fills listen_host and listen_port.
struct listen_setting {};

using setting_member =
    std::variant<std::uint64_t config::*, int config::*, std::string config::*,
                 bool config::*, listen_setting>;

// One configuration key, which is also a flag. Numbers must lie within
// [minimum, maximum]. Rules that involve other fields are in `validate`.
struct setting {
  const char* group;
  const char* key;
  const char* value_name;  // placeholder in --help, such as "N" or "MS"
  const char* help;        // what it sets and in what unit
  setting_member member;
  std::uint64_t minimum = 0;
  std::uint64_t maximum = no_maximum;
};

const setting settings[] = {
    {"Network", "listen", "HOST:PORT",
     "address to listen on; write IPv6 as [::1]:7411; port 0 picks a free "
     "port",
     listen_setting{}},
    {"Network", "ready_file", "PATH",
     "file that receives the bound HOST:PORT once the daemon listens, for "
     "scripts that wait for start-up; empty writes none",
     &config::ready_file},
    {"Network", "max_connections", "N",
     "client connections open at once; one more gets a CONNECTION_LIMIT "
     "error and is closed",
     &config::max_connections, 1, 100000},
    {"Network", "max_request_bytes", "BYTES",
     "longest request line in bytes; 0 derives it as 6 * max_stdin_bytes + "
     "64 KiB, the smallest line that any stdin within its cap fits in",
     &config::max_request_bytes},
    {"Network", "max_send_queue_bytes", "BYTES",
     "reply bytes queued for a client that does not read; past this the "
     "client is disconnected",
     &config::max_send_queue_bytes, 64 * kib},
    {"Network", "max_requests_in_flight", "N",
     "requests of one connection in progress at once; past this the daemon "
     "stops reading from it until some finish",
     &config::max_requests_in_flight, 1, 100000},
    {"Network", "login_timeout_ms", "MS",
     "milliseconds a new connection has to send a valid request (with "
     "auth_tokens_file set, a successful auth.login) before it is closed",
     &config::login_timeout_ms, 100, 3600000},
    {"Network", "max_partial_line_ms", "MS",
     "milliseconds a connection may keep an incomplete request line before "
     "it is closed, which stops clients that send byte by byte",
     &config::max_partial_line_ms, 100, 3600000},

    {"Clients", "auth_tokens_file", "PATH",
     "file of `name token` lines, readable by the daemon's user only; when "
     "set, clients must call auth.login first; empty turns authentication "
     "off and makes each peer IP address a client",
     &config::auth_tokens_file},
    {"Clients", "allow_unauthenticated_remote", "BOOL",
     "allows listening on an address other than loopback without "
     "auth_tokens_file; the flag alone means true",
     &config::allow_unauthenticated_remote},
    {"Clients", "max_sessions_per_client", "N",
     "sessions one client may own at once; one more gets "
     "CLIENT_SESSION_LIMIT",
     &config::max_sessions_per_client, 1, 100000},
    {"Clients", "rate_limit_per_sec", "N",
     "requests per second one client may send on average, all its "
     "connections together; past it requests get RATE_LIMITED; 0 turns the "
     "rate limit off",
     &config::rate_limit_per_sec, 0, 1000000},
    {"Clients", "rate_limit_burst", "N",
     "requests one client may send at once above the average rate; 0 turns "
     "the rate limit off",
     &config::rate_limit_burst, 0, 1000000},
    {"Clients", "max_idle_sec", "SEC",
     "seconds without a request after which a session with no running "
     "command is destroyed with its processes (30 days at most)",
     &config::max_idle_sec, 1, 2592000},

    {"Capacity", "max_sessions", "N",
     "sessions open at once, all clients together", &config::max_sessions, 1,
     100000},
    {"Capacity", "max_commands", "N",
     "commands running at once, all sessions together", &config::max_commands,
     1, 10000},

    {"Commands", "shell", "PATH",
     "absolute path of the shell that runs a request's `command` as "
     "SHELL -c COMMAND",
     &config::shell},
    {"Commands", "default_cwd", "DIR", "working directory of new sessions",
     &config::default_cwd},
    {"Commands", "default_path", "DIRS",
     "PATH variable of new sessions, a colon-separated list of directories",
     &config::default_path},
    {"Commands", "default_timeout_s", "SEC",
     "seconds a command may run when the request sets no timeout; at most "
     "max_timeout_s",
     &config::default_timeout_s, 1, 604800},
    {"Commands", "max_timeout_s", "SEC",
     "largest timeout in seconds that a request may set (604800 = 7 days at "
     "most)",
     &config::max_timeout_s, 1, 604800},
    {"Commands", "kill_grace_ms", "MS",
     "milliseconds from SIGTERM to SIGKILL when a command times out or is "
     "cancelled",
     &config::kill_grace_ms, 0, 60000},
    {"Commands", "max_output_bytes", "BYTES",
     "bytes kept of each of stdout and stderr per command (1 KiB to 1 GiB); "
     "the rest is read and discarded",
     &config::max_output_bytes, kib, gib},
    {"Commands", "max_stdin_bytes", "BYTES",
     "largest stdin a request may send, in bytes after base64 decoding "
     "(64 MiB at most)",
     &config::max_stdin_bytes, 0, 64 * mib},
    {"Commands", "output_drain_ms", "MS",
     "milliseconds output is still read after the command exited, so that "
     "background processes holding the pipes cannot delay the result",
     &config::output_drain_ms, 0, 10000},

    {"Per-process limits", "limit_cpu_sec", "SEC",
     "RLIMIT_CPU of each command process, in seconds of CPU time; 0 keeps "
     "the daemon's own limit",
     &config::limit_cpu_sec},
    {"Per-process limits", "limit_memory_bytes", "BYTES",
     "RLIMIT_AS (address space) of each command process, in bytes; 0 keeps "
     "the daemon's own limit",
     &config::limit_memory_bytes},
    {"Per-process limits", "limit_nproc", "N",
     "RLIMIT_NPROC: processes and threads of the command user on the whole "
     "host, not enforced for root; 0 keeps the daemon's own limit",
     &config::limit_nproc},
    {"Per-process limits", "limit_nofile", "N",
     "RLIMIT_NOFILE: open file descriptors per command process; 0 keeps the "
     "daemon's own limit",
     &config::limit_nofile},
    {"Per-process limits", "oom_score_adj", "N",
     "oom_score_adj of command processes, from 0 to 1000; higher values make "
     "the kernel's OOM killer pick commands before the daemon",
     &config::oom_score_adj, 0, 1000},
    {"Per-process limits", "run_as", "USER",
     "user name to run commands as; empty runs them as the daemon's user",
     &config::run_as},

    {"Session cgroups", "cgroups", "MODE",
     "cgroup version for per-session groups: auto (v2, else v1, else none), "
     "v2, v1 or off",
     &config::cgroups},
    {"Session cgroups", "cgroup_memory_bytes", "BYTES",
     "memory of all processes of one session, in bytes; past it the "
     "kernel's OOM killer ends a process of the session; 0 is unlimited",
     &config::cgroup_memory_bytes},
    {"Session cgroups", "cgroup_cpu_percent", "PERCENT",
     "CPU time of one session in percent of one CPU (200 is two CPUs); 0 is "
     "unlimited",
     &config::cgroup_cpu_percent, 0, 100000},
    {"Session cgroups", "cgroup_pids_max", "N",
     "processes and threads of one session at a time, which stops fork "
     "bombs; 0 is unlimited",
     &config::cgroup_pids_max},

    {"Lifecycle", "drain_timeout_s", "SEC",
     "seconds that running commands may finish after SIGTERM before they are "
     "killed (3600 at most)",
     &config::drain_timeout_s, 0, 3600},
    {"Lifecycle", "sweep_interval_ms", "MS",
     "milliseconds between sweeps that forget ended background process "
     "groups of sessions (100 to 60000)",
     &config::sweep_interval_ms, 100, 60000},
    {"Lifecycle", "extension_timeout_ms", "MS",
     "milliseconds a method of an extension actor may take before its "
     "client gets an error (100 to 3600000)",
     &config::extension_timeout_ms, 100, 3600000},
    {"Lifecycle", "log_level", "LEVEL",
     "minimum severity of log messages written to stderr: trace, debug, info, "
     "warn, error or off",
     &config::log_level},
};

std::string flag_of(const char* key) {
  std::string flag = key;
  std::replace(flag.begin(), flag.end(), '_', '-');
  return flag;
}

const setting* find_by_key(std::string_view key) {
  for (const auto& entry : settings)
    if (key == entry.key)
      return &entry;
  return nullptr;
}

const setting* find_by_flag(std::string_view flag) {
  for (const auto& entry : settings)
    if (flag == flag_of(entry.key))
      return &entry;
  return nullptr;
}

// Returns what a numeric setting accepts, such as "an integer from 1 to
// 100000".
std::string accepted_range(const setting& entry) {
  auto minimum = std::to_string(entry.minimum);
  if (entry.maximum == no_maximum) {
    if (entry.minimum == 0)
      return "a non-negative integer";
    return "an integer of at least " + minimum;
  }
  return "an integer from " + minimum + " to " + std::to_string(entry.maximum);
}

std::string quoted(std::string_view text) {
  constexpr std::size_t shown = 80;
  std::string result = "\"";
  result += text.substr(0, shown);
  if (text.size() > shown)
    result += "...";
  return result + "\"";
}

// Returns the number of single-character edits between `a` and `b`.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    auto diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      auto above = row[j];
      auto substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, substitution});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// Returns "; did you mean "max_sessions"?" when a known key is close to
// `key`, else "". `as_flag` spells the suggestion as a flag.
std::string suggestion(std::string_view key, bool as_flag) {
  const setting* closest = nullptr;
  std::size_t best = 3;
  for (const auto& entry : settings) {
    auto name = as_flag ? flag_of(entry.key) : std::string{entry.key};
    auto distance = edit_distance(key, name);
    if (distance < best) {
      best = distance;
      closest = &entry;
    }
  }
  if (closest == nullptr)
    return "";
  if (as_flag)
    return "; did you mean --" + flag_of(closest->key) + "?";
  return "; did you mean \"" + std::string{closest->key} + "\"?";
}

// Parses a decimal integer with an optional leading '-', and nothing else.
std::optional<long long> parse_signed(std::string_view text) {
  long long value = 0;
  const char* end = text.data() + text.size();
  auto [stop, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc{} || stop != end)
    return std::nullopt;
  return value;
}

std::optional<std::uint64_t> parse_unsigned(std::string_view text) {
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [stop, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc{} || stop != end)
    return std::nullopt;
  return value;
}

bool fits_int(long long value) {
  return value >= std::numeric_limits<int>::min() &&
         value <= std::numeric_limits<int>::max();
}

// Applies one value given as text, by a flag or a JSON string. `origin`
// names the flag or key in messages.
void apply_text(const setting& entry, std::string_view text,
                const std::string& origin, config& values,
                std::vector<std::string>& errors) {
  auto invalid = [&](const std::string& accepted) {
    errors.push_back(origin + " must be " + accepted + ", got " + quoted(text));
  };
  if (auto* member = std::get_if<std::uint64_t config::*>(&entry.member)) {
    if (auto value = parse_unsigned(text))
      values.*(*member) = *value;
    else
      invalid(accepted_range(entry));
  } else if (auto* member = std::get_if<int config::*>(&entry.member)) {
    auto value = parse_signed(text);
    if (value && fits_int(*value))
      values.*(*member) = static_cast<int>(*value);
    else
      invalid(accepted_range(entry));
  } else if (auto* member = std::get_if<std::string config::*>(&entry.member)) {
    values.*(*member) = std::string{text};
  } else if (auto* member = std::get_if<bool config::*>(&entry.member)) {
    if (text == "true" || text == "1")
      values.*(*member) = true;
    else if (text == "false" || text == "0")
      values.*(*member) = false;
    else
      invalid("true or false");
  } else {
    try {
      auto address = parse_address(text);
      values.listen_host = std::move(address.host);
      values.listen_port = address.port;
    } catch (const std::invalid_argument& error) {
      errors.push_back(origin + ": " + error.what());
    }
  }
}

std::string json_text(const json::value& value) {
  auto text = json::serialize(value);
  constexpr std::size_t shown = 80;
  if (text.size() > shown)
    text = text.substr(0, shown) + "...";
  return text;
}

// Applies one member of the JSON configuration. `origin` is the key and
// the file name, as in "max_sessions in corral.json".
void apply_json_value(const setting& entry, const json::value& value,
                      const std::string& origin, config& values,
                      std::vector<std::string>& errors) {
  auto invalid = [&](const std::string& accepted) {
    errors.push_back(origin + " must be " + accepted + ", got " +
                     json_text(value));
  };
  if (auto* member = std::get_if<std::uint64_t config::*>(&entry.member)) {
    if (value.is_uint64())
      values.*(*member) = value.get_uint64();
    else if (value.is_int64() && value.get_int64() >= 0)
      values.*(*member) = static_cast<std::uint64_t>(value.get_int64());
    else
      invalid(accepted_range(entry));
  } else if (auto* member = std::get_if<int config::*>(&entry.member)) {
    if (value.is_int64() && fits_int(value.get_int64()))
      values.*(*member) = static_cast<int>(value.get_int64());
    else
      invalid(accepted_range(entry));
  } else if (auto* member = std::get_if<bool config::*>(&entry.member)) {
    if (value.is_bool())
      values.*(*member) = value.get_bool();
    else
      invalid("true or false");
  } else if (!value.is_string()) {
    invalid(std::holds_alternative<listen_setting>(entry.member)
                ? "a string \"HOST:PORT\""
                : "a string");
  } else {
    apply_text(entry, value.get_string(), origin, values, errors);
  }
}

// Applies a JSON configuration text. `source` names it in messages.
std::vector<std::string> apply_json(const std::string& text,
                                    const std::string& source, config& values) {
  std::vector<std::string> errors;
  json::stream_parser parser;
  json::error_code ec;
  auto consumed = parser.write(text.data(), text.size(), ec);
  if (!ec)
    parser.finish(ec);
  if (ec) {
    auto parsed = std::string_view{text}.substr(0, consumed);
    auto line = 1 + std::count(parsed.begin(), parsed.end(), '\n');
    errors.push_back(source + " is not valid JSON: " + ec.message() +
                     " (line " + std::to_string(line) + ")");
    return errors;
  }
  auto document = parser.release();
  if (!document.is_object()) {
    errors.push_back(source + " must contain a JSON object of settings, got " +
                     json_text(document));
    return errors;
  }
  for (const auto& [key, value] : document.get_object()) {
    const auto* entry = find_by_key(key);
    if (entry == nullptr) {
      errors.push_back("unknown key \"" + std::string{key} + "\" in " + source +
                       suggestion(key, false));
      continue;
    }
    apply_json_value(*entry, value, std::string{key} + " in " + source, values,
                     errors);
  }
  return errors;
}

std::string human_size(std::uint64_t bytes) {
  constexpr const char* units[] = {"KiB", "MiB", "GiB"};
  std::string result;
  std::uint64_t unit = kib;
  for (const char* name : units) {
    if (bytes >= unit && bytes % unit == 0)
      result = " = " + std::to_string(bytes / unit) + " " + name;
    unit *= kib;
  }
  return result;
}

// Returns "(default 64)" for the --help text of `entry`.
std::string default_of(const setting& entry) {
  const config defaults;
  if (auto* member = std::get_if<std::uint64_t config::*>(&entry.member)) {
    auto value = defaults.*(*member);
    std::string key = entry.key;
    bool bytes =
        key.size() > 6 && key.compare(key.size() - 6, 6, "_bytes") == 0;
    return "(default " + std::to_string(value) +
           (bytes ? human_size(value) : "") + ")";
  }
  if (auto* member = std::get_if<int config::*>(&entry.member))
    return "(default " + std::to_string(defaults.*(*member)) + ")";
  if (auto* member = std::get_if<std::string config::*>(&entry.member)) {
    const auto& value = defaults.*(*member);
    return value.empty() ? "(default: empty)" : "(default " + value + ")";
  }
  if (auto* member = std::get_if<bool config::*>(&entry.member))
    return defaults.*(*member) ? "(default true)" : "(default false)";
  return "(default " +
         format_address(defaults.listen_host, defaults.listen_port) + ")";
}

po::options_description describe_options() {
  po::options_description all;
  po::options_description general{"General"};
  general.add_options()("help,h", "print this help and exit")(
      "version", "print the version and exit")(
      "config", po::value<std::string>()->value_name("FILE"),
      "JSON file of settings, keyed by the names below with underscores "
      "(max_sessions); flags override it");
  all.add(general);

  std::string current;
  std::optional<po::options_description> group;
  for (const auto& entry : settings) {
    if (entry.group != current) {
      if (group)
        all.add(*group);
      current = entry.group;
      group.emplace(current);
    }
    auto help = std::string{entry.help} + " " + default_of(entry);
    auto* value = po::value<std::string>()->value_name(entry.value_name);
    // A boolean flag given alone, without =VALUE, means true.
    if (std::holds_alternative<bool config::*>(entry.member))
      value->implicit_value("true");
    group->add(boost::make_shared<po::option_description>(
        flag_of(entry.key).c_str(), value,
        // option_description keeps its own copy of the text.
        help.c_str()));
  }
  if (group)
    all.add(*group);
  return all;
}

std::string help_text(const po::options_description& options) {
  std::ostringstream text;
  text << "Usage: corrald [options]\n\n"
          "Serves line-delimited JSON-RPC 2.0 on TCP: clients open sessions "
          "and run\n"
          "shell commands in them. Settings come from the defaults, then "
          "the JSON file\n"
          "given with --config, then the flags.\n\n"
       << options;
  return text.str();
}

bool read_file(const std::string& path, std::string& content,
               std::string& error) {
  std::ifstream in{path, std::ios::binary};
  if (!in) {
    error = std::strerror(errno);
    return false;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    error = "read failed";
    return false;
  }
  content = text.str();
  return true;
}

// Returns why `path` is not an executable regular file, or "" when it is.
std::string executable_problem(const std::string& path) {
  if (path.empty() || path.front() != '/')
    return "not an absolute path";
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0)
    return std::strerror(errno);
  if (!S_ISREG(info.st_mode))
    return "not a regular file";
  if (::access(path.c_str(), X_OK) != 0)
    return "not executable: " + std::string{std::strerror(errno)};
  return "";
}

std::string directory_problem(const std::string& path) {
  if (path.empty())
    return "empty";
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0)
    return std::strerror(errno);
  if (!S_ISDIR(info.st_mode))
    return "not a directory";
  return "";
}

bool in_range(const setting& entry, std::uint64_t value) {
  return value >= entry.minimum && value <= entry.maximum;
}

void check_ranges(const config& values, std::vector<std::string>& errors) {
  for (const auto& entry : settings) {
    bool valid = true;
    std::string value_text;
    if (auto* member = std::get_if<std::uint64_t config::*>(&entry.member)) {
      auto value = values.*(*member);
      valid = in_range(entry, value);
      value_text = std::to_string(value);
    } else if (auto* member = std::get_if<int config::*>(&entry.member)) {
      auto value = values.*(*member);
      valid = value >= 0 && in_range(entry, static_cast<std::uint64_t>(value));
      value_text = std::to_string(value);
    }
    if (!valid)
      errors.push_back(std::string{entry.key} + " must be " +
                       accepted_range(entry) + ", got " + value_text);
  }
}

void check_relations(const config& values, std::vector<std::string>& errors) {
  if (values.default_timeout_s > values.max_timeout_s)
    errors.push_back("default_timeout_s must not exceed max_timeout_s (" +
                     std::to_string(values.max_timeout_s) + "), got " +
                     std::to_string(values.default_timeout_s));

  auto minimum_request = derived_request_cap(values.max_stdin_bytes);
  if (values.max_request_bytes != 0 &&
      values.max_request_bytes < minimum_request)
    errors.push_back(
        "max_request_bytes must be 0 (derived from max_stdin_bytes) or at "
        "least "
        "6 * max_stdin_bytes + 65536 = " +
        std::to_string(minimum_request) +
        ", so that any stdin within its cap "
        "fits; got " +
        std::to_string(values.max_request_bytes));
}

// Checks the token file, and that a daemon reachable from other hosts
// requires tokens unless the operator opted out.
void check_clients(const config& values, std::vector<std::string>& errors) {
  if (!values.auth_tokens_file.empty()) {
    auto loaded = actors::token_store::load(values.auth_tokens_file);
    errors.insert(errors.end(), loaded.errors.begin(), loaded.errors.end());
    return;
  }
  if (values.listen_host.empty() || is_loopback_host(values.listen_host) ||
      values.allow_unauthenticated_remote)
    return;
  errors.push_back(
      "listen address " + quoted(values.listen_host) +
      " is not loopback, and without auth_tokens_file anyone who can reach "
      "it could run commands as the daemon's user; set --auth-tokens-file "
      "PATH, listen on 127.0.0.1, or pass --allow-unauthenticated-remote if "
      "a firewall or tunnel already restricts access");
}

void check_text(const config& values, std::vector<std::string>& errors) {
  if (auto problem = executable_problem(values.shell); !problem.empty())
    errors.push_back(
        "shell must be an absolute path to an executable file, "
        "got " +
        quoted(values.shell) + " (" + problem + ")");
  if (auto problem = directory_problem(values.default_cwd); !problem.empty())
    errors.push_back("default_cwd must be an existing directory, got " +
                     quoted(values.default_cwd) + " (" + problem + ")");
  if (values.default_path.empty())
    errors.push_back(
        "default_path must be a non-empty list of directories "
        "such as /usr/bin:/bin, got \"\"");
  if (!values.run_as.empty()) {
    std::string problem;
    if (!isolation::resolve_user(values.run_as, problem))
      errors.push_back("run_as must be empty or an existing user name, got " +
                       quoted(values.run_as) + " (" + problem + ")");
  }
  if (!isolation::parse_cgroup_mode(values.cgroups))
    errors.push_back("cgroups must be one of auto, v2, v1, off, got " +
                     quoted(values.cgroups));
  if (std::find(std::begin(log_levels), std::end(log_levels),
                values.log_level) == std::end(log_levels))
    errors.push_back(
        "log_level must be one of trace, debug, info, warn, "
        "error, off, got " +
        quoted(values.log_level));
  if (values.listen_host.empty())
    errors.push_back(
        "listen must name a host, such as 127.0.0.1:7411, got "
        "an empty host");
  check_clients(values, errors);
}

// Reads the command line into `result`, then the --config file and the
// other flags into `result.values`.
void load_flags(int argc, const char* const* argv, config_result& result) {
  auto options = describe_options();
  result.help_text = help_text(options);

  po::parsed_options parsed{&options};
  try {
    auto style = po::command_line_style::unix_style &
                 ~po::command_line_style::allow_guessing;
    parsed = po::command_line_parser(argc, argv)
                 .options(options)
                 .style(style)
                 .allow_unregistered()
                 .run();
  } catch (const po::error& error) {
    result.errors.push_back(error.what());
    return;
  }

  std::optional<std::string> config_file;
  std::vector<std::pair<const setting*, std::string>> flags;
  bool after_unknown_option = false;
  for (const auto& option : parsed.options) {
    bool follows_unknown = after_unknown_option;
    after_unknown_option = false;
    if (option.position_key >= 0) {
      // `--unknown VALUE` leaves VALUE as a positional argument. It is not
      // reported, because the unknown option already is.
      if (!follows_unknown)
        result.errors.push_back("unexpected argument " +
                                quoted(option.value.front()) +
                                "; corrald takes only options, see --help");
      continue;
    }
    if (option.unregistered) {
      auto token = option.original_tokens.front();
      auto name = token.substr(0, token.find('='));
      auto bare =
          name.substr(std::min(name.find_first_not_of('-'), name.size()));
      result.errors.push_back("unknown option " + name +
                              suggestion(bare, true));
      after_unknown_option = token.find('=') == std::string::npos;
      continue;
    }
    if (option.string_key == "help") {
      result.show_help = true;
    } else if (option.string_key == "version") {
      result.show_version = true;
    } else if (option.string_key == "config") {
      config_file = option.value.front();
    } else if (const auto* entry = find_by_flag(option.string_key)) {
      // A flag with an implicit value, given without =VALUE, arrives with
      // no value at all.
      flags.emplace_back(entry, option.value.empty() ? std::string{"true"}
                                                     : option.value.front());
    }
  }
  if (result.show_help || result.show_version)
    return;

  if (config_file) {
    std::string text;
    std::string problem;
    if (read_file(*config_file, text, problem)) {
      auto errors = apply_json(text, *config_file, result.values);
      result.errors.insert(result.errors.end(), errors.begin(), errors.end());
    } else {
      result.errors.push_back("cannot read configuration file " +
                              quoted(*config_file) + ": " + problem);
    }
  }
  for (const auto& [entry, text] : flags)
    apply_text(*entry, text, "--" + flag_of(entry->key), result.values,
               result.errors);
}

}  // namespace

config_result load_config(int argc, const char* const* argv) {
  config_result result;
  try {
    load_flags(argc, argv, result);
    if (result.show_help || result.show_version)
      return result;
    auto errors = validate(result.values);
    result.errors.insert(result.errors.end(), errors.begin(), errors.end());
  } catch (const std::exception& error) {
    // Only failures such as std::bad_alloc get here, because the parsers
    // above report bad input as messages.
    result.errors.push_back(std::string{"cannot read the configuration: "} +
                            error.what());
  }
  return result;
}

std::vector<std::string> apply_config_json(const std::string& text,
                                           config& base) {
  return apply_json(text, "the configuration JSON", base);
}

std::vector<std::string> validate(const config& values) {
  std::vector<std::string> errors;
  check_ranges(values, errors);
  check_relations(values, errors);
  check_text(values, errors);
  return errors;
}

bool is_loopback_host(const std::string& host) {
  std::string lower = host;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (lower == "localhost")
    return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1)
    return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6))
      return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

isolation::rlimit_values rlimits_of(const config& values) {
  isolation::rlimit_values limits;
  limits.cpu_sec = values.limit_cpu_sec;
  limits.address_space_bytes = values.limit_memory_bytes;
  limits.nproc = values.limit_nproc;
  limits.nofile = values.limit_nofile;
  return limits;
}

}  // namespace corral
