// The client library and corralctl against fake JSON-RPC servers on the
// loopback interface, which serve each connection from a thread of its own.

#include "runtime/client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "protocol/utf8.hpp"

namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

// Maximum wait in milliseconds of a fake server or a test for anything, so that
// a broken client fails the test instead of hanging it.
constexpr int patience_ms = 10000;

// The server side of one accepted connection.
class server_peer {
 public:
  explicit server_peer(int fd) : fd_{fd} {}

  // Returns the next line without its newline, or nothing at EOF or after
  // `patience_ms`.
  std::optional<std::string> read_line() {
    while (true) {
      auto newline = buffer_.find('\n');
      if (newline != std::string::npos) {
        auto line = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        return line;
      }
      pollfd entry{fd_, POLLIN, 0};
      if (::poll(&entry, 1, patience_ms) <= 0) return std::nullopt;
      char chunk[65536];
      auto got = ::recv(fd_, chunk, sizeof chunk, 0);
      if (got <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<std::size_t>(got));
    }
  }

  // Waits until the client closes the connection.
  void wait_for_close() {
    while (read_line()) {
    }
  }

  void write(std::string_view text) {
    while (!text.empty()) {
      auto sent = ::send(fd_, text.data(), text.size(), MSG_NOSIGNAL);
      if (sent <= 0) return;
      text.remove_prefix(static_cast<std::size_t>(sent));
    }
  }

 private:
  int fd_;
  std::string buffer_;
};

// A TCP server on an ephemeral loopback port that accepts up to
// `connections` connections and runs `script` on each in its own thread.
// The destructor waits for the scripts, so the test can inspect what they
// recorded afterwards.
class fake_server {
 public:
  explicit fake_server(std::function<void(server_peer&)> script,
                       bool ipv6 = false, int connections = 1) {
    listener_ =
        ::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    BOOST_REQUIRE(listener_ >= 0);
    sockaddr_storage storage{};
    socklen_t size = 0;
    if (ipv6) {
      auto* address = reinterpret_cast<sockaddr_in6*>(&storage);
      address->sin6_family = AF_INET6;
      address->sin6_addr = in6addr_loopback;
      size = sizeof *address;
    } else {
      auto* address = reinterpret_cast<sockaddr_in*>(&storage);
      address->sin_family = AF_INET;
      address->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      size = sizeof *address;
    }
    bound_ =
        ::bind(listener_, reinterpret_cast<sockaddr*>(&storage), size) == 0 &&
        ::listen(listener_, 4) == 0;
    if (!bound_) return;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&storage), &size);
    port_ = ntohs(ipv6 ? reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port
                       : reinterpret_cast<sockaddr_in*>(&storage)->sin_port);
    thread_ = std::thread{[this, connections, script = std::move(script)] {
      std::vector<std::thread> workers;
      for (int i = 0; i < connections; ++i) {
        pollfd entry{listener_, POLLIN, 0};
        if (::poll(&entry, 1, patience_ms) <= 0) break;
        int connection = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (connection < 0) break;
        workers.emplace_back([connection, &script] {
          server_peer peer{connection};
          script(peer);
          ::close(connection);
        });
      }
      for (auto& worker : workers) worker.join();
    }};
  }

  ~fake_server() {
    if (thread_.joinable()) thread_.join();
    ::close(listener_);
  }

  fake_server(const fake_server&) = delete;
  fake_server& operator=(const fake_server&) = delete;

  bool bound() const { return bound_; }
  std::uint16_t port() const { return port_; }

 private:
  int listener_ = -1;
  bool bound_ = false;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

corral::client connect_to(const fake_server& server) {
  return corral::client::connect("127.0.0.1", server.port(), 5s);
}

std::string reply_text(const json::value& id, json::object body) {
  body["jsonrpc"] = "2.0";
  body["id"] = id;
  return json::serialize(body) + "\n";
}

json::value id_of(const std::string& request) {
  return json::parse(request).as_object().at("id");
}

// Returns a port on 127.0.0.1 that nothing listens on: one the kernel
// just handed out and that was closed again.
std::uint16_t closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  BOOST_REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  BOOST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), size) == 0);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  ::close(fd);
  return ntohs(address.sin_port);
}

// -- corralctl as a child process ---------------------------------------------

