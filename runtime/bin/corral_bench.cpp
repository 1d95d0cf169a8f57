// corral-bench: measures a real corrald against baselines taken in the same
// run, and prints the results as a Markdown table.
//
// It starts its own corrald on 127.0.0.1 with an ephemeral port (so it
// has the daemon's pid for the memory reading), then measures:
// - system.ping round trip on one connection, and throughput on 1 and 16;
// - exec.run of `true` through `/bin/sh -c` against posix_spawn of the
//   same shell command by this program;
// - 16 sessions running commands at once against 16 threads spawning
//   directly;
// - the daemon's resident memory with 1,000 idle sessions.
//
// Usage: corral-bench [--corrald PATH] [--quick] [-- CORRALD-FLAGS...]

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "runtime/client.hpp"

extern char** environ;

namespace json = boost::json;
using bench_clock = std::chrono::steady_clock;

namespace {

struct sample_stats {
  double mean_us = 0;
  double p50_us = 0;
  double p99_us = 0;
};

sample_stats summarize(std::vector<double> samples) {
  sample_stats stats;
  if (samples.empty())
    return stats;
  std::sort(samples.begin(), samples.end());
  double total = 0;
  for (auto x : samples)
    total += x;
  stats.mean_us = total / samples.size();
  stats.p50_us = samples[samples.size() / 2];
  stats.p99_us =
      samples[std::min(samples.size() - 1, samples.size() * 99 / 100)];
  return stats;
}

double micros_since(bench_clock::time_point start) {
  return std::chrono::duration<double, std::micro>(bench_clock::now() - start)
      .count();
}

// The daemon under test, with its log sent to a file.
class daemon_process {
 public:
  daemon_process(const std::string& path, const std::string& directory,
                 const std::vector<std::string>& extra_args) {
    ready_ = directory + "/ready";
    auto log = directory + "/corrald.log";
    std::vector<std::string> args = {
        path, "--listen", "127.0.0.1:0", "--ready-file", ready_,
        "--max-sessions", "1100", "--max-commands", "64", "--max-connections",
        "64", "--log-level", "warn",
        // Every load generator thread connects from 127.0.0.1, one client
        // identity, and must not be throttled as one.
        "--max-sessions-per-client", "1100", "--rate-limit-per-sec", "0"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    std::vector<char*> argv;
    for (auto& arg : args)
      argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, STDERR_FILENO);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    for (int i = 0; i < 1000 && port_ == 0; ++i) {
      std::ifstream in{ready_};
      std::string address;
      if (in >> address)
        port_ = static_cast<std::uint16_t>(
            std::stoi(address.substr(address.rfind(':') + 1)));
      else
        std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
    if (port_ == 0)
      throw std::runtime_error("corrald did not start; see " + log);
  }

  ~daemon_process() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }

  corral::client connect() const {
    return corral::client::connect("127.0.0.1", port_, std::chrono::seconds{5});
  }

  long rss_kb() const {
    std::ifstream status{"/proc/" + std::to_string(pid_) + "/status"};
    std::string line;
    while (std::getline(status, line))
      if (line.rfind("VmRSS:", 0) == 0)
        return std::stol(line.substr(6));
    return -1;
  }

 private:
  std::string ready_;
  pid_t pid_ = 0;
  std::uint16_t port_ = 0;
};

// Spawns `/bin/sh -c true` and waits for it: the baseline for exec.run.
void spawn_directly() {
  pid_t pid = 0;
  char shell[] = "/bin/sh";
  char flag[] = "-c";
  char command[] = "true";
  char* argv[] = {shell, flag, command, nullptr};
  if (::posix_spawn(&pid, shell, nullptr, nullptr, argv, environ) != 0)
    throw std::runtime_error("posix_spawn failed");
  ::waitpid(pid, nullptr, 0);
}

std::string create_session(corral::client& client) {
  auto reply = client.call("session.create");
  return std::string{reply.at("result").at("session").as_string()};
}

void run_true(corral::client& client, const std::string& session) {
  auto reply =
      client.call("exec.run", {{"session", session}, {"command", "true"}});
  if (!reply.as_object().contains("result"))
    throw std::runtime_error("exec.run failed: " + json::serialize(reply));
}

// Runs `work(thread index)` on `threads` threads and returns the seconds
// it took for all of them.
template <class Work>
double parallel_seconds(int threads, Work work) {
  std::vector<std::thread> pool;
  auto start = bench_clock::now();
  for (int i = 0; i < threads; ++i)
    pool.emplace_back([&, i] { work(i); });
  for (auto& thread : pool)
    thread.join();
  return micros_since(start) / 1e6;
}

void print_row(const std::string& what, const std::string& corral,
               const std::string& baseline, const std::string& ratio) {
  std::cout << "| " << what << " | " << corral << " | " << baseline << " | "
            << ratio << " |\n";
}

std::string format(double value, const char* unit) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.1f %s", value, unit);
  return buffer;
}

