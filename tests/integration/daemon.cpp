#include "integration/daemon.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

namespace json = boost::json;

namespace corral::testing {

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// Reads the fields after the command name of /proc/PID/stat: state, ppid.
bool read_stat(pid_t pid, char& state, pid_t& parent) {
  auto text = read_file("/proc/" + std::to_string(pid) + "/stat");
  auto close = text.rfind(')');
  if (close == std::string::npos)
    return false;
  std::istringstream rest{text.substr(close + 2)};
  return static_cast<bool>(rest >> state >> parent);
}

std::vector<pid_t> all_pids() {
  std::vector<pid_t> pids;
  auto* dir = ::opendir("/proc");
  if (dir == nullptr)
    return pids;
  while (auto* entry = ::readdir(dir)) {
    char* end = nullptr;
    auto pid = std::strtol(entry->d_name, &end, 10);
    if (end != entry->d_name && *end == '\0')
      pids.push_back(static_cast<pid_t>(pid));
  }
  ::closedir(dir);
  return pids;
}

}  // namespace

std::string program_path(const char* name) {
  const char* value = std::getenv(name);
  BOOST_REQUIRE_MESSAGE(value != nullptr,
                        name << " is not set; run the tests through ctest");
  return value;
}

daemon_process::daemon_process(std::vector<std::string> extra_args) {
  char pattern[] = "/tmp/corral-test-XXXXXX";
  BOOST_REQUIRE(::mkdtemp(pattern) != nullptr);
  directory_ = pattern;
  auto ready = directory_ + "/ready";
  auto log_path = directory_ + "/corrald.log";

  std::vector<std::string> args = {program_path("CORRALD"), "--listen",
                                   "127.0.0.1:0", "--ready-file", ready};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::vector<char*> argv;
  for (auto& arg : args)
    argv.push_back(arg.data());
  argv.push_back(nullptr);

  pid_ = ::fork();
  BOOST_REQUIRE(pid_ >= 0);
  if (pid_ == 0) {
    int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(log_fd, STDERR_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }

  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{20};
  while (std::chrono::steady_clock::now() < deadline) {
    auto address = read_file(ready);
    if (!address.empty()) {
      auto colon = address.rfind(':');
      port_ = static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1)));
      return;
    }
    BOOST_REQUIRE_MESSAGE(running(), "corrald exited during start-up:\n"
                                         << log());
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  BOOST_FAIL("corrald did not become ready within 20 s:\n" << log());
}

daemon_process::~daemon_process() {
  if (running() && !terminate(std::chrono::seconds{30})) {
    BOOST_TEST_MESSAGE("corrald did not stop on SIGTERM; killing it");
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    reaped_ = true;
  }
  std::remove((directory_ + "/corrald.log").c_str());
  std::remove((directory_ + "/ready").c_str());
  ::rmdir(directory_.c_str());
}

corral::client daemon_process::connect() const {
  return corral::client::connect("127.0.0.1", port_, std::chrono::seconds{5});
}

std::optional<int> daemon_process::terminate(std::chrono::seconds limit) {
  if (reaped_)
    return std::nullopt;
  ::kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      reaped_ = true;
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  return std::nullopt;
}

void daemon_process::send_signal(int signal) const { ::kill(pid_, signal); }

std::string daemon_process::log() const {
  return read_file(directory_ + "/corrald.log");
}

bool daemon_process::running() {
  if (reaped_)
    return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    reaped_ = true;
    return false;
  }
  return true;
}

std::string create_session(corral::client& client, json::object params) {
  auto reply = client.call("session.create", std::move(params));
  auto result = result_of(reply);
  return std::string{result.at("session").as_string()};
}

json::object run(corral::client& client, const std::string& session,
                 const std::string& command, json::object extra) {
  extra["session"] = session;
  extra["command"] = command;
  return client.call("exec.run", std::move(extra)).as_object();
}

json::object result_of(const json::value& reply) {
  const auto& object = reply.as_object();
  BOOST_REQUIRE_MESSAGE(object.contains("result"),
                        "expected a result, got " << json::serialize(reply));
  return object.at("result").as_object();
}

std::string error_name(const json::value& reply) {
  const auto& object = reply.as_object();
  if (!object.contains("error"))
    return "";
  return std::string{object.at("error").at("data").at("error").as_string()};
}

std::vector<pid_t> processes_of_user(uid_t uid) {
  std::vector<pid_t> found;
  for (auto pid : all_pids()) {
    struct stat info;
    auto path = "/proc/" + std::to_string(pid);
    char state = 0;
    pid_t parent = 0;
    if (::stat(path.c_str(), &info) == 0 && info.st_uid == uid &&
        read_stat(pid, state, parent) && state != 'Z')
      found.push_back(pid);
  }
  return found;
}

bool process_alive(pid_t pid) {
  char state = 0;
  pid_t parent = 0;
  return read_stat(pid, state, parent) && state != 'Z';
}

int zombie_children(pid_t parent_pid) {
  int count = 0;
  for (auto pid : all_pids()) {
    char state = 0;
    pid_t parent = 0;
    if (read_stat(pid, state, parent) && parent == parent_pid && state == 'Z')
      ++count;
  }
  return count;
}

int descendants(pid_t ancestor) {
  std::map<pid_t, pid_t> parents;
  for (auto pid : all_pids()) {
    char state = 0;
    pid_t parent = 0;
    if (read_stat(pid, state, parent) && state != 'Z')
      parents[pid] = parent;
  }
  int count = 0;
  for (const auto& [pid, parent] : parents) {
    for (auto up = parent; up > 1;) {
      if (up == ancestor) {
        ++count;
        break;
      }
      auto next = parents.find(up);
      if (next == parents.end())
        break;
      up = next->second;
    }
  }
  return count;
}

}  // namespace corral::testing
