#include "isolation/running_process.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <system_error>
#include <utility>

#include "runtime/log.hpp"

namespace corral::isolation {

namespace asio = boost::asio;

namespace {

// Bytes requested per pipe read, the default pipe capacity on Linux.
constexpr std::size_t read_buffer_bytes = 64 * 1024;

double to_milliseconds(const struct timeval& time) {
  return static_cast<double>(time.tv_sec) * 1000.0 +
         static_cast<double>(time.tv_usec) / 1000.0;
}

// Moves `fd` into `descriptor`, which registers it with the reactor.
// Returns false when `fd` is empty or registration failed. In that case
// `fd` keeps the descriptor and closes it.
bool adopt_descriptor(asio::posix::stream_descriptor& descriptor,
                      unique_fd& fd) {
  if (!fd) {
    return false;
  }
  boost::system::error_code error;
  descriptor.assign(fd.get(), error);
  if (error) {
    return false;
  }
  fd.release();
  return true;
}

}  // namespace

running_process::running_process(asio::io_context& io, launched_process process,
                                 launch_spec spec,
                                 std::chrono::steady_clock::time_point started,
                                 callbacks callbacks)
    : pid_(process.pid),
      pidfd_(io),
      stdin_pipe_(io),
      out_(io),
      err_(io),
      state_(io),
      drain_timer_(io),
      drain_timeout_(spec.drain_timeout),
      callbacks_(std::move(callbacks)) {
  outcome_.pid = pid_;
  outcome_.started = started;

  unique_fd pidfd = open_pidfd(pid_);
  if (!pidfd) {
    log::warn(
        "pidfd_open failed pid={} error=\"{}\"; the periodic sweep "
        "will detect the exit",
        pid_, std::system_category().message(errno));
  } else if (!adopt_descriptor(pidfd_, pidfd)) {
    log::warn(
        "cannot watch pidfd pid={}; the periodic sweep will detect "
        "the exit",
        pid_);
  }

  if (adopt_descriptor(stdin_pipe_, process.stdin_pipe)) {
    stdin_data_ = std::move(spec.stdin_data).value_or(std::string());
  }

  auto adopt = [](output_stream& stream, unique_fd& fd, std::size_t max_bytes) {
    if (adopt_descriptor(stream.pipe, fd)) {
      stream.buffer.resize(read_buffer_bytes);
      stream.max_bytes = max_bytes;
    }
  };
  adopt(out_, process.stdout_pipe, spec.max_output_bytes);
  adopt(err_, process.stderr_pipe, spec.max_output_bytes);
  adopt(state_, process.state_pipe, spec.max_state_bytes);
}

void running_process::start() {
  wait_for_exit();
  write_stdin();
  for (output_stream* stream : {&out_, &err_, &state_}) {
    if (stream->pipe.is_open()) {
      read_next(*stream);
    }
  }
}

void running_process::wait_for_exit() {
  if (!pidfd_.is_open()) {
    return;
  }
  pidfd_.async_wait(
      asio::posix::stream_descriptor::wait_read,
      [self = shared_from_this()](const boost::system::error_code& error) {
        self->on_exit_ready(error);
      });
}

void running_process::on_exit_ready(const boost::system::error_code& error) {
  if (error || reaped_ || finished_) {
    return;
  }
  reaped_child child;
  switch (try_reap(pid_, child)) {
    case reap_state::reaped:
      handle_reaped(child);
      return;
    case reap_state::running:
      wait_for_exit();
      return;
    case reap_state::gone:
      // Only the service reaps, so some other code in the process called
      // wait and the status is lost.
      log::error(
          "pid={} was reaped outside the process service; its exit "
          "status is unknown",
          pid_);
      child.pid = pid_;
      handle_reaped(child);
      return;
  }
}

void running_process::write_stdin() {
  if (!stdin_pipe_.is_open()) {
    return;
  }
  // Errors are ignored, because a command that exits without reading its
  // stdin makes the write fail with EPIPE, which is not a failure of the
  // command. The daemon ignores SIGPIPE for this.
  asio::async_write(stdin_pipe_, asio::buffer(stdin_data_),
                    [self = shared_from_this()](
                        const boost::system::error_code&, std::size_t) {
                      boost::system::error_code ignored;
                      self->stdin_pipe_.close(ignored);
                      std::string().swap(self->stdin_data_);
                    });
}

void running_process::read_next(output_stream& stream) {
  stream.pipe.async_read_some(
      asio::buffer(stream.buffer),
      [self = shared_from_this(), &stream](
          const boost::system::error_code& error, std::size_t size) {
        self->on_read(stream, error, size);
      });
}

void running_process::on_read(output_stream& stream,
                              const boost::system::error_code& error,
                              std::size_t size) {
  if (finished_) {
    return;
  }
  collected_stream& collected = stream.collected;
  collected.total += size;
  std::size_t room = stream.max_bytes - collected.data.size();
  std::size_t stored = std::min(size, room);
  collected.data.append(stream.buffer.data(), stored);
  if (stored < size) {
    // The rest is read and dropped, so a full pipe does not stall the
    // command.
    collected.truncated = true;
  }

  if (error) {
    // EOF, or a read error, which ends this stream the same way.
    boost::system::error_code ignored;
    stream.pipe.close(ignored);
    if (reaped_ && all_streams_closed()) {
      finish();
    }
    return;
  }
  read_next(stream);
}

bool running_process::all_streams_closed() const {
  return !out_.pipe.is_open() && !err_.pipe.is_open() && !state_.pipe.is_open();
}

void running_process::handle_reaped(const reaped_child& child) {
  if (reaped_) {
    return;
  }
  reaped_ = true;
  outcome_.exited = std::chrono::steady_clock::now();
  outcome_.wait_status = child.wait_status;
  outcome_.user_ms = to_milliseconds(child.usage.ru_utime);
  outcome_.system_ms = to_milliseconds(child.usage.ru_stime);
  outcome_.max_rss_kb = static_cast<std::uint64_t>(child.usage.ru_maxrss);
  outcome_.minor_faults = static_cast<std::uint64_t>(child.usage.ru_minflt);
  outcome_.major_faults = static_cast<std::uint64_t>(child.usage.ru_majflt);
  outcome_.voluntary_switches =
      static_cast<std::uint64_t>(child.usage.ru_nvcsw);
  outcome_.involuntary_switches =
      static_cast<std::uint64_t>(child.usage.ru_nivcsw);

  boost::system::error_code ignored;
  pidfd_.close(ignored);
  if (callbacks_.exited) {
    callbacks_.exited(*this);
  }

  if (all_streams_closed()) {
    finish();
    return;
  }
  // A background child that inherited the pipes can keep them open
  // forever, so the outcome is reported after the drain timeout at most.
  drain_timer_.expires_after(drain_timeout_);
  drain_timer_.async_wait(
      [self = shared_from_this()](const boost::system::error_code& error) {
        if (!error) {
          self->finish();
        }
      });
}

void running_process::finish() {
  if (finished_) {
    return;
  }
  auto self = shared_from_this();
  finished_ = true;
  close_all();
  outcome_.out = std::move(out_.collected);
  outcome_.err = std::move(err_.collected);
  outcome_.state = std::move(state_.collected);

  auto finished = std::move(callbacks_.finished);
  callbacks_ = {};
  if (finished) {
    finished(*this, std::move(outcome_));
  }
}

void running_process::abandon() {
  finished_ = true;
  callbacks_ = {};
  close_all();
}

void running_process::close_all() {
  boost::system::error_code ignored;
  drain_timer_.cancel();
  pidfd_.close(ignored);
  stdin_pipe_.close(ignored);
  out_.pipe.close(ignored);
  err_.pipe.close(ignored);
  state_.pipe.close(ignored);
}

}  // namespace corral::isolation
