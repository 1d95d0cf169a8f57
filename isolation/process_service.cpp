#include "isolation/process_service.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <exception>
#include <new>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>

#include "isolation/launcher.hpp"
#include "isolation/reaper.hpp"
#include "isolation/running_process.hpp"
#include "runtime/log.hpp"

namespace corral::isolation {

namespace asio = boost::asio;

namespace {

// Period of the sweep that reaps orphans reparented to this subreaper.
constexpr std::chrono::seconds sweep_interval{1};

// How long the shutdown keeps reaping the members of killed process groups.
constexpr std::chrono::milliseconds shutdown_reap_limit{200};

}  // namespace

struct process_service::impl {
  // Declared first so that it is destroyed last: the processes and timers
  // below use it.
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work =
      asio::make_work_guard(io);
  asio::steady_timer sweep_timer{io};

  // Every process from its launch until its outcome is reported.
  std::unordered_map<running_process*, std::shared_ptr<running_process>> active;
  // The processes of `active` that are not reaped yet, by pid.
  std::unordered_map<pid_t, std::shared_ptr<running_process>> unreaped;

  std::atomic<bool> stopping{false};
  std::atomic<std::uint64_t> running{0};
  std::atomic<std::uint64_t> started{0};
  std::atomic<std::uint64_t> spawn_failures{0};
  std::atomic<std::uint64_t> orphans_reaped{0};

  std::thread thread;

  void run();
  void launch(launch_spec spec, started_handler on_started,
              finished_handler on_finished);
  void schedule_sweep();
  void sweep();
  void dispatch_reaped(const reaped_child& child);
  void shutdown();
};

void process_service::impl::run() {
  for (;;) {
    try {
      io.run();
      return;
    } catch (const std::exception& error) {
      // A handler threw; the loop keeps serving the other processes.
      log::error("process service handler threw: {}", error.what());
    } catch (...) {
      log::error("process service handler threw a non-standard exception");
    }
  }
}

void process_service::impl::launch(launch_spec spec, started_handler on_started,
                                   finished_handler on_finished) {
  if (stopping) {
    return;
  }
  auto started_at = std::chrono::steady_clock::now();
  launch_result result;
  try {
    result = launch_process(spec);
  } catch (const std::bad_alloc&) {
    // Preparing arguments, environment and labels allocates, and nothing
    // was forked yet.
    result.error = launch_error{"prepare launch of " + spec.program, ENOMEM};
  }

  if (result.error) {
    ++spawn_failures;
    if (result.failed_pid > 0) {
      // The child called _exit before vfork returned here, so it is a
      // zombie already or within microseconds, and this wait is short.
      // Boost may have reaped it already, and then this returns at once.
      reap_blocking(result.failed_pid);
    }
    if (on_started && !stopping) {
      on_started(0, std::move(result.error));
    }
    return;
  }

  pid_t pid = result.process->pid;
  running_process::callbacks callbacks;
  callbacks.exited = [this](running_process& process) {
    unreaped.erase(process.pid());
    --running;
  };
  callbacks.finished = [this, on_finished = std::move(on_finished)](
                           running_process& process, process_outcome outcome) {
    // Erasing may drop the last owner other than the caller's own
    // reference, which keeps the process alive until it returns.
    active.erase(&process);
    if (on_finished && !stopping) {
      on_finished(std::move(outcome));
    }
  };
  auto process = std::make_shared<running_process>(
      io, std::move(*result.process), std::move(spec), started_at,
      std::move(callbacks));
  active.emplace(process.get(), process);
  unreaped.emplace(pid, process);
  ++started;
  ++running;

  process->start();
  if (on_started && !stopping) {
    on_started(pid, std::nullopt);
  }
}

void process_service::impl::schedule_sweep() {
  sweep_timer.expires_after(sweep_interval);
  sweep_timer.async_wait([this](const boost::system::error_code& error) {
    if (error || stopping) {
      return;
    }
    sweep();
    schedule_sweep();
  });
}

void process_service::impl::sweep() {
  reaped_child child;
  while (try_reap_any(child) == reap_state::reaped) {
    dispatch_reaped(child);
  }
}

void process_service::impl::dispatch_reaped(const reaped_child& child) {
  auto found = unreaped.find(child.pid);
  if (found == unreaped.end()) {
    ++orphans_reaped;
    return;
  }
  // The copy keeps the process alive while it removes itself.
  std::shared_ptr<running_process> process = found->second;
  process->handle_reaped(child);
}

void process_service::impl::shutdown() {
  sweep_timer.cancel();
  for (auto& [key, process] : active) {
    pid_t pid = process->pid();
    // The group may still contain background children after the leader
    // was reaped. A leader that left its group is signaled directly.
    signal_process_group(pid, SIGKILL);
    if (!process->reaped()) {
      ::kill(pid, SIGKILL);
      reap_blocking(pid);
      --running;
    }
    process->abandon();
  }
  active.clear();
  unreaped.clear();

  // Members of the killed groups are reparented here as they die. Reap
  // them for a short while so they do not stay zombies.
  auto deadline = std::chrono::steady_clock::now() + shutdown_reap_limit;
  reaped_child child;
  while (std::chrono::steady_clock::now() < deadline) {
    reap_state state = try_reap_any(child);
    if (state == reap_state::gone) {
      break;
    }
    if (state == reap_state::reaped) {
      ++orphans_reaped;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

  work.reset();
  io.stop();
}

process_service::process_service() : impl_(std::make_unique<impl>()) {
  // Orphaned descendants of commands are reparented to this process
  // instead of init, so the sweep reaps them.
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    log::warn("prctl PR_SET_CHILD_SUBREAPER failed error=\"{}\"",
              std::system_category().message(errno));
  }
  // Writing stdin to a command that already exited must fail with EPIPE
  // instead of killing the daemon. The child resets this before execve.
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, nullptr);

  impl_->schedule_sweep();

  // The service thread blocks every signal, so process-directed signals go
  // to the daemon's other threads. It inherits the mask set here.
  sigset_t all;
  sigset_t previous;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &previous);
  impl_->thread = std::thread([service = impl_.get()] { service->run(); });
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

process_service::~process_service() {
  impl_->stopping = true;
  asio::post(impl_->io, [service = impl_.get()] { service->shutdown(); });
  impl_->thread.join();
}

void process_service::start(launch_spec spec, started_handler started,
                            finished_handler finished) {
  asio::post(impl_->io, [service = impl_.get(), spec = std::move(spec),
                         started = std::move(started),
                         finished = std::move(finished)]() mutable {
    service->launch(std::move(spec), std::move(started), std::move(finished));
  });
}

process_service_stats process_service::stats() const {
  process_service_stats stats;
  stats.running = impl_->running.load();
  stats.started = impl_->started.load();
  stats.spawn_failures = impl_->spawn_failures.load();
  stats.orphans_reaped = impl_->orphans_reaped.load();
  return stats;
}

bool signal_process_group(pid_t pgid, int signal) noexcept {
  // kill(-1) would signal every process on the host.
  if (pgid <= 1) {
    return false;
  }
  return ::kill(-pgid, signal) == 0 || errno != ESRCH;
}

}  // namespace corral::isolation
