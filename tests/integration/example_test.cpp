// The example programs, run as a user would run them.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "integration/daemon.hpp"

namespace json = boost::json;

BOOST_AUTO_TEST_SUITE(examples)

BOOST_AUTO_TEST_CASE(custom_methods_answer_over_tcp) {
  auto program = corral::testing::program_path("EXAMPLE_CUSTOM_METHODS");
  char pattern[] = "/tmp/corral-example-XXXXXX";
  BOOST_REQUIRE(::mkdtemp(pattern) != nullptr);
  std::string ready = std::string{pattern} + "/ready";

  auto pid = ::fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0) {
    ::execl(program.c_str(), program.c_str(), "127.0.0.1:0", ready.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::string address;
  for (int i = 0; i < 500 && address.empty(); ++i) {
    std::ifstream{ready} >> address;
    if (address.empty())
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  BOOST_REQUIRE_MESSAGE(!address.empty(), "the example did not start");
  auto port = static_cast<std::uint16_t>(
      std::stoi(address.substr(address.rfind(':') + 1)));

  {
    auto client =
        corral::client::connect("127.0.0.1", port, std::chrono::seconds{5});
    auto stored = client.call("kv.set", {{"key", "a"}, {"value", "1"}});
    BOOST_TEST(stored.at("result").at("stored").as_string() == "a");
    auto value = client.call("kv.get", {{"key", "a"}});
    BOOST_TEST(value.at("result").at("value").as_string() == "1");
    auto pong = client.call("system.ping");
    BOOST_TEST(pong.at("result").at("pong").as_bool());
  }

  ::kill(pid, SIGTERM);
  int status = 0;
  for (int i = 0; i < 500; ++i) {
    if (::waitpid(pid, &status, WNOHANG) == pid)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 0);
  std::remove(ready.c_str());
  ::rmdir(pattern);
}

BOOST_AUTO_TEST_SUITE_END()
