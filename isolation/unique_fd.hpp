#pragma once

#include <unistd.h>

#include <utility>

namespace corral::isolation {

/// An owned file descriptor that is closed on destruction; -1 means none.
class unique_fd {
 public:
  unique_fd() noexcept = default;

  /// Takes ownership of `fd`.
  explicit unique_fd(int fd) noexcept : fd_(fd) {}

  unique_fd(unique_fd&& other) noexcept : fd_(other.release()) {}

  unique_fd& operator=(unique_fd&& other) noexcept {
    reset(other.release());
    return *this;
  }

  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;

  ~unique_fd() { reset(); }

  /// Returns the descriptor, or -1.
  int get() const noexcept { return fd_; }

  /// Returns true when a descriptor is owned.
  explicit operator bool() const noexcept { return fd_ >= 0; }

  /// Gives up ownership and returns the descriptor.
  int release() noexcept { return std::exchange(fd_, -1); }

  /// Closes the owned descriptor, if any, and takes ownership of `fd`.
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace corral::isolation