struct program_output {
  int status = -1;  // exit status, or -1 when the program did not exit
  std::string out;
  std::string err;
};

boost::test_tools::assertion_result corralctl_available(
    boost::unit_test::test_unit_id) {
  boost::test_tools::assertion_result result{std::getenv("CORRALCTL") !=
                                             nullptr};
  result.message() << "CORRALCTL is not set to the corralctl program; run "
                      "the tests through ctest";
  return result;
}

// Runs corralctl with `args`, feeds it `input` on stdin and collects its
// output. Stores its pid in `started`, if given. Kills it, by pid, when it
// runs longer than `patience_ms`.
program_output run_corralctl(std::vector<std::string> args,
                             const std::string& input = "",
                             std::atomic<pid_t>* started = nullptr) {
  args.insert(args.begin(), std::getenv("CORRALCTL"));
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  int in[2], out[2], err[2];
  BOOST_REQUIRE(::pipe2(in, O_CLOEXEC) == 0);
  BOOST_REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
  BOOST_REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
  pid_t pid = ::fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(in[0], STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    ::unsetenv("CORRAL_ADDRESS");
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  if (started != nullptr) *started = pid;
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  // The inputs are small enough for the pipe buffer.
  BOOST_REQUIRE(::write(in[1], input.data(), input.size()) ==
                static_cast<ssize_t>(input.size()));
  ::close(in[1]);

  program_output result;
  pollfd streams[] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* targets[] = {&result.out, &result.err};
  int open_streams = 2;
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds{patience_ms};
  while (open_streams > 0 && std::chrono::steady_clock::now() < deadline) {
    if (::poll(streams, 2, 100) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (streams[i].fd < 0 || streams[i].revents == 0) continue;
      char chunk[4096];
      auto got = ::read(streams[i].fd, chunk, sizeof chunk);
      if (got > 0) {
        targets[i]->append(chunk, static_cast<std::size_t>(got));
      } else {
        ::close(streams[i].fd);
        streams[i].fd = -1;
        --open_streams;
      }
    }
  }
  for (auto& stream : streams)
    if (stream.fd >= 0) {
      ::kill(pid, SIGKILL);
      ::close(stream.fd);
    }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status)) result.status = WEXITSTATUS(status);
  return result;
}

// Returns a script that serves JSON-RPC requests until the client closes.
// Each method gets its reply body from `replies` (a `result` or `error`
// member), and every request object is appended to `requests`.
std::function<void(server_peer&)> serve(
    std::map<std::string, json::object> replies,
    std::vector<json::object>& requests) {
  return [replies = std::move(replies), &requests](server_peer& peer) {
    while (auto line = peer.read_line()) {
      auto request = json::parse(*line).as_object();
      requests.push_back(request);
      std::string method{request.at("method").as_string()};
      auto found = replies.find(method);
      json::object body;
      if (found != replies.end())
        body = found->second;
      else
        body["error"] = {{"code", -32601},
                         {"message", "no reply for " + method},
                         {"data", {{"error", "METHOD_NOT_FOUND"}}}};
      peer.write(reply_text(request.at("id"), std::move(body)));
    }
  };
}

json::object result_body(json::object result) {
  return {{"result", std::move(result)}};
}

json::object error_body(const char* message, const char* name) {
  return {
      {"error",
       {{"code", -32001}, {"message", message}, {"data", {{"error", name}}}}}};
}

json::object exec_result(json::object fields) {
  json::object result = {{"exit_code", 0},
                         {"signal", nullptr},
                         {"reason", "exited"},
                         {"limits_hit", json::array{}},
                         {"stdout", ""},
                         {"stderr", ""},
                         {"stdout_bytes", 0},
                         {"stderr_bytes", 0},
                         {"stdout_truncated", false},
                         {"stderr_truncated", false},
                         {"duration_ms", 1.5},
                         {"pid", 42}};
  for (auto& [key, value] : fields) result[key] = value;
  return result;
}

