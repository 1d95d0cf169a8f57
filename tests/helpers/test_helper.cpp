// corral-test-helper: small, predictable behaviors for tests to run as
// commands. The tests find it through the CORRAL_TEST_HELPER environment
// variable that ctest sets.
//
//   alloc MIB      malloc and touch MIB MiB; print "allocated", or print
//                  "allocation failed" and exit 3
//   open-fds N     open /dev/null until N are open or EMFILE; print the
//                  count, then "EMFILE" and exit 4 if the limit was hit
//   spin           burn CPU forever
//   ignore-term    ignore SIGTERM, print "ready" and sleep forever
//   write-bytes N  write N bytes of 'x' to stdout
//   print-fds      print this process's open descriptors, space-separated
//   sigmask        print the SigBlk and SigIgn lines of /proc/self/status

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace {

constexpr int usage_exit_code = 2;
constexpr int allocation_failed_exit_code = 3;
constexpr int emfile_exit_code = 4;

int usage() {
  std::cerr << "usage: corral-test-helper alloc MIB | open-fds N | spin | "
               "ignore-term | write-bytes N | print-fds | sigmask\n";
  return usage_exit_code;
}

bool parse_count(const char* text, unsigned long long& value) {
  char* end = nullptr;
  errno = 0;
  value = std::strtoull(text, &end, 10);
  return errno == 0 && end != text && *end == '\0';
}

int alloc(unsigned long long mebibytes) {
  std::size_t size = static_cast<std::size_t>(mebibytes) << 20;
  auto* memory = static_cast<volatile char*>(std::malloc(size));
  if (memory == nullptr) {
    std::cout << "allocation failed" << std::endl;
    return allocation_failed_exit_code;
  }
  // Touch every page so the memory is really committed, not only reserved.
  long page = ::sysconf(_SC_PAGESIZE);
  for (std::size_t offset = 0; offset < size;
       offset += static_cast<std::size_t>(page)) {
    memory[offset] = 1;
  }
  std::cout << "allocated" << std::endl;
  return 0;
}

int open_fds(unsigned long long requested) {
  unsigned long long opened = 0;
  bool hit_limit = false;
  while (opened < requested) {
    if (::open("/dev/null", O_RDONLY) < 0) {
      hit_limit = errno == EMFILE;
      if (!hit_limit) {
        std::perror("open /dev/null");
        return 1;
      }
      break;
    }
    ++opened;
  }
  std::cout << opened << std::endl;
  if (hit_limit) {
    std::cout << "EMFILE" << std::endl;
    return emfile_exit_code;
  }
  return 0;
}

[[noreturn]] void spin() {
  volatile unsigned long long counter = 0;
  for (;;) {
    counter = counter + 1;
  }
}

[[noreturn]] void ignore_term() {
  ::signal(SIGTERM, SIG_IGN);
  std::cout << "ready" << std::endl;
  for (;;) {
    ::pause();
  }
}

int write_bytes(unsigned long long count) {
  std::vector<char> chunk(64 * 1024, 'x');
  while (count > 0) {
    std::size_t size = static_cast<std::size_t>(
        std::min<unsigned long long>(count, chunk.size()));
    ssize_t written = ::write(STDOUT_FILENO, chunk.data(), size);
    if (written < 0) {
      if (errno == EINTR) {
        continue;
      }
      std::perror("write");
      return 1;
    }
    count -= static_cast<unsigned long long>(written);
  }
  return 0;
}

int print_fds() {
  DIR* directory = ::opendir("/proc/self/fd");
  if (directory == nullptr) {
    std::perror("opendir /proc/self/fd");
    return 1;
  }
  std::vector<int> descriptors;
  while (dirent* entry = ::readdir(directory)) {
    if (entry->d_name[0] == '.') {
      continue;
    }
    int fd = std::atoi(entry->d_name);
    // The directory's own descriptor is an artifact of listing.
    if (fd != ::dirfd(directory)) {
      descriptors.push_back(fd);
    }
  }
  ::closedir(directory);
  std::sort(descriptors.begin(), descriptors.end());
  for (std::size_t i = 0; i < descriptors.size(); ++i) {
    std::cout << (i > 0 ? " " : "") << descriptors[i];
  }
  std::cout << std::endl;
  return 0;
}

int print_signal_masks() {
  std::ifstream status("/proc/self/status");
  if (!status) {
    std::perror("open /proc/self/status");
    return 1;
  }
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("SigBlk:", 0) == 0 || line.rfind("SigIgn:", 0) == 0) {
      std::cout << line << "\n";
    }
  }
  std::cout.flush();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    return usage();
  }
  std::string command = argv[1];
  unsigned long long count = 0;
  bool has_count = argc == 3 && parse_count(argv[2], count);

  if (command == "alloc" && has_count) {
    return alloc(count);
  }
  if (command == "open-fds" && has_count) {
    return open_fds(count);
  }
  if (command == "write-bytes" && has_count) {
    return write_bytes(count);
  }
  if (argc == 2) {
    if (command == "spin") {
      spin();
    }
    if (command == "ignore-term") {
      ignore_term();
    }
    if (command == "print-fds") {
      return print_fds();
    }
    if (command == "sigmask") {
      return print_signal_masks();
    }
  }
  return usage();
}