std::string format_ratio(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2fx", value);
  return buffer;
}

}  // namespace

int main(int argc, char** argv) {
  std::string corrald;
  bool quick = false;
  std::vector<std::string> daemon_args;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") {
      daemon_args.assign(argv + i + 1, argv + argc);
      break;
    }
    if (arg == "--corrald" && i + 1 < argc) {
      corrald = argv[++i];
    } else if (arg == "--quick") {
      quick = true;
    } else {
      std::cerr << "usage: corral-bench [--corrald PATH] [--quick] "
                   "[-- CORRALD-FLAGS...]\n";
      return 2;
    }
  }
  if (corrald.empty()) {
    // By default the corrald built next to this program.
    std::string self = argv[0];
    auto slash = self.rfind('/');
    corrald =
        (slash == std::string::npos ? "." : self.substr(0, slash)) + "/corrald";
  }
  char pattern[] = "/tmp/corral-bench-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) {
    std::perror("corral-bench: mkdtemp");
    return 1;
  }

  const int pings = quick ? 500 : 5000;
  const int commands = quick ? 100 : 500;
  const int per_thread = quick ? 20 : 100;
  const int idle_sessions = 1000;

  try {
    daemon_process daemon{corrald, pattern, daemon_args};
    auto client = daemon.connect();

    std::cout << "| measurement | corral | baseline | corral / baseline |\n"
              << "|---|---|---|---|\n";

    // Ping round trip, one connection, one request at a time.
    std::vector<double> samples;
    for (int i = 0; i < pings; ++i) {
      auto start = bench_clock::now();
      client.call("system.ping");
      samples.push_back(micros_since(start));
    }
    auto ping = summarize(samples);
    print_row("system.ping round trip, p50 / p99",
              format(ping.p50_us, "us") + " / " + format(ping.p99_us, "us"),
              "-", "-");
    double single_rate = pings / (ping.mean_us * pings / 1e6);
    print_row("system.ping throughput, 1 connection",
              format(single_rate, "req/s"), "-", "-");

    // Ping throughput, 16 connections.
    auto seconds = parallel_seconds(16, [&](int) {
      auto own = daemon.connect();
      for (int i = 0; i < pings / 4; ++i)
        own.call("system.ping");
    });
    print_row("system.ping throughput, 16 connections",
              format(16.0 * (pings / 4) / seconds, "req/s"),
              format(single_rate, "req/s (1 connection)"),
              format_ratio(16.0 * (pings / 4) / seconds / single_rate));

    // exec.run of `true` against a direct spawn.
    auto session = create_session(client);
    samples.clear();
    for (int i = 0; i < commands; ++i) {
      auto start = bench_clock::now();
      run_true(client, session);
      samples.push_back(micros_since(start));
    }
    auto exec = summarize(samples);
    samples.clear();
    for (int i = 0; i < commands; ++i) {
      auto start = bench_clock::now();
      spawn_directly();
      samples.push_back(micros_since(start));
    }
    auto direct = summarize(samples);
    print_row("`sh -c true` round trip, p50", format(exec.p50_us, "us"),
              format(direct.p50_us, "us (posix_spawn + waitpid)"),
              format_ratio(exec.p50_us / direct.p50_us));
    print_row("`sh -c true` round trip, mean", format(exec.mean_us, "us"),
              format(direct.mean_us, "us"),
              format_ratio(exec.mean_us / direct.mean_us));

    // 16 sessions at once against 16 threads spawning directly.
    auto corral_seconds = parallel_seconds(16, [&](int) {
      auto own = daemon.connect();
      auto own_session = create_session(own);
      for (int i = 0; i < per_thread; ++i)
        run_true(own, own_session);
      own.call("session.destroy", {{"session", own_session}});
    });
    auto direct_seconds = parallel_seconds(16, [&](int) {
      for (int i = 0; i < per_thread; ++i)
        spawn_directly();
    });
    double corral_rate = 16.0 * per_thread / corral_seconds;
    double direct_rate = 16.0 * per_thread / direct_seconds;
    print_row("16 sessions running `true`, throughput",
              format(corral_rate, "cmd/s"),
              format(direct_rate, "cmd/s (16 threads spawning)"),
              format_ratio(corral_rate / direct_rate));

    // Memory with idle sessions.
    auto before = daemon.rss_kb();
    for (int i = 0; i < idle_sessions; ++i)
      create_session(client);
    auto after = daemon.rss_kb();
    print_row("daemon RSS with 1,000 idle sessions",
              format(after / 1024.0, "MiB"),
              format(before / 1024.0, "MiB (1 session)"),
              format((after - before) / static_cast<double>(idle_sessions),
                     "KiB per session"));
  } catch (const std::exception& error) {
    std::cerr << "corral-bench: " << error.what() << '\n';
    return 1;
  }
  std::remove((std::string{pattern} + "/corrald.log").c_str());
  std::remove((std::string{pattern} + "/ready").c_str());
  ::rmdir(pattern);
  return 0;
}
