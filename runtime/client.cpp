#include "runtime/client.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <utility>

namespace corral {

namespace json = boost::json;

namespace {

using clock = std::chrono::steady_clock;

constexpr std::size_t receive_chunk_bytes = 64 * 1024;

[[noreturn]] void invalid_address(std::string_view text,
                                  std::string_view reason) {
  throw std::invalid_argument(
      "invalid address \"" + std::string{text} + "\": " + std::string{reason} +
      "; expected HOST:PORT, such as 127.0.0.1:7411 or [::1]:7411");
}

// Returns the milliseconds left until `deadline` for poll(2), rounded up
// so that a wait never ends just before the deadline and spins.
int poll_timeout(clock::time_point deadline) {
  auto left = deadline - clock::now();
  if (left <= clock::duration::zero()) return 0;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return static_cast<int>(std::min<long long>(ms, INT_MAX));
}

clock::time_point deadline_after(std::chrono::milliseconds timeout) {
  auto now = clock::now();
  if (timeout >= std::chrono::duration_cast<std::chrono::milliseconds>(
                     clock::time_point::max() - now))
    return clock::time_point::max();
  return now + timeout;
}

// Waits until `fd` is ready for `events`. Returns false on timeout.
bool wait_ready(int fd, short events, clock::time_point deadline) {
  while (true) {
    pollfd entry{fd, events, 0};
    int ready = ::poll(&entry, 1, poll_timeout(deadline));
    if (ready > 0) return true;
    if (ready == 0 && clock::now() >= deadline) return false;
    if (ready < 0 && errno != EINTR)
      throw std::runtime_error(std::string{"poll failed: "} +
                               std::strerror(errno));
  }
}

std::string error_text(int error) { return std::strerror(error); }

// Records integer ids of a request object or batch into `highest`.
void note_ids(const json::value& value, std::int64_t& highest) {
  if (const auto* batch = value.if_array()) {
    for (const auto& entry : *batch) note_ids(entry, highest);
    return;
  }
  const auto* object = value.if_object();
  if (object == nullptr) return;
  const auto* id = object->if_contains("id");
  if (id != nullptr && id->is_int64())
    highest = std::max(highest, id->get_int64());
}

bool has_id(const json::value& reply, std::int64_t id) {
  const auto* object = reply.if_object();
  if (object == nullptr) return false;
  const auto* value = object->if_contains("id");
  if (value == nullptr) return false;
  if (value->is_int64()) return value->get_int64() == id;
  return value->is_uint64() && id >= 0 &&
         value->get_uint64() == static_cast<std::uint64_t>(id);
}

// Returns "message (NAME)" for an error reply whose id is null, which is
// how the daemon reports a problem with the connection itself, such as
// CONNECTION_LIMIT. Returns "" for anything else.
std::string connection_error(const std::string& line) {
  json::error_code ec;
  auto reply = json::parse(line, ec);
  if (ec || !reply.is_object()) return "";
  const auto& object = reply.get_object();
  const auto* id = object.if_contains("id");
  const auto* error = object.if_contains("error");
  if (id == nullptr || !id->is_null() || error == nullptr ||
      !error->is_object())
    return "";
  const auto& fields = error->get_object();
  std::string text = "the server sent an error";
  const auto* message = fields.if_contains("message");
  if (message != nullptr && message->is_string())
    text = std::string{message->get_string()};
  const auto* data = fields.if_contains("data");
  const auto* name = data != nullptr && data->is_object()
                         ? data->get_object().if_contains("error")
                         : nullptr;
  if (name != nullptr && name->is_string())
    text += " (" + std::string{name->get_string()} + ")";
  return text;
}

}  // namespace

network_address parse_address(std::string_view text) {
  network_address result;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos)
      invalid_address(text, "missing ']' after the IPv6 address");
    result.host = std::string{text.substr(1, close - 1)};
    if (close + 1 >= text.size() || text[close + 1] != ':')
      invalid_address(text, "missing ':PORT' after ']'");
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
      invalid_address(text, "missing ':PORT'");
    result.host = std::string{text.substr(0, colon)};
    if (result.host.find(':') != std::string::npos)
      invalid_address(text, "an IPv6 address needs brackets, as in [::1]:7411");
    port_text = text.substr(colon + 1);
  }
  if (result.host.empty()) invalid_address(text, "the host is empty");

  unsigned long port = 0;
  const char* end = port_text.data() + port_text.size();
  auto [stop, error] = std::from_chars(port_text.data(), end, port);
  if (port_text.empty() || error != std::errc{} || stop != end || port > 65535)
    invalid_address(text, "the port must be an integer from 0 to 65535");
  result.port = static_cast<std::uint16_t>(port);
  return result;
}