std::string address_of(const fake_server& server) {
  return "127.0.0.1:" + std::to_string(server.port());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(client)

BOOST_AUTO_TEST_CASE(parse_address_accepts_valid_forms) {
  struct address_case {
    const char* text;
    const char* host;
    std::uint16_t port;
  };
  const address_case cases[] = {
      {"127.0.0.1:7411", "127.0.0.1", 7411},
      {"localhost:0", "localhost", 0},
      {"[::1]:7411", "::1", 7411},
      {"[fe80::1%lo]:65535", "fe80::1%lo", 65535},
      {"host.example:1", "host.example", 1},
  };
  for (const auto& entry : cases) {
    BOOST_TEST_CONTEXT("address " << entry.text) {
      auto address = corral::parse_address(entry.text);
      BOOST_TEST(address.host == entry.host);
      BOOST_TEST(address.port == entry.port);
    }
  }
}

BOOST_AUTO_TEST_CASE(parse_address_rejects_bad_forms) {
  const char* cases[] = {"",          "7411",    "localhost",  ":7411",
                         "::1:7411",  "[::1]",   "[::1]7411",  "[]:7411",
                         "[::1:7411", "host:",   "host:65536", "host:-1",
                         "host:12a",  "host: 80"};
  for (const char* text : cases) {
    BOOST_TEST_CONTEXT("address \"" << text << "\"") {
      std::string message;
      try {
        corral::parse_address(text);
      } catch (const std::invalid_argument& error) {
        message = error.what();
      }
      BOOST_TEST(
          message.find("invalid address \"" + std::string{text} + "\"") == 0u,
          "message: " << message);
    }
  }
}

BOOST_AUTO_TEST_CASE(format_address_brackets_ipv6) {
  BOOST_TEST(corral::format_address("::1", 7411) == "[::1]:7411");
  BOOST_TEST(corral::format_address("127.0.0.1", 0) == "127.0.0.1:0");
}

BOOST_AUTO_TEST_CASE(call_matches_out_of_order_replies) {
  std::vector<std::string> received;
  fake_server server{[&](server_peer& peer) {
    auto raw = peer.read_line();
    auto request = peer.read_line();
    if (!raw || !request) return;
    received = {*raw, *request};
    peer.write("not json at all\n");
    peer.write(reply_text(id_of(*raw), {{"result", "raw"}}));
    peer.write(reply_text(id_of(*request), {{"result", {{"pong", true}}}}));
    peer.wait_for_close();
  }};
  {
    auto connection = connect_to(server);
    connection.send_line(R"({"id":"first","method":"system.ping"})");
    auto reply = connection.call("system.ping");
    BOOST_TEST(reply.at("result").at("pong").as_bool());

    auto skipped = connection.read_line(1s);
    BOOST_TEST(skipped.value_or("") == "not json at all");
    auto earlier = connection.read_reply(1s);
    BOOST_REQUIRE(earlier);
    BOOST_TEST(earlier->at("id").as_string() == "first");
    BOOST_TEST(!connection.eof());
  }
  BOOST_REQUIRE(received.size() == 2u);
  BOOST_TEST(received[0] == R"({"id":"first","method":"system.ping"})");
  auto request = json::parse(received[1]).as_object();
  BOOST_TEST(request.at("jsonrpc").as_string() == "2.0");
  BOOST_TEST(request.at("method").as_string() == "system.ping");
  BOOST_TEST(request.at("id").is_int64());
  BOOST_TEST(!request.contains("params"));
}

BOOST_AUTO_TEST_CASE(call_sends_params_and_fresh_ids) {
  std::vector<json::object> requests;
  fake_server server{
      serve({{"exec.run", result_body({{"ok", true}})}}, requests)};
  {
    auto connection = connect_to(server);
    connection.call("exec.run", {{"session", "s-1"}, {"command", "true"}});
    connection.call("exec.run", {{"session", "s-1"}, {"command", "true"}});
  }
  BOOST_REQUIRE(requests.size() == 2u);
  BOOST_TEST(requests[0].at("params").at("session").as_string() == "s-1");
  BOOST_TEST(requests[0].at("id") != requests[1].at("id"));
}

BOOST_AUTO_TEST_CASE(call_avoids_ids_sent_raw) {
  std::optional<std::string> raw;
  std::optional<std::string> request;
  fake_server server{[&](server_peer& peer) {
    raw = peer.read_line();
    request = peer.read_line();
    if (!raw || !request) return;
    // The reply to the raw request comes first: a call that reused its id
    // would take it for its own.
    peer.write(reply_text(id_of(*raw), {{"result", "raw"}}));
    peer.write(reply_text(id_of(*request), {{"result", "call"}}));
    peer.wait_for_close();
  }};
  {
    auto connection = connect_to(server);
    connection.send_line(R"({"id":1,"method":"system.ping"})");
    auto reply = connection.call("system.ping");
    BOOST_TEST(reply.at("result").as_string() == "call");
  }
  BOOST_REQUIRE(request);
  BOOST_TEST(id_of(*request).as_int64() != 1);
}

BOOST_AUTO_TEST_CASE(read_line_times_out_without_data) {
  fake_server server{[](server_peer& peer) { peer.wait_for_close(); }};
  auto connection = connect_to(server);
  auto begin = std::chrono::steady_clock::now();
  auto line = connection.read_line(200ms);
  auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - begin)
                        .count();
  BOOST_TEST(!line);
  BOOST_TEST(!connection.eof());
  BOOST_TEST(elapsed_ms >= 200);
  BOOST_TEST(elapsed_ms < 5000);
}

