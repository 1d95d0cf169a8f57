#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace corral::actors {

using client_clock = std::chrono::steady_clock;

/// Client identities kept in the client table and listed by system.stats.
constexpr std::size_t max_tracked_clients = 1000;

/// A token bucket: holds up to `burst` tokens and refills `rate_per_sec`
/// tokens a second. Each request takes one. Time is passed in, so tests
/// control it. Not thread-safe.
class token_bucket {
 public:
  /// Starts full at `now`.
  token_bucket(double rate_per_sec, double burst, client_clock::time_point now);

  /// Takes one token. Returns nothing when one was available, else the
  /// time until one will be (rounded up to whole milliseconds).
  std::optional<std::chrono::milliseconds> take(client_clock::time_point now);

 private:
  void refill(client_clock::time_point now);

  double rate_per_sec_;
  double burst_;
  double tokens_;
  client_clock::time_point updated_;
};

/// Per-client state that every connection and the supervisor share: the
/// rate limit bucket and rejection counts of each client identity, and the
/// rate limit of the failed-login log lines of each peer address.
/// Thread-safe, because connections run on any CAF worker thread.
///
/// Bounded: past `max_clients` identities (or peers) the one seen least
/// recently is dropped. Its rejection counts are lost and its bucket
/// starts full again when it returns.
class client_table {
 public:
  /// `rate_per_sec` or `burst` 0 turns the rate limit off.
  client_table(std::uint64_t rate_per_sec, std::uint64_t burst,
               std::size_t max_clients = max_tracked_clients);

  /// Counts one request of `client` against its bucket. Returns nothing
  /// when it may run, else how long the client should wait.
  std::optional<std::chrono::milliseconds> admit(const std::string& client,
                                                 client_clock::time_point now);

  /// Counts a request of `client` rejected with error `name`.
  void count_rejection(const std::string& client, std::string_view name);

  /// Returns the rejection counts by client, then by error name.
  std::map<std::string, std::map<std::string, std::uint64_t>> rejections()
      const;

  /// Decides whether a failed login from `peer` may be logged: at most one
  /// line per second per peer. Returns the number of failures not logged
  /// since the last line when it may, or nothing when it may not.
  std::optional<std::uint64_t> log_failed_login(const std::string& peer,
                                                client_clock::time_point now);

  /// Returns the number of client identities in the table.
  std::size_t size() const;

 private:
  struct client_entry {
    std::optional<token_bucket> bucket;
    std::map<std::string, std::uint64_t> rejections;
    client_clock::time_point last_seen;
  };

  struct peer_entry {
    client_clock::time_point last_logged;
    std::uint64_t suppressed = 0;
  };

  client_entry& entry_of(const std::string& client,
                         client_clock::time_point now);

  std::uint64_t rate_per_sec_;
  std::uint64_t burst_;
  std::size_t max_clients_;
  mutable std::mutex mutex_;
  std::map<std::string, client_entry> clients_;
  std::map<std::string, peer_entry> peers_;
};

}  // namespace corral::actors
