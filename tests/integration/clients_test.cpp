// Client identity and per-client protection against a real corrald: token
// login, session ownership, per-client limits, rate limits, idle expiry,
// connection timers and the refusal to serve other hosts without tokens.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "integration/daemon.hpp"

namespace json = boost::json;
using namespace corral::testing;
using namespace std::chrono_literals;

namespace {

const std::string alice_token = "alice-token-0123456789abcdef";
const std::string bob_token = "bob-token-0123456789abcdef";

// A token file for alice and bob in its own directory, mode 0600, removed
// at the end of the test.
class token_file {
 public:
  explicit token_file(mode_t mode = 0600) {
    char pattern[] = "/tmp/corral-tokens-XXXXXX";
    BOOST_REQUIRE(::mkdtemp(pattern) != nullptr);
    directory_ = pattern;
    path_ = directory_ + "/tokens";
    {
      std::ofstream out{path_};
      out << "# clients of the test daemon\n\n"
          << "alice " << alice_token << "\n"
          << "bob   " << bob_token << "\n";
    }
    BOOST_REQUIRE(::chmod(path_.c_str(), mode) == 0);
  }

  ~token_file() {
    std::remove(path_.c_str());
    std::remove((directory_ + "/alice").c_str());
    ::rmdir(directory_.c_str());
  }

  const std::string& path() const { return path_; }

  // Writes alice's token alone to a file next to the token file, the form
  // corralctl --token-file reads.
  std::string write_client_token() const {
    auto path = directory_ + "/alice";
    std::ofstream{path} << alice_token << "\n";
    BOOST_REQUIRE(::chmod(path.c_str(), 0600) == 0);
    return path;
  }

 private:
  std::string directory_;
  std::string path_;
};

corral::client login(const daemon_process& corrald, const std::string& token) {
  auto client = corrald.connect();
  client.set_timeout(10s);
  auto reply = client.call("auth.login", {{"token", token}});
  BOOST_REQUIRE_MESSAGE(error_name(reply).empty(),
                        "login failed: " << json::serialize(reply));
  return client;
}

std::string message_of(const json::value& reply) {
  return std::string{reply.at("error").at("message").as_string()};
}

std::string replace_all(std::string text, const std::string& from,
                        const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

// Polls `condition` until it is true or `limit` passes. Returns its last
// value.
template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition())
      return true;
    std::this_thread::sleep_for(50ms);
  }
  return condition();
}

// Returns true when the daemon closed `client`'s connection within `limit`.
bool closed_within(corral::client& client, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    auto line = client.read_line(100ms);
    if (!line && client.eof())
      return true;
  }
  return false;
}

// A plain TCP socket, for sending bytes without a newline.
class raw_socket {
 public:
  explicit raw_socket(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    BOOST_REQUIRE(fd_ >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    BOOST_REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&address),
                            sizeof address) == 0);
  }

  ~raw_socket() { ::close(fd_); }

  // Returns false once the peer has closed the connection.
  bool send_byte(char byte) { return ::send(fd_, &byte, 1, MSG_NOSIGNAL) == 1; }

  // Returns true when the peer closed the connection: a read returns 0 or
  // fails with a reset.
  bool peer_closed() {
    char buffer[256];
    auto count = ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
    return count == 0 || (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }

 private:
  int fd_ = -1;
};

