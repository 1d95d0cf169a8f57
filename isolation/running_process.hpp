#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "isolation/launcher.hpp"
#include "isolation/process_service.hpp"
#include "isolation/reaper.hpp"

namespace corral::isolation {

/// One started command on the service thread: waits for its exit through
/// a pidfd, writes its stdin, collects its output and reports the outcome.
/// Every member function must run on the thread of the io_context.
class running_process : public std::enable_shared_from_this<running_process> {
 public:
  /// Callbacks into the owner, called on the service thread.
  struct callbacks {
    /// Called once the process is reaped.
    std::function<void(running_process& process)> exited;
    /// Called once when output collection ends after the exit.
    std::function<void(running_process& process, process_outcome outcome)>
        finished;
  };

  /// Takes over the pipes of `process`. `spec` supplies the output caps,
  /// the drain timeout and the stdin data, which is moved out of it.
  running_process(boost::asio::io_context& io, launched_process process,
                  launch_spec spec,
                  std::chrono::steady_clock::time_point started,
                  callbacks callbacks);

  running_process(const running_process&) = delete;
  running_process& operator=(const running_process&) = delete;

  /// Starts the exit wait, the stdin write and the output reads.
  void start();

  /// Records the exit of the process, reaped by the pidfd wait here or by
  /// the service's sweep. Ignored when already reaped.
  void handle_reaped(const reaped_child& child);

  /// Closes every descriptor and cancels every wait without calling the
  /// callbacks again.
  void abandon();

  /// Returns the pid, which is also the process group id.
  pid_t pid() const noexcept { return pid_; }

  /// Returns true once the process is reaped.
  bool reaped() const noexcept { return reaped_; }

 private:
  // One output pipe and what was collected from it.
  struct output_stream {
    explicit output_stream(boost::asio::io_context& io) : pipe(io) {}

    boost::asio::posix::stream_descriptor pipe;
    std::vector<char> buffer;
    collected_stream collected;
    std::size_t max_bytes = 0;
  };

  void wait_for_exit();
  void on_exit_ready(const boost::system::error_code& error);
  void write_stdin();
  void read_next(output_stream& stream);
  void on_read(output_stream& stream, const boost::system::error_code& error,
               std::size_t size);
  bool all_streams_closed() const;
  void finish();
  void close_all();

  pid_t pid_;
  boost::asio::posix::stream_descriptor pidfd_;
  boost::asio::posix::stream_descriptor stdin_pipe_;
  std::string stdin_data_;
  output_stream out_;
  output_stream err_;
  output_stream state_;
  boost::asio::steady_timer drain_timer_;
  std::chrono::milliseconds drain_timeout_;
  process_outcome outcome_;
  callbacks callbacks_;
  bool reaped_ = false;
  bool finished_ = false;
};

}  // namespace corral::isolation