BOOST_AUTO_TEST_CASE(read_line_reports_eof) {
  fake_server server{[](server_peer& peer) {
    peer.write("first\n");
    peer.write("unterminated");
  }};
  auto connection = connect_to(server);
  BOOST_TEST(connection.read_line(5s).value_or("") == "first");
  BOOST_TEST(connection.read_line(5s).value_or("") == "unterminated");
  BOOST_TEST(!connection.read_line(5s));
  BOOST_TEST(connection.eof());
}

BOOST_AUTO_TEST_CASE(call_reports_server_closing) {
  fake_server server{[](server_peer& peer) {
    peer.read_line();
    peer.write(R"({"jsonrpc":"2.0","id":null,"error":{"code":-32010,)"
               R"("message":"too many connections",)"
               R"("data":{"error":"CONNECTION_LIMIT"}}})"
               "\n");
  }};
  auto connection = connect_to(server);
  std::string message;
  try {
    connection.call("system.ping");
  } catch (const std::runtime_error& error) {
    message = error.what();
  }
  BOOST_TEST(message.find("closed the connection") != std::string::npos,
             "message: " << message);
  BOOST_TEST(message.find("too many connections (CONNECTION_LIMIT)") !=
                 std::string::npos,
             "message: " << message);
  BOOST_TEST(!connection.eof());
  auto queued = connection.read_reply(0ms);
  BOOST_REQUIRE(queued);
  BOOST_TEST(queued->at("id").is_null());
  BOOST_TEST(connection.eof());
}

BOOST_AUTO_TEST_CASE(call_times_out_without_reply) {
  fake_server server{[](server_peer& peer) { peer.wait_for_close(); }};
  auto connection = connect_to(server);
  connection.set_timeout(200ms);
  std::string message;
  try {
    connection.call("system.ping");
  } catch (const std::runtime_error& error) {
    message = error.what();
  }
  BOOST_TEST(message.find("no reply") != std::string::npos,
             "message: " << message);
}

BOOST_AUTO_TEST_CASE(connect_fails_on_closed_port) {
  auto port = closed_port();
  std::string message;
  try {
    corral::client::connect("127.0.0.1", port, 5s);
  } catch (const std::runtime_error& error) {
    message = error.what();
  }
  BOOST_TEST(
      message.find("cannot connect to 127.0.0.1:" + std::to_string(port)) == 0u,
      "message: " << message);
}

BOOST_AUTO_TEST_CASE(connect_works_over_ipv6_loopback) {
  fake_server server{
      [](server_peer& peer) {
        if (auto line = peer.read_line())
          peer.write(reply_text(id_of(*line), {{"result", "v6"}}));
      },
      true};
  if (!server.bound()) {
    BOOST_TEST_MESSAGE("skipped: cannot listen on [::1], IPv6 is disabled");
    return;
  }
  auto connection = corral::client::connect("::1", server.port(), 5s);
  BOOST_TEST(connection.peer() == "[::1]:" + std::to_string(server.port()));
  BOOST_TEST(connection.call("system.ping").at("result").as_string() == "v6");
}

BOOST_AUTO_TEST_CASE(closed_client_rejects_use) {
  fake_server server{[](server_peer& peer) { peer.wait_for_close(); }};
  auto connection = connect_to(server);
  auto moved = std::move(connection);
  moved.close();
  BOOST_TEST(moved.eof());
  BOOST_CHECK_THROW(moved.send_line("{}"), std::runtime_error);
  BOOST_CHECK_THROW(moved.read_line(0ms), std::runtime_error);
}

