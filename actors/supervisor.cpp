#include "actors/supervisor.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <chrono>
#include <csignal>
#include <deque>
#include <map>
#include <unordered_map>

#include "actors/atoms.hpp"
#include "actors/auth.hpp"
#include "actors/cgroup_removal.hpp"
#include "actors/client_table.hpp"
#include "actors/error.hpp"
#include "actors/messages.hpp"
#include "actors/session.hpp"
#include "protocol/jsonrpc.hpp"
#include "runtime/log.hpp"

namespace corral::actors {

namespace {

using protocol::error_code;
using clock_type = std::chrono::steady_clock;

// A session actor that fails more often than this within the window is not
// restarted again; its session is destroyed.
constexpr std::size_t max_restarts = 3;
constexpr auto restart_window = std::chrono::seconds{60};

struct session_entry {
  caf::actor actor;
  session_snapshot snapshot;
  std::uint64_t in_flight = 0;  // exec.run requests forwarded, not replied to
  std::deque<clock_type::time_point> restarts;
  std::string owner;  // the client identity that created it
  /// The last request for the session, or the end of its last command.
  clock_type::time_point last_request = clock_type::now();
  std::chrono::seconds idle_limit{0};
};

struct supervisor_state {
  static inline const char* name = "corral.supervisor";

