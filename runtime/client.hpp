#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

namespace corral {

/// A host and TCP port, as given on a command line or in a configuration
/// file.
struct network_address {
  std::string host;  // without the brackets of an IPv6 literal
  std::uint16_t port = 0;
};

/// Parses "HOST:PORT", where an IPv6 literal is written in brackets
/// ("[::1]:7411"). The port may be 0. Throws std::invalid_argument with a
/// message that names the text and the expected form.
network_address parse_address(std::string_view text);

/// Returns "HOST:PORT", with brackets around a host that contains ':'.
std::string format_address(const std::string& host, std::uint16_t port);

/// A blocking JSON-RPC 2.0 connection to corrald, one JSON value per line,
/// for tools and tests. Failures throw std::runtime_error with a message
/// that names the peer. Not thread-safe: use one client per thread.
class client {
 public:
  /// Connects to `host`:`port`, trying each address the name resolves to,
  /// and gives up after `timeout` in total.
  static client connect(const std::string& host, std::uint16_t port,
                        std::chrono::milliseconds timeout);

  client(client&& other) noexcept;
  client& operator=(client&& other) noexcept;
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Closes the connection.
  ~client();

  /// Sends a request with a fresh integer id and returns the whole reply
  /// object, whether it contains `result` or `error`. Lines that arrive before
  /// the reply are queued for `read_line` and `read_reply`. Throws when the
  /// connection fails or closes, or when no reply arrives within
  /// `timeout()`. An empty `params` is left out of the request.
  boost::json::value call(std::string_view method,
                          boost::json::object params = {});

  /// Sends `raw` followed by a newline, as it is. Integer ids found in it
  /// are never reused by `call`, so its reply cannot be mistaken for one.
  void send_line(std::string_view raw);

  /// Returns the next received line without its newline: first the lines
  /// that `call` queued, then new ones. Returns nothing on timeout or at
  /// the end of the stream; `eof` distinguishes the two. A last line that
  /// the peer did not end with a newline is returned as it is.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);

  /// Reads a line as `read_line` does and parses it as JSON. Throws when
  /// the line is not valid JSON.
  std::optional<boost::json::value> read_reply(
      std::chrono::milliseconds timeout);

  /// Returns true when the peer closed the connection and every line it
  /// sent was returned, or after `close`.
  bool eof() const noexcept;

  /// Closes the connection. Later calls of `call`, `send_line`,
  /// `read_line` and `read_reply` throw.
  void close() noexcept;

  /// Sets how long `call` waits for its reply, and `send_line` for room
  /// to send. `exec.run` replies when the command ends, so the default of
  /// two hours covers the daemon's default max_timeout_s of one hour; a
  /// daemon configured for longer commands needs a longer timeout.
  void set_timeout(std::chrono::milliseconds timeout) noexcept {
    timeout_ = timeout;
  }

  /// Returns the timeout set by `set_timeout`.
  std::chrono::milliseconds timeout() const noexcept { return timeout_; }

  /// Returns the "HOST:PORT" this client connected to.
  const std::string& peer() const noexcept { return peer_; }

 private:
  using clock = std::chrono::steady_clock;

  client(int fd, std::string peer) noexcept;

  void require_open() const;
  void send_all(std::string_view bytes, clock::time_point deadline);
  std::optional<std::string> read_new_line(clock::time_point deadline);
  bool receive(clock::time_point deadline);
  std::string closed_before_reply(std::string_view method,
                                  std::int64_t id) const;

  int fd_ = -1;
  std::string peer_;
  std::string buffer_;       // received bytes not yet returned as lines
  std::size_t scanned_ = 0;  // prefix of buffer_ known to contain no '\n'
  std::deque<std::string> queued_;  // lines `call` read past
  bool peer_closed_ = false;
  std::int64_t next_id_ = 1;
  std::chrono::milliseconds timeout_ = std::chrono::hours{2};
};

}  // namespace corral