// -- corralctl ----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(corralctl_exec_passes_output_through,
                     *boost::unit_test::precondition(corralctl_available)) {
  std::vector<json::object> requests;
  {
    fake_server server{serve(
        {{"exec.run",
          result_body(exec_result(
              {{"exit_code", 3}, {"stdout", "out\n"}, {"stderr", "err\n"}}))}},
        requests)};
    auto output =
        run_corralctl({"--connect", address_of(server), "exec", "s-1", "--env",
                       "A=1=2", "--timeout", "7", "--", "echo", "hello world"});
    BOOST_TEST(output.status == 3);
    BOOST_TEST(output.out == "out\n");
    BOOST_TEST(output.err == "err\n");
  }
  BOOST_REQUIRE(requests.size() == 1u);
  const auto& params = requests[0].at("params").as_object();
  BOOST_TEST(params.at("session").as_string() == "s-1");
  BOOST_TEST(params.at("command").as_string() == "echo hello world");
  BOOST_TEST(params.at("timeout_s").to_number<int>() == 7);
  BOOST_TEST(params.at("env").at("A").as_string() == "1=2");
  BOOST_TEST(!params.contains("stdin_base64"));
  BOOST_TEST(!params.contains("output_encoding"));
}

BOOST_AUTO_TEST_CASE(corralctl_timeout_gives_signal_status,
                     *boost::unit_test::precondition(corralctl_available)) {
  std::vector<json::object> requests;
  fake_server server{
      serve({{"exec.run", result_body(exec_result({{"exit_code", nullptr},
                                                   {"signal", "SIGTERM"},
                                                   {"reason", "timeout"}}))}},
            requests)};
  auto output = run_corralctl({"--connect", address_of(server), "exec", "s-1",
                               "--timeout", "5", "--", "sleep", "9"});
  BOOST_TEST(output.status == 128 + SIGTERM);
  BOOST_TEST(output.err ==
             "corralctl: command timed out after 5 s (reason: timeout)\n");
}

BOOST_AUTO_TEST_CASE(corralctl_notes_truncated_output,
                     *boost::unit_test::precondition(corralctl_available)) {
  std::vector<json::object> requests;
  fake_server server{serve(
      {{"exec.run", result_body(exec_result({{"exit_code", nullptr},
                                             {"signal", "SIGKILL"},
                                             {"reason", "signaled"},
                                             {"stdout", "abcd"},
                                             {"stdout_bytes", 100},
                                             {"stdout_truncated", true}}))}},
      requests)};
  auto output = run_corralctl(
      {"--connect", address_of(server), "exec", "s-1", "--", "yes"});
  BOOST_TEST(output.status == 128 + SIGKILL);
  BOOST_TEST(output.out == "abcd");
  BOOST_TEST(output.err.find("stdout was truncated") != std::string::npos,
             "stderr: " << output.err);
}

BOOST_AUTO_TEST_CASE(corralctl_base64_argv_and_stdin,
                     *boost::unit_test::precondition(corralctl_available)) {
  using namespace std::string_literals;
  auto bytes = "a\0\xff\n"s;
  auto input = "in\0put"s;
  std::vector<json::object> requests;
  {
    fake_server server{serve(
        {{"exec.run", result_body(exec_result(
                          {{"stdout", corral::protocol::base64_encode(bytes)},
                           {"stderr", corral::protocol::base64_encode("\x01")},
                           {"encoding", "base64"}}))}},
        requests)};
    auto output = run_corralctl(
        {"--connect", address_of(server), "exec", "s-2", "--argv", "--base64",
         "--stdin-file", "-", "--", "printf", "%s", "a b"},
        input);
    BOOST_TEST(output.status == 0);
    BOOST_TEST(output.out == bytes);
    BOOST_TEST(output.err == "\x01");
  }
  BOOST_REQUIRE(requests.size() == 1u);
  const auto& params = requests[0].at("params").as_object();
  BOOST_TEST(params.at("output_encoding").as_string() == "base64");
  BOOST_TEST(params.at("stdin_base64").as_string() ==
             corral::protocol::base64_encode(input));
  BOOST_TEST(!params.contains("command"));
  BOOST_TEST(params.at("argv") == json::array({"printf", "%s", "a b"}));
}

