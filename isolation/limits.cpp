#include "isolation/limits.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace corral::isolation {

std::optional<run_as_user> resolve_user(const std::string& name,
                                        std::string& error) {
  long suggested = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buffer(suggested > 0 ? static_cast<std::size_t>(suggested)
                                         : 16384);
  struct passwd entry {};
  struct passwd* found = nullptr;
  int status = 0;
  while ((status = ::getpwnam_r(name.c_str(), &entry, buffer.data(),
                                buffer.size(), &found)) == ERANGE) {
    buffer.resize(buffer.size() * 2);
  }
  if (status != 0) {
    error = "cannot look up user \"" + name +
            "\": " + std::system_category().message(status);
    return std::nullopt;
  }
  if (found == nullptr) {
    error = "user \"" + name + "\" not found";
    return std::nullopt;
  }

  run_as_user user;
  user.name = name;
  user.uid = entry.pw_uid;
  user.gid = entry.pw_gid;
  user.home = entry.pw_dir != nullptr ? entry.pw_dir : "";

  // getgrouplist returns -1 when the array is too small and sets `count`
  // to the size it needs. A second call then fits, unless the group
  // database changed in between.
  int count = 32;
  for (int attempt = 0; attempt < 3; ++attempt) {
    user.groups.resize(static_cast<std::size_t>(count));
    if (::getgrouplist(name.c_str(), user.gid, user.groups.data(), &count) >=
        0) {
      user.groups.resize(static_cast<std::size_t>(count));
      return user;
    }
  }
  error = "cannot list the groups of user \"" + name + "\"";
  return std::nullopt;
}

}  // namespace corral::isolation