std::string format_address(const std::string& host, std::uint16_t port) {
  if (host.find(':') != std::string::npos)
    return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

client client::connect(const std::string& host, std::uint16_t port,
                       std::chrono::milliseconds timeout) {
  auto peer = format_address(host, port);
  auto deadline = deadline_after(timeout);

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  auto service = std::to_string(port);
  int status = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
  if (status != 0)
    throw std::runtime_error("cannot resolve host \"" + host +
                             "\": " + ::gai_strerror(status));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses{
      found, &::freeaddrinfo};

  std::string failure = "no address found";
  for (auto* address = found; address != nullptr; address = address->ai_next) {
    int fd =
        ::socket(address->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
                 address->ai_protocol);
    if (fd < 0) {
      failure = error_text(errno);
      continue;
    }
    int error = 0;
    if (::connect(fd, address->ai_addr, address->ai_addrlen) != 0) {
      error = errno;
      if (error == EINPROGRESS) {
        if (wait_ready(fd, POLLOUT, deadline)) {
          socklen_t size = sizeof error;
          if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0)
            error = errno;
        } else {
          error = ETIMEDOUT;
        }
      }
    }
    if (error == 0) {
      // Requests are single small writes that wait for a reply, so
      // Nagle's algorithm would only add delay.
      int on = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
      return client{fd, peer};
    }
    ::close(fd);
    failure = error == ETIMEDOUT
                  ? "timed out after " + std::to_string(timeout.count()) + " ms"
                  : error_text(error);
    if (clock::now() >= deadline) break;
  }
  throw std::runtime_error("cannot connect to " + peer + ": " + failure);
}

client::client(int fd, std::string peer) noexcept
    : fd_{fd}, peer_{std::move(peer)} {}

client::client(client&& other) noexcept
    : fd_{std::exchange(other.fd_, -1)},
      peer_{std::move(other.peer_)},
      buffer_{std::move(other.buffer_)},
      scanned_{std::exchange(other.scanned_, 0)},
      queued_{std::move(other.queued_)},
      peer_closed_{other.peer_closed_},
      next_id_{other.next_id_},
      timeout_{other.timeout_} {}

client& client::operator=(client&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    peer_ = std::move(other.peer_);
    buffer_ = std::move(other.buffer_);
    scanned_ = std::exchange(other.scanned_, 0);
    queued_ = std::move(other.queued_);
    peer_closed_ = other.peer_closed_;
    next_id_ = other.next_id_;
    timeout_ = other.timeout_;
  }
  return *this;
}

client::~client() { close(); }

void client::close() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buffer_.clear();
  scanned_ = 0;
  queued_.clear();
}

bool client::eof() const noexcept {
  if (fd_ < 0) return true;
  return peer_closed_ && buffer_.empty() && queued_.empty();
}

void client::require_open() const {
  if (fd_ < 0)
    throw std::runtime_error("the connection to " + peer_ +
                             " is already closed");
}