// Runs `command` in a shell and returns its exit status and output.
std::pair<int, std::string> run_shell(const std::string& command) {
  auto* pipe = ::popen(command.c_str(), "r");
  BOOST_REQUIRE(pipe != nullptr);
  std::string output;
  char buffer[512];
  while (auto read = ::fread(buffer, 1, sizeof buffer, pipe))
    output.append(buffer, read);
  auto status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// Runs corrald with `args` and returns its exit status and output.
std::pair<int, std::string> run_corrald(const std::string& args) {
  return run_shell(program_path("CORRALD") + " " + args + " 2>&1");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(clients)

BOOST_AUTO_TEST_CASE(login_required_before_requests) {
  token_file tokens;
  daemon_process corrald{{"--auth-tokens-file", tokens.path()}};
  auto client = corrald.connect();

  const char* methods[] = {"system.ping", "system.stats", "session.create",
                           "session.list"};
  for (const auto* method : methods) {
    BOOST_TEST_CONTEXT("method " << method) {
      BOOST_TEST(error_name(client.call(method)) == "UNAUTHORIZED");
    }
  }
  auto wrong = client.call("auth.login", {{"token", "not-a-token-at-all"}});
  BOOST_TEST(error_name(wrong) == "UNAUTHORIZED");
  BOOST_TEST(wrong.at("error").at("code").as_int64() == -32011);

  auto reply = client.call("auth.login", {{"token", alice_token}});
  BOOST_TEST(result_of(reply).at("client").as_string() == "alice");
  BOOST_TEST(result_of(client.call("system.ping")).at("pong").as_bool());
  // The session.create sent before the login created nothing.
  auto list = result_of(client.call("session.list"));
  BOOST_TEST(list.at("sessions").as_array().empty());

  auto log = corrald.log();
  BOOST_TEST(log.find(alice_token) == std::string::npos);
  BOOST_TEST(log.find("not-a-token-at-all") == std::string::npos);
  BOOST_TEST(log.find("login failed") != std::string::npos);
  BOOST_TEST(log.find("client logged in") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(failed_logins_close_connection) {
  token_file tokens;
  daemon_process corrald{{"--auth-tokens-file", tokens.path()}};
  auto client = corrald.connect();
  client.set_timeout(10s);
  // A prefix of a valid token and a valid token with an extra byte are
  // wrong too.
  const std::string wrong_tokens[] = {
      alice_token.substr(0, alice_token.size() - 1), alice_token + "x",
      bob_token + alice_token, "x", std::string(64, 'a')};
  for (const auto& token : wrong_tokens) {
    BOOST_TEST_CONTEXT("token " << token) {
      auto reply = client.call("auth.login", {{"token", token}});
      BOOST_TEST(error_name(reply) == "UNAUTHORIZED");
    }
  }
  BOOST_TEST(closed_within(client, 5s));
  // Five failures in well under a second log one line; the rest are
  // suppressed.
  auto log = corrald.log();
  auto first = log.find("login failed");
  BOOST_TEST(first != std::string::npos);
  BOOST_TEST(log.find("login failed", first + 1) == std::string::npos);
  BOOST_TEST(log.find("too many failed logins") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(other_client_cannot_reach_sessions) {
  token_file tokens;
  daemon_process corrald{{"--auth-tokens-file", tokens.path()}};
  auto alice = login(corrald, alice_token);
  auto bob = login(corrald, bob_token);
  auto session = create_session(alice);
  auto missing = std::string{"s-999"};

  auto bob_list = result_of(bob.call("session.list"));
  BOOST_TEST(bob_list.at("sessions").as_array().empty());

  struct foreign_case {
    const char* method;
    json::object extra;
  };
  const foreign_case cases[] = {
      {"exec.run", {{"command", "echo intruder"}}},
      {"exec.cancel", {}},
      {"session.destroy", {}},
  };
  for (const auto& test : cases) {
    BOOST_TEST_CONTEXT("method " << test.method) {
      auto foreign = test.extra;
      foreign["session"] = session;
      auto absent = test.extra;
      absent["session"] = missing;
      auto foreign_reply = bob.call(test.method, foreign);
      auto absent_reply = bob.call(test.method, absent);
      BOOST_TEST(error_name(foreign_reply) == "SESSION_NOT_FOUND");
      BOOST_TEST(error_name(absent_reply) == "SESSION_NOT_FOUND");
      BOOST_TEST(replace_all(message_of(foreign_reply), session, "ID") ==
                 replace_all(message_of(absent_reply), missing, "ID"));
    }
  }
  // Alice's session is untouched and still hers.
  auto result = result_of(run(alice, session, "echo mine"));
  BOOST_TEST(result.at("stdout").as_string() == "mine\n");
  auto alice_list = result_of(alice.call("session.list"));
  BOOST_TEST(alice_list.at("sessions").as_array().size() == 1u);
}

BOOST_AUTO_TEST_CASE(sessions_survive_reconnect) {
  token_file tokens;
  daemon_process corrald{{"--auth-tokens-file", tokens.path()}};
  std::string session;
  {
    auto alice = login(corrald, alice_token);
    session = create_session(alice);
    result_of(run(alice, session, "export KEPT=yes"));
  }
  auto alice = login(corrald, alice_token);
  auto list = result_of(alice.call("session.list"));
  BOOST_TEST(list.at("sessions").as_array().size() == 1u);
  auto result = result_of(run(alice, session, "echo $KEPT"));
  BOOST_TEST(result.at("stdout").as_string() == "yes\n");
}

BOOST_AUTO_TEST_CASE(address_identity_without_tokens) {
  daemon_process corrald;
  std::string session;
  {
    auto first = corrald.connect();
    session = create_session(first);
  }
  // A new connection comes from another port but the same address.
  auto second = corrald.connect();
  auto login_reply = second.call("auth.login", {{"token", "ignored-token"}});
  BOOST_TEST(result_of(login_reply).at("client").as_string() == "127.0.0.1");
  auto result = result_of(run(second, session, "echo same"));
  BOOST_TEST(result.at("stdout").as_string() == "same\n");
  auto stats = result_of(second.call("system.stats"));
  BOOST_TEST(stats.at("clients").at("127.0.0.1").at("sessions").as_int64() ==
             1);
}

BOOST_AUTO_TEST_CASE(client_session_limit_per_client) {
  token_file tokens;
  daemon_process corrald{
      {"--auth-tokens-file", tokens.path(), "--max-sessions-per-client", "2"}};
  auto alice = login(corrald, alice_token);
  auto bob = login(corrald, bob_token);
  create_session(alice);
  create_session(alice);
  auto reply = alice.call("session.create");
  BOOST_TEST(error_name(reply) == "CLIENT_SESSION_LIMIT");
  const auto& data = reply.at("error").at("data");
  BOOST_TEST(data.at("max_sessions_per_client").as_int64() == 2);
  BOOST_TEST(data.at("sessions").as_int64() == 2);
  BOOST_TEST(reply.at("error").at("code").as_int64() == -32012);
  // Another client still has its own allowance.
  create_session(bob);

  auto stats = result_of(bob.call("system.stats"));
  const auto& clients = stats.at("clients");
  BOOST_TEST(clients.at("alice").at("sessions").as_int64() == 2);
  BOOST_TEST(clients.at("bob").at("sessions").as_int64() == 1);
  BOOST_TEST(clients.at("alice")
                 .at("rejections")
                 .at("CLIENT_SESSION_LIMIT")
                 .as_int64() == 1);
}

BOOST_AUTO_TEST_CASE(rate_limit_gives_retry_hint) {
  token_file tokens;
  daemon_process corrald{{"--auth-tokens-file", tokens.path(),
                          "--rate-limit-per-sec", "5", "--rate-limit-burst",
                          "5"}};
  auto alice = login(corrald, alice_token);
  auto bob = login(corrald, bob_token);

  int limited = 0;
  std::int64_t retry_after_ms = 0;
  for (int i = 0; i < 10; ++i) {
    auto reply = alice.call("system.ping");
    if (error_name(reply) == "RATE_LIMITED") {
      ++limited;
      retry_after_ms =
          reply.at("error").at("data").at("retry_after_ms").as_int64();
    }
  }
  // A burst of 5 and 5 a second: 10 pings within far less than a second
  // get at least 4 rejections.
  BOOST_TEST(limited >= 4);
  BOOST_TEST(retry_after_ms > 0);
  BOOST_TEST(retry_after_ms <= 200);
  // Another client has its own bucket.
  BOOST_TEST(error_name(bob.call("system.ping")).empty());

  std::this_thread::sleep_for(std::chrono::milliseconds{retry_after_ms + 50});
  BOOST_TEST(error_name(alice.call("system.ping")).empty());

  auto stats = result_of(bob.call("system.stats"));
  auto counted =
      stats.at("clients").at("alice").at("rejections").at("RATE_LIMITED");
  BOOST_TEST(counted.as_int64() == limited);
}

BOOST_AUTO_TEST_CASE(idle_session_expires_with_processes) {
  daemon_process corrald{{"--max-idle-sec", "1", "--sweep-interval-ms", "200"}};
  auto client = corrald.connect();
  auto idle = create_session(client);
  auto busy = create_session(client);
  auto started = result_of(run(client, idle, "sleep 30 & echo $!"));
  auto background = std::stoi(std::string{started.at("stdout").as_string()});
  BOOST_REQUIRE(process_alive(background));

  // A command that runs longer than the idle limit keeps its session.
  auto result = result_of(run(client, busy, "sleep 2; echo done"));
  BOOST_TEST(result.at("stdout").as_string() == "done\n");

  BOOST_TEST(eventually([&] { return !process_alive(background); }, 5s));
  auto reply = run(client, idle, "true");
  BOOST_TEST(error_name(reply) == "SESSION_NOT_FOUND");
  auto log = corrald.log();
  BOOST_TEST(log.find("session expired session=" + idle) != std::string::npos);
  BOOST_TEST(log.find("idle_s=") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(requested_idle_lowers_limit) {
  daemon_process corrald{{"--sweep-interval-ms", "200"}};
  auto client = corrald.connect();
  auto short_lived = create_session(client, {{"idle_s", 1}});
  auto kept = create_session(client);
  std::this_thread::sleep_for(1600ms);
  BOOST_TEST(error_name(run(client, short_lived, "true")) ==
             "SESSION_NOT_FOUND");
  BOOST_TEST(error_name(run(client, kept, "true")).empty());
  auto invalid = client.call("session.create", {{"idle_s", 0}});
  BOOST_TEST(error_name(invalid) == "INVALID_PARAMS");
}

BOOST_AUTO_TEST_CASE(slow_sender_cut_off_others_served) {
  daemon_process corrald{{"--max-partial-line-ms", "1500"}};
  raw_socket slow{corrald.port()};
  auto fast = corrald.connect();
  fast.set_timeout(5s);

  const std::string request = R"({"id":1,"method":"system.ping"})";
  auto start = std::chrono::steady_clock::now();
  bool cut_off = false;
  for (std::size_t i = 0; i < request.size() && !cut_off; ++i) {
    if (!slow.send_byte(request[i]) || slow.peer_closed()) {
      cut_off = true;
      break;
    }
    BOOST_TEST(error_name(fast.call("system.ping")).empty());
    std::this_thread::sleep_for(1s);
  }
  cut_off = cut_off || eventually([&] { return slow.peer_closed(); }, 2s);
  auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
  BOOST_TEST(cut_off);
  BOOST_TEST(elapsed_ms < 5000);
  BOOST_TEST(error_name(fast.call("system.ping")).empty());
  BOOST_TEST(corrald.log().find("incomplete request line") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(login_timeout_closes_silent_connection) {
  token_file tokens;
  daemon_process corrald{
      {"--auth-tokens-file", tokens.path(), "--login-timeout-ms", "500"}};
  auto silent = corrald.connect();
  auto alice = login(corrald, alice_token);
  BOOST_TEST(closed_within(silent, 3s));
  // The logged-in connection outlives the timeout.
  std::this_thread::sleep_for(600ms);
  BOOST_TEST(error_name(alice.call("system.ping")).empty());
  BOOST_TEST(corrald.log().find("no valid request in time") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(corralctl_logs_in_with_token) {
  token_file tokens;
  daemon_process corrald{{"--auth-tokens-file", tokens.path()}};
  auto corralctl = program_path("CORRALCTL") +
                   " --connect 127.0.0.1:" + std::to_string(corrald.port());

  auto [refused, refused_output] =
      run_shell("env -u CORRAL_TOKEN " + corralctl + " ping 2>&1");
  BOOST_TEST(refused == 125);
  BOOST_TEST(refused_output.find("UNAUTHORIZED") != std::string::npos);

  auto token_path = tokens.write_client_token();
  auto [from_file, file_output] =
      run_shell(corralctl + " --token-file " + token_path + " ping 2>&1");
  BOOST_TEST(from_file == 0, "output: " << file_output);

  auto [from_environment, environment_output] =
      run_shell("CORRAL_TOKEN=" + alice_token + " " + corralctl + " ping 2>&1");
  BOOST_TEST(from_environment == 0, "output: " << environment_output);
}

BOOST_AUTO_TEST_CASE(remote_listen_without_tokens_refused) {
  // Validation fails before the daemon binds, so nothing ever listens on
  // 0.0.0.0.
  auto [status, output] = run_corrald("--listen 0.0.0.0:0");
  BOOST_TEST(status != 0);
  BOOST_TEST(output.find("not loopback") != std::string::npos);
  BOOST_TEST(output.find("--auth-tokens-file") != std::string::npos);
  BOOST_TEST(output.find("--allow-unauthenticated-remote") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(readable_token_file_refused) {
  token_file tokens{0644};
  auto [status, output] = run_corrald("--auth-tokens-file " + tokens.path());
  BOOST_TEST(status != 0);
  BOOST_TEST(output.find(tokens.path()) != std::string::npos);
  BOOST_TEST(output.find("chmod 600") != std::string::npos);
  BOOST_TEST(output.find(alice_token) == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