BOOST_AUTO_TEST_CASE(corralctl_error_reply_exits_125,
                     *boost::unit_test::precondition(corralctl_available)) {
  std::vector<json::object> requests;
  fake_server server{serve(
      {{"exec.run", error_body("session s-9 not found", "SESSION_NOT_FOUND")}},
      requests)};
  auto output = run_corralctl(
      {"--connect", address_of(server), "exec", "s-9", "--", "true"});
  BOOST_TEST(output.status == 125);
  BOOST_TEST(output.out == "");
  BOOST_TEST(output.err ==
             "corralctl: session s-9 not found (SESSION_NOT_FOUND)\n");
}

BOOST_AUTO_TEST_CASE(corralctl_run_destroys_failed_session,
                     *boost::unit_test::precondition(corralctl_available)) {
  std::vector<json::object> requests;
  {
    fake_server server{
        serve({{"session.create", result_body({{"session", "s-7"}})},
               {"exec.run", error_body("cannot start", "SPAWN_FAILED")},
               {"session.destroy", result_body({{"destroyed", "s-7"}})}},
              requests)};
    auto output = run_corralctl({"--connect", address_of(server), "run",
                                 "--stdin", "text", "--", "/no/such"});
    BOOST_TEST(output.status == 125);
    BOOST_TEST(output.err == "corralctl: cannot start (SPAWN_FAILED)\n");
  }
  std::vector<std::string> methods;
  for (const auto& request : requests)
    methods.emplace_back(request.at("method").as_string());
  const std::vector<std::string> expected = {"session.create", "exec.run",
                                             "session.destroy"};
  BOOST_TEST(methods == expected, boost::test_tools::per_element());
  BOOST_REQUIRE(requests.size() == 3u);
  BOOST_TEST(requests[2].at("params").at("session").as_string() == "s-7");
  BOOST_TEST(requests[1].at("params").at("stdin_base64").as_string() ==
             corral::protocol::base64_encode("text"));
}

