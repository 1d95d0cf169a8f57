#include "actors/command.hpp"

#include <caf/actor_cast.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <csignal>

#include "actors/atoms.hpp"
#include "actors/error.hpp"
#include "actors/messages.hpp"
#include "runtime/log.hpp"

namespace corral::actors {

namespace {

using self_pointer = caf::stateful_actor<command_state>*;

double milliseconds_between(std::chrono::steady_clock::time_point from,
                            std::chrono::steady_clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// Sends SIGTERM now and SIGKILL after the grace period, so a command gets
// the chance to clean up but cannot outlive the grace period by ignoring
// SIGTERM.
void terminate_group(self_pointer self) {
  auto& st = self->state;
  if (st.pid == 0 || st.finished)
    return;
  isolation::signal_process_group(st.pid, SIGTERM);
  self->delayed_send(self, st.plan.kill_grace, escalate_atom::value);
}

// Compares the session cgroup's counters with those before the command.
// An OOM kill, a fork rejected by pids.max or a throttled CPU period is
// listed in `limits_hit`, also when it hit a descendant and the command
// itself exited normally. The command's own process ended by SIGKILL while
// the OOM kill counter rose is `memory_limit`.
// NOTE: the counters are per session, so a background process of an
// earlier command that hits a limit during this command is counted here.
isolation::termination_reason apply_cgroup_limits(
    const command_state& st, const isolation::exit_status& status,
    isolation::termination_reason reason,
    std::vector<std::string>& limits_hit) {
  auto after = st.plan.cgroup->usage();
  const auto& before = st.usage_before;
  bool oom_killed = after.oom_kills > before.oom_kills;
  if (oom_killed)
    limits_hit.push_back("memory");
  if (after.pids_max_events > before.pids_max_events)
    limits_hit.push_back("pids");
  if (after.nr_throttled > before.nr_throttled)
    limits_hit.push_back("cpu");
  if (oom_killed && status.signal == SIGKILL &&
      reason == isolation::termination_reason::signaled)
    return isolation::termination_reason::memory_limit;
  return reason;
}

command_outcome make_outcome(const command_state& st,
                             isolation::process_outcome process) {
  command_outcome outcome;
  outcome.pgid = process.pid;
  auto& result = outcome.result;
  result.pid = process.pid;
  result.encoding = st.plan.encoding;
  result.duration_ms = milliseconds_between(process.started, process.exited);
  result.usage.user_ms = process.user_ms;
  result.usage.system_ms = process.system_ms;
  result.usage.max_rss_kb = process.max_rss_kb;
  result.usage.minor_faults = process.minor_faults;
  result.usage.major_faults = process.major_faults;
  result.usage.voluntary_switches = process.voluntary_switches;
  result.usage.involuntary_switches = process.involuntary_switches;
  result.out = {std::move(process.out.data), process.out.total,
                process.out.truncated};
  result.err = {std::move(process.err.data), process.err.total,
                process.err.truncated};

  auto status = isolation::decode_wait_status(process.wait_status);
  if (st.plan.shell_wrapped && !process.state.truncated)
    outcome.shell = parse_shell_state(process.state.data);
  // Unlike an empty report (a command ended by a signal or by `exec`), a
  // rejected one is unexpected. It comes from a shell whose `export -p`
  // format is not parsed, the state cap, or a shell killed while writing.
  if (st.plan.shell_wrapped && !outcome.shell && !process.state.data.empty())
    log::warn(
        "shell state report rejected session={} pid={} bytes={} "
        "truncated={}",
        st.plan.session_id, process.pid, process.state.data.size(),
        process.state.truncated);

  auto cpu_sec = (process.user_ms + process.system_ms) / 1000.0;
  auto reason = isolation::classify(status, st.cause,
                                    st.plan.spec.limits.cpu_sec, cpu_sec);
  if (st.plan.cgroup)
    reason = apply_cgroup_limits(st, status, reason, result.limits_hit);
  result.reason = std::string{isolation::to_string(reason)};
  result.exit_code = status.exit_code;
  if (status.signal != 0)
    result.signal = isolation::signal_name(status.signal);
  return outcome;
}

}  // namespace

caf::behavior command_actor(caf::stateful_actor<command_state>* self,
                            command_plan plan,
                            std::shared_ptr<isolation::process_service> service,
                            caf::actor session) {
  self->state.plan = std::move(plan);
  self->state.service = std::move(service);
  self->state.session = std::move(session);
  return {
      [=](run_atom) -> caf::result<command_outcome> {
        auto& st = self->state;
        st.promise = self->make_response_promise();
        if (st.plan.cgroup)
          st.usage_before = st.plan.cgroup->usage();
        auto handle = caf::actor_cast<caf::actor>(self);
        st.service->start(
            st.plan.spec,
            [handle](pid_t pid, std::optional<isolation::launch_error> error) {
              if (error)
                caf::anon_send(handle, started_atom::value, std::move(*error));
              else
                caf::anon_send(handle, started_atom::value, pid);
            },
            [handle](isolation::process_outcome outcome) {
              caf::anon_send(handle, finished_atom::value, std::move(outcome));
            });
        return st.promise;
      },
      [=](started_atom, pid_t pid) {
        auto& st = self->state;
        st.pid = pid;
        self->send(st.session, started_atom::value, pid);
        log::info("command started session={} pid={} timeout_s={}",
                  st.plan.session_id, pid, st.plan.timeout.count());
        // A cancel or shutdown that arrived before the launch finished.
        if (st.cause.shutdown)
          isolation::signal_process_group(pid, SIGKILL);
        else if (st.cause.cancelled)
          terminate_group(self);
        else
          self->delayed_send(self, st.plan.timeout, timeout_atom::value);
      },
      [=](started_atom, isolation::launch_error& error) {
        auto& st = self->state;
        auto message = "command could not be started: " + error.message();
        log::warn("command spawn failed session={} step=\"{}\" error=\"{}\"",
                  st.plan.session_id, error.step, error.message());
        st.promise.deliver(
            make_error(protocol::error_code::spawn_failed, std::move(message)));
        self->quit();
      },
      [=](finished_atom, isolation::process_outcome& process) {
        auto& st = self->state;
        st.finished = true;
        // Descendants that ignored SIGTERM may still run in the group after
        // the command itself ended; a command the daemon ended leaves none.
        if (st.cause.timed_out || st.cause.cancelled || st.cause.shutdown)
          isolation::signal_process_group(process.pid, SIGKILL);
        auto outcome = make_outcome(st, std::move(process));
        const auto& result = outcome.result;
        log::info(
            "command ended session={} pid={} reason={} exit_code={} "
            "signal={} duration_ms={:.1f} stdout_bytes={} "
            "stderr_bytes={}",
            st.plan.session_id, result.pid, result.reason,
            result.exit_code ? std::to_string(*result.exit_code) : "null",
            result.signal.value_or("null"), result.duration_ms,
            result.out.total, result.err.total);
        st.promise.deliver(std::move(outcome));
        self->quit();
      },
      [=](timeout_atom) {
        auto& st = self->state;
        if (st.finished)
          return;
        log::info("command timed out session={} pid={} timeout_s={}",
                  st.plan.session_id, st.pid, st.plan.timeout.count());
        st.cause.timed_out = true;
        terminate_group(self);
      },
      [=](escalate_atom) {
        auto& st = self->state;
        if (!st.finished && st.pid != 0)
          isolation::signal_process_group(st.pid, SIGKILL);
      },
      [=](cancel_atom) {
        auto& st = self->state;
        if (st.finished || st.cause.cancelled)
          return;
        st.cause.cancelled = true;
        terminate_group(self);
      },
      [=](shutdown_atom) {
        auto& st = self->state;
        if (st.finished)
          return;
        st.cause.shutdown = true;
        if (st.pid != 0)
          isolation::signal_process_group(st.pid, SIGKILL);
      },
  };
}

}  // namespace corral::actors
