#include "actors/session.hpp"

#include <algorithm>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <sys/stat.h>

#include <csignal>

#include "actors/atoms.hpp"
#include "actors/cgroup_removal.hpp"
#include "actors/command.hpp"
#include "actors/error.hpp"
#include "actors/shell_wrapper.hpp"
#include "runtime/log.hpp"

namespace corral::actors {

namespace {

using self_pointer = caf::stateful_actor<session_state>*;
using protocol::error_code;

// Process groups remembered per session for the kill on destroy. Groups
// whose processes all ended are dropped by the sweep; this bounds the rest.
constexpr std::size_t max_remembered_groups = 1024;

double seconds_since(std::chrono::steady_clock::time_point then) {
  auto elapsed = std::chrono::steady_clock::now() - then;
  return std::chrono::duration<double>(elapsed).count();
}

bool group_exists(pid_t pgid) {
  return ::kill(-pgid, 0) == 0 || errno == EPERM;
}

// Kills the process groups of the session's commands. A process that
// called setsid(2) has left them; without cgroups it survives, and with
// them the removal of the session's cgroup kills it.
void kill_groups(self_pointer self) {
  for (auto pgid : self->state.snapshot.pgids) {
    if (isolation::signal_process_group(pgid, SIGKILL))
      log::debug("killed process group session={} pgid={}",
                 self->state.snapshot.id, pgid);
  }
  self->state.snapshot.pgids.clear();
}

std::vector<std::string> to_entries(const protocol::environment& env) {
  std::vector<std::string> entries;
  entries.reserve(env.size());
  for (const auto& [name, value] : env)
    entries.push_back(name + "=" + value);
  return entries;
}

command_plan make_plan(const session_state& st,
                       const protocol::exec_request& request) {
  const auto& settings = *st.context.settings;
  const auto& limits = st.snapshot.limits;
  command_plan plan;
  plan.session_id = st.snapshot.id;
  plan.encoding = request.encoding;
  plan.kill_grace = std::chrono::milliseconds{settings.kill_grace_ms};
  auto timeout = request.timeout_s.value_or(
      limits.timeout_s.value_or(settings.default_timeout_s));
  plan.timeout =
      std::chrono::seconds{std::min(timeout, settings.max_timeout_s)};

  auto& spec = plan.spec;
  if (request.command) {
    spec.program = settings.shell;
    spec.argv = {settings.shell, "-c", wrap_command(*request.command)};
    spec.capture_state = true;
    plan.shell_wrapped = true;
  } else {
    spec.program = request.argv.front();
    spec.argv = request.argv;
  }
  auto env = st.snapshot.env;
  for (const auto& [name, value] : request.env)
    env[name] = value;
  spec.env = to_entries(env);
  spec.cwd = request.cwd.value_or(st.snapshot.cwd);
  if (request.has_stdin)
    spec.stdin_data = request.stdin_data;
  spec.limits.cpu_sec = limits.cpu_sec.value_or(0);
  spec.limits.address_space_bytes = limits.memory_bytes.value_or(0);
  spec.limits.nproc = limits.nproc.value_or(0);
  spec.limits.nofile = limits.nofile.value_or(0);
  spec.user = st.context.user;
  spec.oom_score_adj = settings.oom_score_adj;
  spec.max_output_bytes =
      limits.output_bytes.value_or(settings.max_output_bytes);
  spec.drain_timeout = std::chrono::milliseconds{settings.output_drain_ms};
  if (st.snapshot.cgroup) {
    spec.cgroup_procs = st.snapshot.cgroup->procs_paths();
    plan.cgroup = st.snapshot.cgroup;
  }
  return plan;
}

// Carries the shell's final directory and exported variables over to the
// next command. Variables that came from the request's own `env` apply to
// that command only, so they are put back unless the command changed them.
void apply_shell_state(session_snapshot& snapshot,
                       const protocol::exec_request& request,
                       shell_state shell) {
  // execve(2) rejects an environment entry of 128 KiB or more (Linux's
  // MAX_ARG_STRLEN), so such a variable would make every later command of
  // the session fail to start. It is dropped instead.
  constexpr std::size_t max_entry_bytes = 128 * 1024;
  for (auto it = shell.env.begin(); it != shell.env.end();) {
    if (it->first.size() + it->second.size() + 2 > max_entry_bytes) {
      log::warn(
          "exported variable too large for execve, not kept session={} "
          "name={} bytes={}",
          snapshot.id, it->first, it->second.size());
      it = shell.env.erase(it);
    } else {
      ++it;
    }
  }
  if (!request.cwd)
    snapshot.cwd = std::move(shell.cwd);
  for (const auto& [name, value] : request.env) {
    auto found = shell.env.find(name);
    if (found == shell.env.end() || found->second != value)
      continue;
    auto previous = snapshot.env.find(name);
    if (previous == snapshot.env.end())
      shell.env.erase(found);
    else
      found->second = previous->second;
  }
  snapshot.env = std::move(shell.env);
}

void remember_group(session_snapshot& snapshot, pid_t pgid) {
  if (pgid <= 0 || !group_exists(pgid))
    return;
  if (snapshot.pgids.size() >= max_remembered_groups) {
    log::warn(
        "session remembers too many process groups session={} max={}; "
        "forgetting the oldest, which destroy will not kill",
        snapshot.id, max_remembered_groups);
    snapshot.pgids.erase(snapshot.pgids.begin());
  }
  snapshot.pgids.push_back(pgid);
}

void finish_destroy(self_pointer self) {
  kill_groups(self);
  if (self->state.snapshot.cgroup)
    remove_cgroup(self->system(), self->state.snapshot.id,
                  std::move(self->state.snapshot.cgroup),
                  self->state.context.cgroups);
  log::info("session destroyed session={} commands_run={}",
            self->state.snapshot.id, self->state.snapshot.commands_run);
  self->quit();
}

// Ends a command that failed without an outcome: its actor failed or the
// launch did. The client gets the error; the command's processes are killed.
void end_command(self_pointer self, caf::error error) {
  auto& st = self->state;
  if (!st.command)
    return;
  st.command = nullptr;
  st.last_active = std::chrono::steady_clock::now();
  st.reply.deliver(std::move(error));
  if (st.destroying)
    finish_destroy(self);
}

protocol::session_info make_info(const session_state& st) {
  protocol::session_info info;
  info.id = st.snapshot.id;
  info.cwd = st.snapshot.cwd;
  info.busy = static_cast<bool>(st.command);
  info.commands_run = st.snapshot.commands_run;
  info.age_s = seconds_since(st.created);
  info.idle_s = st.command ? 0.0 : seconds_since(st.last_active);
  if (st.snapshot.cgroup) {
    auto usage = st.snapshot.cgroup->usage();
    info.usage = protocol::session_usage{
        usage.memory_current,
        usage.memory_peak,
        static_cast<double>(usage.cpu_usage_us) / 1000.0,
        static_cast<double>(usage.throttled_us) / 1000.0,
        usage.pids_current,
        usage.oom_kills,
        usage.pids_max_events};
  }
  return info;
}

caf::result<protocol::exec_result> run(self_pointer self,
                                       protocol::exec_request& request) {
  auto& st = self->state;
  if (st.destroying)
    return make_error(error_code::session_not_found,
                      "session " + st.snapshot.id + " is being destroyed");
  if (st.command)
    return make_error(error_code::session_busy,
                      "session " + st.snapshot.id +
                          " is already running a command; wait for its result "
                          "or call exec.cancel, or use another session");
  st.last_active = std::chrono::steady_clock::now();
  st.request = std::move(request);
  // A command may have removed the session's directory; the session would
  // otherwise fail every launch from then on.
  struct stat info;
  if (!st.request.cwd && (::stat(st.snapshot.cwd.c_str(), &info) != 0 ||
                          !S_ISDIR(info.st_mode))) {
    const auto& fallback = st.context.settings->default_cwd;
    log::warn(
        "session directory is gone session={} cwd=\"{}\"; using {} "
        "instead",
        st.snapshot.id, st.snapshot.cwd, fallback);
    st.snapshot.cwd = fallback;
  }
  auto plan = make_plan(st, st.request);
  st.command = self->spawn<caf::linked>(command_actor, std::move(plan),
                                        st.context.service,
                                        caf::actor_cast<caf::actor>(self));
  st.reply = self->make_response_promise<protocol::exec_result>();
  self->request(st.command, caf::infinite, run_atom::value)
      .then(
          [=](command_outcome& outcome) {
            auto& st = self->state;
            st.command = nullptr;
            st.last_active = std::chrono::steady_clock::now();
            st.snapshot.commands_run += 1;
            if (outcome.shell)
              apply_shell_state(st.snapshot, st.request,
                                std::move(*outcome.shell));
            remember_group(st.snapshot, outcome.pgid);
            self->send(st.supervisor, snapshot_atom::value, st.snapshot);
            st.reply.deliver(std::move(outcome.result));
            if (st.destroying)
              finish_destroy(self);
          },
          [=](caf::error& error) { end_command(self, std::move(error)); });
  return st.reply;
}

}  // namespace

caf::behavior session_actor(caf::stateful_actor<session_state>* self,
                            session_snapshot snapshot, session_context context,
                            caf::actor supervisor) {
  auto& st = self->state;
  st.snapshot = std::move(snapshot);
  st.context = std::move(context);
  st.supervisor = std::move(supervisor);
  st.created = st.last_active = std::chrono::steady_clock::now();
  // A failing command actor is linked to its session; the session survives
  // the failure and kills whatever the command left behind.
  self->set_exit_handler([=](caf::exit_msg& msg) {
    if (!self->state.command || msg.source != self->state.command.address())
      return;
    log::error("command actor failed session={} error=\"{}\"",
               self->state.snapshot.id, caf::to_string(msg.reason));
    kill_groups(self);
    end_command(self, make_error(error_code::internal_error,
                                 "the command failed inside the daemon and "
                                 "was killed; the session is still usable"));
  });
  return {
      [=](run_atom, protocol::exec_request& request) {
        return run(self, request);
      },
      [=](started_atom, pid_t pid) {
        // Remembered at once, so destroy kills the group even if the command
        // actor fails before it reports the end, and so does the supervisor
        // if this session actor fails.
        remember_group(self->state.snapshot, pid);
        self->send(self->state.supervisor, snapshot_atom::value,
                   self->state.snapshot);
      },
      [=](cancel_atom) -> caf::result<std::string> {
        auto& st = self->state;
        if (!st.command)
          return make_error(error_code::command_not_found,
                            "session " + st.snapshot.id +
                                " has no running command to cancel");
        log::info("command cancel requested session={}", st.snapshot.id);
        self->send(st.command, cancel_atom::value);
        return st.snapshot.id;
      },
      [=](destroy_atom) {
        auto& st = self->state;
        st.destroying = true;
        if (st.command)
          self->send(st.command, cancel_atom::value);
        else
          finish_destroy(self);
      },
      [=](shutdown_atom) {
        auto& st = self->state;
        if (st.command)
          self->send(st.command, shutdown_atom::value);
      },
      [=](list_atom) { return make_info(self->state); },
      [=](sweep_atom) {
        auto& groups = self->state.snapshot.pgids;
        groups.erase(
            std::remove_if(groups.begin(), groups.end(),
                           [](pid_t pgid) { return !group_exists(pgid); }),
            groups.end());
      },
  };
}

}  // namespace corral::actors
