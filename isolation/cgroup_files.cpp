#include "isolation/cgroup_files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <system_error>
#include <thread>
#include <utility>

#include "isolation/unique_fd.hpp"

namespace corral::isolation {

std::string cgroup_error::message() const {
  return operation + " " + path + ": " +
         std::system_category().message(error_number);
}

int cgroup_directories::make_directory(const std::string& path) {
  return ::mkdir(path.c_str(), 0755) == 0 ? 0 : errno;
}

int cgroup_directories::remove_directory(const std::string& path) {
  return ::rmdir(path.c_str()) == 0 ? 0 : errno;
}

namespace cgroup_detail {

namespace {

constexpr std::chrono::milliseconds retry_pause{5};

}  // namespace

int read_text(const std::string& path, std::string& text) {
  unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return errno;
  }
  text.clear();
  char buffer[4096];
  for (;;) {
    ssize_t count = ::read(fd.get(), buffer, sizeof buffer);
    if (count < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno;
    }
    if (count == 0) {
      return 0;
    }
    text.append(buffer, static_cast<std::size_t>(count));
  }
}

int write_text(const std::string& path, std::string_view text) {
  // O_TRUNC matters only for the plain files of a test tree; the kernel's
  // interface files ignore it.
  unique_fd fd(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  if (!fd) {
    return errno;
  }
  ssize_t written = ::write(fd.get(), text.data(), text.size());
  if (written < 0) {
    return errno;
  }
  return static_cast<std::size_t>(written) == text.size() ? 0 : EIO;
}

bool exists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

std::vector<std::string> subdirectories(const std::string& path) {
  std::vector<std::string> names;
  DIR* directory = ::opendir(path.c_str());
  if (directory == nullptr) {
    return names;
  }
  while (dirent* entry = ::readdir(directory)) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") {
      continue;
    }
    bool is_directory = entry->d_type == DT_DIR;
    if (entry->d_type == DT_UNKNOWN) {
      struct stat info {};
      is_directory = ::stat((path + "/" + name).c_str(), &info) == 0 &&
                     S_ISDIR(info.st_mode);
    }
    if (is_directory) {
      names.push_back(std::move(name));
    }
  }
  ::closedir(directory);
  std::sort(names.begin(), names.end());
  return names;
}

std::optional<std::uint64_t> parse_number(std::string_view text) {
  while (!text.empty() &&
         std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() &&
         std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  if (text.empty()) {
    return std::nullopt;
  }
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

std::optional<std::uint64_t> find_key(std::string_view text,
                                      std::string_view key) {
  std::size_t begin = 0;
  while (begin < text.size()) {
    std::size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view line = text.substr(begin, end - begin);
    begin = end + 1;
    if (line.size() > key.size() && line.compare(0, key.size(), key) == 0 &&
        line[key.size()] == ' ') {
      return parse_number(line.substr(key.size() + 1));
    }
  }
  return std::nullopt;
}

std::uint64_t read_number(const std::string& path) {
  std::string text;
  if (read_text(path, text) != 0) {
    return 0;
  }
  return parse_number(text).value_or(0);
}

std::uint64_t read_key(const std::string& path, std::string_view key) {
  std::string text;
  if (read_text(path, text) != 0) {
    return 0;
  }
  return find_key(text, key).value_or(0);
}

std::vector<pid_t> read_pids(const std::string& procs_path) {
  std::vector<pid_t> pids;
  std::string text;
  if (read_text(procs_path, text) != 0) {
    return pids;
  }
  std::size_t begin = 0;
  while (begin < text.size()) {
    std::size_t end = text.find('\n', begin);
    if (end == std::string::npos) {
      end = text.size();
    }
    if (auto pid =
            parse_number(std::string_view(text).substr(begin, end - begin))) {
      pids.push_back(static_cast<pid_t>(*pid));
    }
    begin = end + 1;
  }
  return pids;
}

std::vector<pid_t> pids_in(const std::vector<std::string>& groups) {
  std::vector<pid_t> pids;
  for (const std::string& group : groups) {
    std::vector<pid_t> found = read_pids(group + "/cgroup.procs");
    pids.insert(pids.end(), found.begin(), found.end());
  }
  std::sort(pids.begin(), pids.end());
  pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
  return pids;
}

bool kill_processes(const std::vector<std::string>& groups,
                    std::chrono::milliseconds bound) {
  auto deadline = std::chrono::steady_clock::now() + bound;
  pid_t self = ::getpid();
  for (;;) {
    std::vector<pid_t> pids = pids_in(groups);
    pids.erase(
        std::remove_if(pids.begin(), pids.end(),
                       [self](pid_t pid) { return pid <= 1 || pid == self; }),
        pids.end());
    if (pids.empty()) {
      return true;
    }
    // Repeated passes catch children forked between reading the list and
    // the signal; pids.max keeps that race finite.
    for (pid_t pid : pids) {
      ::kill(pid, SIGKILL);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(retry_pause);
  }
}

int remove_group(cgroup_directories& directories, const std::string& group,
                 std::chrono::milliseconds bound) {
  auto deadline = std::chrono::steady_clock::now() + bound;
  for (;;) {
    int error = directories.remove_directory(group);
    if (error == 0 || error == ENOENT) {
      return 0;
    }
    if (error != EBUSY || std::chrono::steady_clock::now() >= deadline) {
      return error;
    }
    std::this_thread::sleep_for(retry_pause);
  }
}

std::optional<cgroup_error> remove_tree(cgroup_directories& directories,
                                        const std::string& group,
                                        std::chrono::milliseconds bound) {
  std::optional<cgroup_error> first_error;
  for (const std::string& child : subdirectories(group)) {
    auto error = remove_tree(directories, group + "/" + child, bound);
    if (error && !first_error) {
      first_error = std::move(error);
    }
  }
  kill_processes({group}, bound);
  if (int error = remove_group(directories, group, bound)) {
    if (!first_error) {
      first_error = make_error("rmdir", group, error);
    }
  }
  return first_error;
}

cgroup_error make_error(std::string operation, std::string path,
                        int error_number) {
  return cgroup_error{std::move(operation), std::move(path), error_number};
}

std::uint64_t cpu_quota_us(std::uint64_t percent) {
  return percent * cpu_period_us / 100;
}

}  // namespace cgroup_detail

}  // namespace corral::isolation