  std::shared_ptr<const config> settings;
  session_context context;
  std::string home;
  std::map<std::string, session_entry> sessions;
  std::unordered_map<caf::actor_addr, std::string> ids;  // by session actor
  std::uint64_t next_id = 1;
  std::uint64_t running = 0;
  std::uint64_t started = 0;
  std::uint64_t finished = 0;
  std::uint64_t connections = 0;
  std::map<std::string, std::uint64_t> rejections;
  std::map<std::string, std::uint64_t> reasons;
  clock_type::time_point started_at = clock_type::now();
  bool draining = false;
  bool killing = false;
  bool drain_finished = false;
  std::vector<caf::typed_response_promise<caf::unit_t>> drain_waiters;
  std::map<std::string, caf::actor> extensions;  // by method namespace
  std::shared_ptr<client_table> clients;         // shared with the connections
};

using self_pointer = caf::stateful_actor<supervisor_state>*;

caf::error reject(self_pointer self, error_code code, std::string message,
                  std::map<std::string, std::int64_t> details = {}) {
  auto name = std::string{protocol::symbolic_name(code)};
  self->state.rejections[name] += 1;
  log::info("request rejected error={} message=\"{}\"", name,
            log::printable(message, 300));
  return make_error(code, std::move(message), std::move(details));
}

// Rejects a request of `client`, counted for that client too.
caf::error reject_for(self_pointer self, const std::string& client,
                      error_code code, std::string message,
                      std::map<std::string, std::int64_t> details = {}) {
  auto name = protocol::symbolic_name(code);
  self->state.rejections[std::string{name}] += 1;
  self->state.clients->count_rejection(client, name);
  log::info("request rejected client={} error={} message=\"{}\"", client, name,
            message);
  return make_error(code, std::move(message), std::move(details));
}

// Returns the session `id` when `client` owns it, else null. Another
// client's session is reported exactly like a missing one, so that ids
// reveal nothing about other clients.
session_entry* find_owned(supervisor_state& st, const std::string& client,
                          const std::string& id) {
  auto found = st.sessions.find(id);
  if (found == st.sessions.end() || found->second.owner != client)
    return nullptr;
  return &found->second;
}

caf::error session_not_found(self_pointer self, const std::string& client,
                             const std::string& id, std::string_view hint) {
  return reject_for(
      self, client, error_code::session_not_found,
      "session \"" + id + "\" does not exist" + std::string{hint});
}

std::uint64_t sessions_of(const supervisor_state& st,
                          const std::string& client) {
  return static_cast<std::uint64_t>(
      std::count_if(st.sessions.begin(), st.sessions.end(),
                    [&](const auto& x) { return x.second.owner == client; }));
}

// Destroys sessions that ran no command and got no request for longer
// than their idle limit, through the same path as session.destroy.
void expire_idle_sessions(self_pointer self) {
  auto& st = self->state;
  if (st.draining)
    return;
  auto now = clock_type::now();
  for (auto i = st.sessions.begin(); i != st.sessions.end();) {
    auto& entry = i->second;
    auto idle = now - entry.last_request;
    if (entry.in_flight > 0 || idle < entry.idle_limit) {
      ++i;
      continue;
    }
    log::info(
        "session expired session={} client={} idle_s={:.1f} "
        "max_idle_s={}",
        i->first, entry.owner, std::chrono::duration<double>(idle).count(),
        entry.idle_limit.count());
    self->send(entry.actor, destroy_atom::value);
    i = st.sessions.erase(i);
  }
}

caf::error shutting_down(self_pointer self) {
  return reject(self, error_code::shutting_down,
                "the daemon is shutting down and accepts no new work; "
                "reconnect to a running daemon");
}

std::optional<std::uint64_t> lower_limit(std::uint64_t configured,
                                         std::optional<std::uint64_t> asked) {
  if (!asked)
    return configured == 0 ? std::nullopt
                           : std::optional<std::uint64_t>{configured};
  if (configured == 0)
    return asked;
  return std::min(configured, *asked);
}

// A session may ask for lower limits than the configured ones, never
// higher: each effective limit is the smaller of the two.
protocol::session_limits effective_limits(
    const config& settings, const protocol::session_limits& asked) {
  protocol::session_limits limits;
  limits.cpu_sec = lower_limit(settings.limit_cpu_sec, asked.cpu_sec);
  limits.memory_bytes =
      lower_limit(settings.limit_memory_bytes, asked.memory_bytes);
  limits.nproc = lower_limit(settings.limit_nproc, asked.nproc);
  limits.nofile = lower_limit(settings.limit_nofile, asked.nofile);
  limits.timeout_s = lower_limit(settings.default_timeout_s, asked.timeout_s);
  limits.cgroup_memory_bytes =
      lower_limit(settings.cgroup_memory_bytes, asked.cgroup_memory_bytes);
  limits.cpu_percent =
      lower_limit(settings.cgroup_cpu_percent, asked.cpu_percent);
  limits.pids_max = lower_limit(settings.cgroup_pids_max, asked.pids_max);
  limits.output_bytes =
      lower_limit(settings.max_output_bytes, asked.output_bytes);
  return limits;
}

bool is_directory(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

std::string home_of_daemon_user() {
  struct passwd entry;
  struct passwd* found = nullptr;
  char buffer[4096];
  if (::getpwuid_r(::geteuid(), &entry, buffer, sizeof buffer, &found) == 0 &&
      found != nullptr && found->pw_dir != nullptr)
    return found->pw_dir;
  return "/";
}

void spawn_session(self_pointer self, session_entry& entry) {
  auto& st = self->state;
  entry.actor =
      self->spawn<caf::monitored>(session_actor, entry.snapshot, st.context,
                                  caf::actor_cast<caf::actor>(self));
  st.ids[entry.actor.address()] = entry.snapshot.id;
}

// Kills what a session left behind when its actor cannot do it any more.
void kill_snapshot_groups(const session_snapshot& snapshot) {
  for (auto pgid : snapshot.pgids)
    isolation::signal_process_group(pgid, SIGKILL);
}

void finish_drain_if_idle(self_pointer self) {
  auto& st = self->state;
  if (!st.draining || st.running > 0)
    return;
  if (!st.drain_finished)
    log::info(
        "drain finished: no command running, destroying sessions "
        "count={}",
        st.sessions.size());
  st.drain_finished = true;
  for (auto& [id, entry] : st.sessions) {
    st.ids.erase(entry.actor.address());
    self->send(entry.actor, destroy_atom::value);
  }
  st.sessions.clear();
  for (auto& waiter : st.drain_waiters)
    waiter.deliver(caf::unit);
  st.drain_waiters.clear();
}

void kill_all_commands(self_pointer self) {
  auto& st = self->state;
  if (st.killing || st.running == 0)
    return;
  st.killing = true;
  log::info("drain: killing running commands count={}", st.running);
  for (auto& [id, entry] : st.sessions)
    self->send(entry.actor, shutdown_atom::value);
}

void on_session_down(self_pointer self, const caf::down_msg& msg) {
  auto& st = self->state;
  auto found = st.ids.find(msg.source);
  if (found == st.ids.end())
    return;
  auto id = found->second;
  st.ids.erase(found);
  auto entry = st.sessions.find(id);
  if (entry == st.sessions.end())
    return;  // destroyed on request; the actor quit on its own
  auto now = clock_type::now();
  auto& restarts = entry->second.restarts;
  while (!restarts.empty() && now - restarts.front() > restart_window)
    restarts.pop_front();
  if (restarts.size() >= max_restarts || st.draining) {
    log::error(
        "session actor failed too often session={} restarts={} "
        "error=\"{}\"; destroying the session",
        id, restarts.size(), caf::to_string(msg.reason));
    kill_snapshot_groups(entry->second.snapshot);
    if (entry->second.snapshot.cgroup)
      remove_cgroup(self->system(), id, entry->second.snapshot.cgroup,
                    st.context.cgroups);
    st.sessions.erase(entry);
    return;
  }
  restarts.push_back(now);
  log::warn(
      "session actor failed session={} error=\"{}\"; restarting it "
      "from its last state",
      id, caf::to_string(msg.reason));
  spawn_session(self, entry->second);
}

caf::result<protocol::session_info> create_session(
    self_pointer self, const std::string& client,
    protocol::session_options& options) {
  auto& st = self->state;
  const auto& settings = *st.settings;
  if (st.draining)
    return shutting_down(self);
  // The embedding program itself (`local`) is bounded by max_sessions only:
  // the per-client limit protects clients from each other.
  auto owned = sessions_of(st, client);
  if (client != "local" && owned >= settings.max_sessions_per_client)
    return reject_for(
        self, client, error_code::client_session_limit,
        "client " + client + " already has " + std::to_string(owned) +
            " sessions, its limit (max_sessions_per_client); destroy a "
            "session you no longer need and retry",
        {{"sessions", static_cast<std::int64_t>(owned)},
         {"max_sessions_per_client",
          static_cast<std::int64_t>(settings.max_sessions_per_client)}});
  if (st.sessions.size() >= settings.max_sessions)
    return reject_for(
        self, client, error_code::session_limit,
        "the daemon already has " + std::to_string(st.sessions.size()) +
            " sessions, its limit (max_sessions); destroy a session "
            "you no longer need and retry",
        {{"max_sessions", static_cast<std::int64_t>(settings.max_sessions)}});
  auto cwd = options.cwd.value_or(settings.default_cwd);
  if (!is_directory(cwd))
    return reject_for(self, client, error_code::invalid_params,
                      "cwd \"" + cwd + "\" is not an existing directory");

  session_snapshot snapshot;
  snapshot.id = "s-" + std::to_string(st.next_id++);
  snapshot.cwd = cwd;
  snapshot.env = {
      {"PATH", settings.default_path}, {"HOME", st.home}, {"LANG", "C.UTF-8"}};
  for (auto& [name, value] : options.env)
    snapshot.env[name] = std::move(value);
  snapshot.limits = effective_limits(settings, options.limits);
  if (st.context.cgroups) {
    isolation::cgroup_limits limits;
    limits.memory_bytes = snapshot.limits.cgroup_memory_bytes.value_or(0);
    limits.cpu_percent = snapshot.limits.cpu_percent.value_or(0);
    limits.pids_max = snapshot.limits.pids_max.value_or(0);
    auto made = st.context.cgroups->create_session(snapshot.id, limits);
    if (!made.group)
      return reject(
          self, error_code::internal_error,
          "cannot create the cgroup of the session: " + made.error->message() +
              "; the daemon's cgroup may need to be delegated to "
              "it, or start it with cgroups off");
    snapshot.cgroup =
        std::make_shared<isolation::session_cgroup>(std::move(*made.group));
  }

  auto& entry = st.sessions[snapshot.id];
  entry.snapshot = std::move(snapshot);
  entry.owner = client;
  entry.idle_limit = std::chrono::seconds{std::min(
      options.idle_s.value_or(settings.max_idle_sec), settings.max_idle_sec)};
  entry.last_request = clock_type::now();
  spawn_session(self, entry);
  log::info("session created session={} client={} cwd=\"{}\" sessions={}",
            entry.snapshot.id, client, entry.snapshot.cwd, st.sessions.size());
  protocol::session_info info;
  info.id = entry.snapshot.id;
  info.cwd = entry.snapshot.cwd;
  return info;
}

caf::result<protocol::exec_result> run_command(
    self_pointer self, const std::string& client,
    protocol::exec_request& request) {
  auto& st = self->state;
  if (st.draining)
    return shutting_down(self);
  auto* found = find_owned(st, client, request.session);
  if (found == nullptr)
    return session_not_found(self, client, request.session,
                             "; create one with session.create");
  found->last_request = clock_type::now();
  // The session would reject it too; rejecting here keeps a busy session's
  // extra requests out of the running count.
  if (found->in_flight > 0)
    return reject_for(self, client, error_code::session_busy,
                      "session " + request.session +
                          " is already running a command; wait for its "
                          "result or call exec.cancel, or use another "
                          "session");
  if (st.running >= st.settings->max_commands)
    return reject_for(self, client, error_code::command_limit,
                      std::to_string(st.running) +
                          " commands are running, the daemon's limit "
                          "(max_commands); retry when one has finished",
                      {{"max_commands",
                        static_cast<std::int64_t>(st.settings->max_commands)}});
  st.running += 1;
  st.started += 1;
  found->in_flight += 1;
  auto id = request.session;
  auto promise = self->make_response_promise<protocol::exec_result>();
  auto done = [=](std::optional<std::string> reason) {
    auto& st = self->state;
    st.running -= 1;
    if (auto entry = st.sessions.find(id); entry != st.sessions.end()) {
      entry->second.in_flight -= 1;
      entry->second.last_request = clock_type::now();
    }
    if (reason) {
      st.finished += 1;
      st.reasons[*reason] += 1;
    }
    finish_drain_if_idle(self);
  };
  self->request(found->actor, caf::infinite, run_atom::value,
                std::move(request))
      .then(
          [=](protocol::exec_result& result) mutable {
            done(result.reason);
            promise.deliver(std::move(result));
          },
          [=](caf::error& error) mutable {
            auto rpc = to_rpc_error(error);
            auto name = protocol::symbolic_name(rpc.code);
            self->state.rejections[std::string{name}] += 1;
            self->state.clients->count_rejection(client, name);
            done(std::nullopt);
            promise.deliver(std::move(error));
          });
  return promise;
}

caf::result<std::string> destroy_session(self_pointer self,
                                         const std::string& client,
                                         const std::string& id) {
  auto& st = self->state;
  auto* found = find_owned(st, client, id);
  if (found == nullptr)
    return session_not_found(self, client, id, "");
  // The actor quits once its running command, if any, has replied.
  self->send(found->actor, destroy_atom::value);
  st.sessions.erase(id);
  return id;
}

caf::result<std::string> cancel_command(self_pointer self,
                                        const std::string& client,
                                        const std::string& id) {
  auto* found = find_owned(self->state, client, id);
  if (found == nullptr)
    return session_not_found(self, client, id, "");
  found->last_request = clock_type::now();
  self->delegate(found->actor, cancel_atom::value);
  return caf::delegated<std::string>{};
}

// Collects the info of `client`'s sessions, sorted by id. A session that
// does not reply within 5 seconds is left out.
caf::result<std::vector<protocol::session_info>> list_sessions(
    self_pointer self, const std::string& client) {
  auto promise =
      self->make_response_promise<std::vector<protocol::session_info>>();
  std::vector<caf::actor> owned;
  for (auto& [id, entry] : self->state.sessions)
    if (entry.owner == client)
      owned.push_back(entry.actor);
  if (owned.empty()) {
    promise.deliver(std::vector<protocol::session_info>{});
    return promise;
  }
  auto collected = std::make_shared<std::vector<protocol::session_info>>();
  auto pending = std::make_shared<std::size_t>(owned.size());
  auto complete = [=]() mutable {
    if (--*pending > 0)
      return;
    std::sort(collected->begin(), collected->end(),
              [](const auto& a, const auto& b) { return a.id < b.id; });
    promise.deliver(std::move(*collected));
  };
  for (auto& actor : owned)
    self->request(actor, std::chrono::seconds{5}, list_atom::value)
        .then(
            [=](protocol::session_info& info) mutable {
              collected->push_back(std::move(info));
              complete();
            },
            [=](caf::error&) mutable { complete(); });
  return promise;
}

// Returns the per-client part of system.stats: sessions and running
// commands from the session table, rejections from the client table. At
// most `max_tracked_clients` entries.
std::map<std::string, protocol::client_stats> client_stats_of(
    const supervisor_state& st) {
  std::map<std::string, protocol::client_stats> clients;
  for (const auto& [id, entry] : st.sessions) {
    auto& client = clients[entry.owner];
    client.sessions += 1;
    if (entry.in_flight > 0)
      client.commands_running += 1;
  }
  for (auto& [name, rejections] : st.clients->rejections()) {
    if (clients.size() >= max_tracked_clients && !clients.count(name))
      continue;
    clients[name].rejections = std::move(rejections);
  }
  // NOTE: only reachable with more than max_tracked_clients owners of
  // sessions; the names last in sort order are left out.
  while (clients.size() > max_tracked_clients)
    clients.erase(std::prev(clients.end()));
  return clients;
}

protocol::system_stats make_stats(const supervisor_state& st) {
  protocol::system_stats stats;
  stats.version = CORRAL_VERSION;
  stats.uptime_s =
      std::chrono::duration<double>(clock_type::now() - st.started_at).count();
  stats.isolation = st.context.cgroups
                        ? "rlimits and " + st.context.cgroups->description()
                        : "rlimits only";
  stats.sessions = st.sessions.size();
  stats.max_sessions = st.settings->max_sessions;
  stats.commands_running = st.running;
  stats.max_commands = st.settings->max_commands;
  stats.commands_started = st.started;
  stats.commands_finished = st.finished;
  stats.connections = st.connections;
  stats.max_connections = st.settings->max_connections;
  stats.draining = st.draining;
  stats.rejections = st.rejections;
  stats.reasons = st.reasons;
  stats.clients = client_stats_of(st);
  return stats;
}

// Built-in method namespaces, which extensions cannot take over.
bool is_builtin_namespace(const std::string& name) {
  return name == "system" || name == "session" || name == "exec" ||
         name == "auth";
}

caf::result<void> register_extension(self_pointer self, const std::string& name,
                                     const caf::actor& handler) {
  if (name.empty() || name.find('.') != std::string::npos ||
      is_builtin_namespace(name) || !handler)
    return make_error(error_code::invalid_params,
                      "extension namespace \"" + name +
                          "\" is invalid: use one word without dots, other "
                          "than system, session, exec and auth, and a live "
                          "actor");
  self->state.extensions[name] = handler;
  log::info("extension registered namespace={}", name);
  return caf::unit;
}

caf::error method_not_found(self_pointer self, const std::string& method) {
  std::string known =
      "auth.login, system.ping, system.stats, session.create, "
      "session.destroy, session.list, exec.run, exec.cancel";
  for (const auto& [name, handler] : self->state.extensions)
    known += ", " + name + ".*";
  return reject(self, error_code::method_not_found,
                "unknown method \"" + method + "\"; the methods are " + known);
}

// Forwards a method of an extension actor, with the same admission as the
// built-in methods. A reply past the deadline, or an actor that threw or
// is gone, becomes an error for this request only.
caf::result<std::string> call_extension(self_pointer self,
                                        const std::string& method,
                                        std::string& params,
                                        std::string& client) {
  auto& st = self->state;
  auto dot = method.find('.');
  auto found = dot == std::string::npos
                   ? st.extensions.end()
                   : st.extensions.find(method.substr(0, dot));
  if (found == st.extensions.end())
    return method_not_found(self, method);
  if (st.draining)
    return shutting_down(self);
  auto timeout = std::chrono::milliseconds{st.settings->extension_timeout_ms};
  auto promise = self->make_response_promise<std::string>();
  self->request(found->second, timeout, call_atom::value, method,
                std::move(params), std::move(client))
      .then(
          [=](std::string& result) mutable {
            if (auto text = protocol::normalize_json(result)) {
              promise.deliver(std::move(*text));
              return;
            }
            log::warn("extension returned invalid JSON method={}",
                      log::printable(method));
            promise.deliver(make_error(
                error_code::internal_error,
                "method " + method + " returned a result that is not JSON"));
          },
          [=](caf::error& error) mutable {
            if (error.category() == error_category) {
              promise.deliver(std::move(error));
              return;
            }
            log::warn("extension failed method={} error=\"{}\"",
                      log::printable(method), caf::to_string(error));
            auto why = error == caf::sec::request_timeout
                           ? "did not reply within " +
                                 std::to_string(timeout.count()) + " ms"
                           : "failed: " + caf::to_string(error);
            promise.deliver(make_error(
                error_code::internal_error,
                "method " + method + " " + why + "; the daemon keeps serving"));
          });
  return promise;
}

caf::behavior supervisor(self_pointer self,
                         std::shared_ptr<const config> settings,
                         std::shared_ptr<isolation::process_service> service,
                         std::optional<isolation::run_as_user> user,
                         std::shared_ptr<isolation::cgroup_manager> cgroups,
                         std::shared_ptr<client_table> clients) {
  auto& st = self->state;
  st.clients = std::move(clients);
  st.home = user ? user->home : home_of_daemon_user();
  st.context = {settings, std::move(service), std::move(user),
                std::move(cgroups)};
  st.settings = std::move(settings);
  self->set_down_handler(
      [=](caf::down_msg& msg) { on_session_down(self, msg); });
  self->delayed_send(self,
                     std::chrono::milliseconds{st.settings->sweep_interval_ms},
                     sweep_atom::value);
  const std::string local{local_client};
  return {
      [=](create_atom, const client_identity& client,
          protocol::session_options& options) {
        return create_session(self, client.name, options);
      },
      [=](run_atom, const client_identity& client,
          protocol::exec_request& request) {
        return run_command(self, client.name, request);
      },
      [=](destroy_atom, const client_identity& client, const std::string& id) {
        return destroy_session(self, client.name, id);
      },
      [=](cancel_atom, const client_identity& client, const std::string& id) {
        return cancel_command(self, client.name, id);
      },
      [=](list_atom, const client_identity& client) {
        return list_sessions(self, client.name);
      },
      // The forms without an identity are for programs that embed corral;
      // they act as the client `local`.
      [=](create_atom, protocol::session_options& options) {
        return create_session(self, local, options);
      },
      [=](run_atom, protocol::exec_request& request) {
        return run_command(self, local, request);
      },
      [=](destroy_atom, const std::string& id) {
        return destroy_session(self, local, id);
      },
      [=](cancel_atom, const std::string& id) {
        return cancel_command(self, local, id);
      },
      [=](list_atom) { return list_sessions(self, local); },
      [=](stats_atom) { return make_stats(self->state); },
      [=](register_atom, const std::string& name, const caf::actor& handler) {
        return register_extension(self, name, handler);
      },
      [=](call_atom, const std::string& method, std::string& params,
          std::string& client) {
        return call_extension(self, method, params, client);
      },
      [=](conns_atom, std::uint64_t count) { self->state.connections = count; },
      [=](snapshot_atom, session_snapshot& snapshot) {
        auto found = self->state.sessions.find(snapshot.id);
        if (found != self->state.sessions.end())
          found->second.snapshot = std::move(snapshot);
      },
      [=](sweep_atom) {
        expire_idle_sessions(self);
        for (auto& [id, entry] : self->state.sessions)
          self->send(entry.actor, sweep_atom::value);
        self->delayed_send(
            self,
            std::chrono::milliseconds{self->state.settings->sweep_interval_ms},
            sweep_atom::value);
      },
      [=](drain_atom) -> caf::result<caf::unit_t> {
        auto& st = self->state;
        auto promise = self->make_response_promise<caf::unit_t>();
        st.drain_waiters.push_back(promise);
        if (st.draining) {
          kill_all_commands(self);
        } else {
          st.draining = true;
          log::info("drain started running_commands={} drain_timeout_s={}",
                    st.running, st.settings->drain_timeout_s);
          self->delayed_send(self,
                             std::chrono::seconds{st.settings->drain_timeout_s},
                             shutdown_atom::value);
        }
        finish_drain_if_idle(self);
        return promise;
      },
      [=](shutdown_atom) {
        if (self->state.running > 0)
          kill_all_commands(self);
      },
  };
}

}  // namespace

caf::actor spawn_supervisor(caf::actor_system& system,
                            std::shared_ptr<const config> settings,
                            std::shared_ptr<isolation::process_service> service,
                            std::optional<isolation::run_as_user> user,
                            std::shared_ptr<isolation::cgroup_manager> cgroups,
                            std::shared_ptr<client_table> clients) {
  if (!clients)
    clients = std::make_shared<client_table>(settings->rate_limit_per_sec,
                                             settings->rate_limit_burst);
  return system.spawn(supervisor, std::move(settings), std::move(service),
                      std::move(user), std::move(cgroups), std::move(clients));
}

}  // namespace corral::actors
