// corrald: the corral daemon. Reads its configuration from flags and an
// optional JSON file, serves line-delimited JSON-RPC on TCP, and drains on
// SIGTERM or SIGINT: a second signal kills running commands at once.

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <thread>

#include "runtime/config.hpp"
#include "runtime/log.hpp"
#include "runtime/logging.hpp"
#include "runtime/runtime.hpp"

namespace {

// Writes "host:port" to `path` through a rename, so a reader never sees a
// partial address.
bool write_ready_file(const std::string& path, const std::string& address) {
  auto temporary = path + ".tmp";
  {
    std::ofstream out{temporary, std::ios::trunc};
    out << address << '\n';
    if (!out.flush())
      return false;
  }
  return std::rename(temporary.c_str(), path.c_str()) == 0;
}

std::string format_address(const std::string& host, std::uint16_t port) {
  if (host.find(':') != std::string::npos)
    return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

sigset_t termination_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  return signals;
}

int wait_for_signal(const sigset_t& signals) {
  int signal = 0;
  // sigwait(3) fails only for an invalid set, which this one is not.
  while (sigwait(&signals, &signal) != 0) {
  }
  return signal;
}

void log_settings(const corral::config& settings) {
  corral::log::info(
      "settings max_sessions={} max_commands={} max_connections={} "
      "default_timeout_s={} max_timeout_s={} max_output_bytes={} "
      "max_stdin_bytes={} max_request_bytes={} shell={} run_as={} "
      "limit_cpu_sec={} limit_memory_bytes={} limit_nproc={} limit_nofile={} "
      "drain_timeout_s={}",
      settings.max_sessions, settings.max_commands, settings.max_connections,
      settings.default_timeout_s, settings.max_timeout_s,
      settings.max_output_bytes, settings.max_stdin_bytes,
      settings.request_line_cap(), settings.shell,
      settings.run_as.empty() ? "-" : settings.run_as, settings.limit_cpu_sec,
      settings.limit_memory_bytes, settings.limit_nproc, settings.limit_nofile,
      settings.drain_timeout_s);
}

}  // namespace

int main(int argc, char** argv) {
  auto loaded = corral::load_config(argc, argv);
  if (loaded.show_help) {
    std::cout << loaded.help_text;
    return 0;
  }
  if (loaded.show_version) {
    std::cout << "corrald " << CORRAL_VERSION << '\n';
    return 0;
  }
  if (!loaded.errors.empty()) {
    for (const auto& error : loaded.errors)
      std::cerr << "corrald: " << error << '\n';
    std::cerr << "corrald: invalid configuration; see corrald --help\n";
    return 2;
  }
  auto settings = loaded.values;
  corral::setup_logging(settings.log_level);

  // Blocked before any thread starts, so every thread inherits the mask and
  // the signals wait for sigwait below instead of killing the process.
  auto signals = termination_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  caf::actor_system_config caf_config;
  caf_config.load<caf::io::middleman>();
  caf::actor_system system{caf_config};

  auto started = corral::runtime::start(system, settings);
  if (!started) {
    corral::log::error("start-up failed: {}", system.render(started.error()));
    return 1;
  }
  auto& runtime = **started;
  auto port = runtime.listen();
  if (!port) {
    corral::log::error(
        "cannot listen on {}: {}; another program may use the port: pick "
        "another with --listen HOST:PORT (port 0 picks a free one)",
        format_address(settings.listen_host, settings.listen_port),
        system.render(port.error()));
    return 1;
  }
  auto address = format_address(settings.listen_host, *port);
  corral::log::info("corrald {} listening on {} pid={}", CORRAL_VERSION,
                    address, ::getpid());
  log_settings(settings);
  if (!settings.ready_file.empty() &&
      !write_ready_file(settings.ready_file, address)) {
    corral::log::error("cannot write ready file {}: {}", settings.ready_file,
                       std::strerror(errno));
    runtime.stop();
    return 1;
  }

  auto first = wait_for_signal(signals);
  corral::log::info(
      "received {}; draining (a second signal kills running "
      "commands at once)",
      strsignal(first));
  std::atomic<bool> drained{false};
  std::thread second_signal{[&] {
    timespec poll_interval{0, 200 * 1000 * 1000};
    while (!drained) {
      if (sigtimedwait(&signals, nullptr, &poll_interval) > 0) {
        corral::log::info("second signal; killing running commands now");
        runtime.hurry();
      }
    }
  }};
  runtime.drain();
  drained = true;
  second_signal.join();
  runtime.stop();
  if (!settings.ready_file.empty())
    ::unlink(settings.ready_file.c_str());
  corral::log::info("corrald stopped");
  return 0;
}