BOOST_AUTO_TEST_CASE(corralctl_interrupt_cancels_command,
                     *boost::unit_test::precondition(corralctl_available)) {
  std::atomic<pid_t> corralctl{0};
  std::mutex mutex;
  std::condition_variable cancel_arrived;
  bool cancelled = false;
  std::vector<json::object> requests;
  auto script = [&](server_peer& peer) {
    while (auto line = peer.read_line()) {
      auto request = json::parse(*line).as_object();
      std::string method{request.at("method").as_string()};
      json::object body;
      std::unique_lock<std::mutex> lock{mutex};
      requests.push_back(request);
      if (method == "session.create") {
        body = result_body({{"session", "s-5"}});
      } else if (method == "exec.run") {
        // The request is out, so corralctl now turns SIGINT into a cancel.
        ::kill(corralctl.load(), SIGINT);
        cancel_arrived.wait_for(lock, std::chrono::milliseconds{patience_ms},
                                [&] { return cancelled; });
        body = result_body(exec_result({{"exit_code", nullptr},
                                        {"signal", "SIGTERM"},
                                        {"reason", "cancelled"}}));
      } else if (method == "exec.cancel") {
        cancelled = true;
        cancel_arrived.notify_all();
        body = result_body({{"cancelled", "s-5"}});
      } else {
        body = result_body({{"destroyed", "s-5"}});
      }
      lock.unlock();
      peer.write(reply_text(request.at("id"), std::move(body)));
    }
  };
  program_output output;
  {
    fake_server server{script, false, 2};
    output = run_corralctl(
        {"--connect", address_of(server), "run", "--", "sleep", "100"}, "",
        &corralctl);
  }
  BOOST_TEST(output.status == 128 + SIGTERM);
  BOOST_TEST(output.err.find("command was cancelled (reason: cancelled)") !=
                 std::string::npos,
             "stderr: " << output.err);
  std::vector<std::string> methods;
  for (const auto& request : requests)
    methods.emplace_back(request.at("method").as_string());
  const std::vector<std::string> expected = {"session.create", "exec.run",
                                             "exec.cancel", "session.destroy"};
  BOOST_TEST(methods == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(corralctl_session_create_prints_id,
                     *boost::unit_test::precondition(corralctl_available)) {
  std::vector<json::object> requests;
  {
    fake_server server{
        serve({{"session.create",
                result_body({{"session", "s-4"}, {"cwd", "/tmp"}})}},
              requests)};
    auto output = run_corralctl({"--connect", address_of(server), "session",
                                 "create", "--cwd", "/var", "--env", "K=v"});
    BOOST_TEST(output.status == 0);
    BOOST_TEST(output.out == "s-4\n");
  }
  BOOST_REQUIRE(requests.size() == 1u);
  BOOST_TEST(requests[0].at("params").at("cwd").as_string() == "/var");
  BOOST_TEST(requests[0].at("params").at("env").at("K").as_string() == "v");
}

BOOST_AUTO_TEST_CASE(corralctl_session_list_is_table,
                     *boost::unit_test::precondition(corralctl_available)) {
  std::vector<json::object> requests;
  fake_server server{
      serve({{"session.list", result_body({{"sessions",
                                            {{{"session", "s-1"},
                                              {"cwd", "/tmp"},
                                              {"busy", false},
                                              {"commands_run", 2},
                                              {"age_s", 12.0},
                                              {"idle_s", 3.0}}}}})}},
            requests)};
  auto output =
      run_corralctl({"--connect", address_of(server), "session", "list"});
  BOOST_TEST(output.status == 0);
  BOOST_TEST(output.out ==
             "SESSION  BUSY  COMMANDS  AGE_S  IDLE_S  CWD\n"
             "s-1      no    2         12.0   3.0     /tmp\n");
}

BOOST_AUTO_TEST_CASE(corralctl_json_prints_raw_result,
                     *boost::unit_test::precondition(corralctl_available)) {
  json::object stats = {{"sessions", 1}, {"rejections", {{"SESSION_BUSY", 2}}}};
  std::vector<json::object> requests;
  fake_server server{serve({{"system.stats", result_body(stats)}}, requests)};
  auto output =
      run_corralctl({"--connect", address_of(server), "--json", "stats"});
  BOOST_TEST(output.status == 0);
  BOOST_TEST(json::parse(output.out) == json::value(stats));
}

BOOST_AUTO_TEST_CASE(corralctl_stats_is_aligned_text,
                     *boost::unit_test::precondition(corralctl_available)) {
  json::object stats = {{"sessions", 1},
                        {"draining", false},
                        {"rejections", {{"SESSION_BUSY", 2}}}};
  std::vector<json::object> requests;
  fake_server server{serve({{"system.stats", result_body(stats)}}, requests)};
  auto output = run_corralctl({"--connect", address_of(server), "stats"});
  BOOST_TEST(output.status == 0);
  BOOST_TEST(output.out ==
             "sessions                 1\n"
             "draining                 no\n"
             "rejections.SESSION_BUSY  2\n");
}

BOOST_AUTO_TEST_CASE(corralctl_connection_refused_exits_125,
                     *boost::unit_test::precondition(corralctl_available)) {
  auto address = "127.0.0.1:" + std::to_string(closed_port());
  auto output = run_corralctl({"--connect", address, "ping"});
  BOOST_TEST(output.status == 125);
  BOOST_TEST(
      output.err.find("cannot connect to " + address) != std::string::npos,
      "stderr: " << output.err);
}

BOOST_AUTO_TEST_CASE(corralctl_usage_errors_exit_125,
                     *boost::unit_test::precondition(corralctl_available)) {
  const std::vector<std::string> cases[] = {
      {},
      {"frobnicate"},
      {"exec", "s-1", "ls"},
      {"exec", "--", "ls"},
      {"run", "--stdin", "a", "--stdin-file", "-", "--", "cat"},
      {"run", "--timeout", "-1", "--", "true"},
      {"run", "--env", "NOEQUALS", "--", "true"},
      {"session", "destroy"},
      {"--connect", "nonsense", "ping"},
  };
  for (const auto& args : cases) {
    std::string words;
    for (const auto& arg : args) words += " " + arg;
    BOOST_TEST_CONTEXT("arguments:" << words) {
      auto output = run_corralctl(args);
      BOOST_TEST(output.status == 125);
      BOOST_TEST(output.err.find("corralctl --help") != std::string::npos,
                 "stderr: " << output.err);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