json::value client::call(std::string_view method, json::object params) {
  require_open();
  auto id = next_id_++;
  json::object request;
  request["jsonrpc"] = "2.0";
  request["id"] = id;
  request["method"] = method;
  if (!params.empty()) request["params"] = std::move(params);
  auto deadline = deadline_after(timeout_);
  send_all(json::serialize(request) + "\n", deadline);

  while (true) {
    auto line = read_new_line(deadline);
    if (!line) {
      if (peer_closed_)
        throw std::runtime_error(closed_before_reply(method, id));
      throw std::runtime_error("no reply from " + peer_ + " to " +
                               std::string{method} + " (id " +
                               std::to_string(id) + ") within " +
                               std::to_string(timeout_.count()) + " ms");
    }
    json::error_code ec;
    auto reply = json::parse(*line, ec);
    if (!ec && has_id(reply, id)) return reply;
    queued_.push_back(std::move(*line));
  }
}

std::string client::closed_before_reply(std::string_view method,
                                        std::int64_t id) const {
  auto text = peer_ + " closed the connection before replying to " +
              std::string{method} + " (id " + std::to_string(id) + ")";
  for (const auto& line : queued_) {
    auto error = connection_error(line);
    if (!error.empty()) return text + "; it sent: " + error;
  }
  return text;
}

void client::send_line(std::string_view raw) {
  require_open();
  json::error_code ec;
  auto value = json::parse(raw, ec);
  if (!ec) {
    std::int64_t highest = 0;
    note_ids(value, highest);
    if (highest < INT64_MAX) next_id_ = std::max(next_id_, highest + 1);
  }
  std::string line{raw};
  line += '\n';
  send_all(line, deadline_after(timeout_));
}

void client::send_all(std::string_view bytes, clock::time_point deadline) {
  while (!bytes.empty()) {
    auto sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent >= 0) {
      bytes.remove_prefix(static_cast<std::size_t>(sent));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      throw std::runtime_error("cannot send to " + peer_ + ": " +
                               error_text(errno));
    if (!wait_ready(fd_, POLLOUT, deadline))
      throw std::runtime_error("timed out sending to " + peer_ +
                               ": it does not read its input");
  }
}

std::optional<std::string> client::read_line(
    std::chrono::milliseconds timeout) {
  require_open();
  if (!queued_.empty()) {
    auto line = std::move(queued_.front());
    queued_.pop_front();
    return line;
  }
  return read_new_line(deadline_after(timeout));
}

std::optional<json::value> client::read_reply(
    std::chrono::milliseconds timeout) {
  auto line = read_line(timeout);
  if (!line) return std::nullopt;
  json::error_code ec;
  auto reply = json::parse(*line, ec);
  if (ec)
    throw std::runtime_error(peer_ + " sent a line that is not valid JSON (" +
                             ec.message() + "): " + line->substr(0, 200));
  return reply;
}

std::optional<std::string> client::read_new_line(clock::time_point deadline) {
  while (true) {
    auto newline = buffer_.find('\n', scanned_);
    if (newline != std::string::npos) {
      auto line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      scanned_ = 0;
      return line;
    }
    scanned_ = buffer_.size();
    if (peer_closed_) {
      if (buffer_.empty()) return std::nullopt;
      auto rest = std::move(buffer_);
      buffer_.clear();
      scanned_ = 0;
      return rest;
    }
    if (!receive(deadline)) return std::nullopt;
  }
}

bool client::receive(clock::time_point deadline) {
  while (true) {
    auto old_size = buffer_.size();
    buffer_.resize(old_size + receive_chunk_bytes);
    auto got = ::recv(fd_, buffer_.data() + old_size, receive_chunk_bytes, 0);
    int error = errno;
    buffer_.resize(old_size +
                   static_cast<std::size_t>(std::max<ssize_t>(got, 0)));
    if (got > 0) return true;
    // A reset is how a peer that exits with unread input ends the
    // stream, so it counts as the end like an orderly close.
    if (got == 0 || error == ECONNRESET) {
      peer_closed_ = true;
      return true;
    }
    if (error == EINTR) continue;
    if (error != EAGAIN && error != EWOULDBLOCK)
      throw std::runtime_error("cannot read from " + peer_ + ": " +
                               error_text(error));
    if (!wait_ready(fd_, POLLIN, deadline)) return false;
  }
}

}  // namespace corral
