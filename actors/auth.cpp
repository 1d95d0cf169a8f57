#include "actors/auth.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

namespace corral::actors {

namespace {

bool is_name_character(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '@' || c == '-';
}

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// Splits a line into words separated by spaces or tabs.
std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_blank(line[i]))
      ++i;
    auto start = i;
    while (i < line.size() && !is_blank(line[i]))
      ++i;
    if (i > start)
      words.push_back(line.substr(start, i - start));
  }
  return words;
}

std::string octal_mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

}  // namespace

bool equal_in_constant_time(std::string_view candidate,
                            std::string_view secret) noexcept {
  // Accumulates differences instead of returning at the first one, in the
  // manner of OpenSSL's CRYPTO_memcmp. `volatile` keeps the compiler from
  // turning the loop back into an early exit.
  volatile unsigned char difference = candidate.size() == secret.size() ? 0 : 1;
  for (std::size_t i = 0; i < secret.size(); ++i) {
    unsigned char c =
        i < candidate.size() ? static_cast<unsigned char>(candidate[i]) : 0;
    difference = static_cast<unsigned char>(
        difference | (c ^ static_cast<unsigned char>(secret[i])));
  }
  return difference == 0;
}

token_load_result token_store::parse(std::string_view text,
                                     const std::string& source) {
  token_load_result result;
  token_store store;
  std::set<std::string> names;
  std::set<std::string> tokens;
  std::size_t line_number = 0;
  while (!text.empty()) {
    auto end = text.find('\n');
    auto line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{}
                                         : text.substr(end + 1);
    ++line_number;
    auto where = source + " line " + std::to_string(line_number);
    auto words = split_words(line);
    if (words.empty() || words.front().front() == '#')
      continue;
    if (words.size() != 2) {
      result.errors.push_back(where +
                              ": expected `name token`, two words separated "
                              "by spaces, got " +
                              std::to_string(words.size()) + " words");
      continue;
    }
    std::string name{words[0]};
    std::string token{words[1]};
    bool valid_name = true;
    for (char c : name)
      valid_name = valid_name && is_name_character(c);
    if (!valid_name) {
      result.errors.push_back(where + ": client name \"" + name +
                              "\" is invalid; use letters, digits and ._@-");
      continue;
    }
    if (name == local_client) {
      result.errors.push_back(
          where +
          ": client name \"local\" is reserved for programs that "
          "embed corral; choose another name");
      continue;
    }
    if (!names.insert(name).second) {
      result.errors.push_back(where + ": client name \"" + name +
                              "\" appears more than once; names must be "
                              "unique");
      continue;
    }
    // The messages below leave the token out, because logs and terminals
    // are no place for it.
    if (token.size() < min_token_bytes) {
      result.errors.push_back(where + ": the token of client \"" + name +
                              "\" is " + std::to_string(token.size()) +
                              " characters; tokens need at least " +
                              std::to_string(min_token_bytes) +
                              " (for example from `openssl rand -hex 32`)");
      continue;
    }
    if (!tokens.insert(token).second) {
      result.errors.push_back(where + ": the token of client \"" + name +
                              "\" is also used by another client; give each "
                              "client its own token");
      continue;
    }
    store.entries_.push_back({std::move(name), std::move(token)});
  }
  if (result.errors.empty() && store.entries_.empty())
    result.errors.push_back(source +
                            " contains no `name token` lines, so no client "
                            "could log in; add one per client");
  if (result.errors.empty())
    result.store = std::move(store);
  return result;
}

token_load_result token_store::load(const std::string& path) {
  token_load_result result;
  auto fail = [&](std::string message) {
    result.errors.push_back(std::move(message));
    return result;
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail("auth_tokens_file " + path +
                " cannot be opened: " + std::strerror(errno));

  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return fail("auth_tokens_file " + path + " is not a regular file");
  }
  if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    ::close(fd);
    return fail("auth_tokens_file " + path +
                " is accessible by group or others (mode " +
                octal_mode(info.st_mode) +
                "), so other users could read the tokens; run `chmod 600 " +
                path + "`");
  }

  std::string text;
  char buffer[4096];
  for (;;) {
    auto count = ::read(fd, buffer, sizeof buffer);
    if (count < 0 && errno == EINTR)
      continue;
    if (count < 0) {
      auto error = errno;
      ::close(fd);
      return fail("auth_tokens_file " + path +
                  " cannot be read: " + std::strerror(error));
    }
    if (count == 0)
      break;
    text.append(buffer, static_cast<std::size_t>(count));
  }
  ::close(fd);
  return parse(text, "auth_tokens_file " + path);
}

std::optional<std::string> token_store::find_client(
    std::string_view token) const {
  // Every entry is compared, and the match is selected without a branch on
  // the result, so a wrong token takes as long as a right one.
  std::size_t found = entries_.size();
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    auto equal = static_cast<std::size_t>(
        equal_in_constant_time(token, entries_[i].token));
    auto mask = std::size_t{0} - equal;  // all ones on a match
    found = (i & mask) | (found & ~mask);
  }
  if (found == entries_.size())
    return std::nullopt;
  return entries_[found].name;
}

}  // namespace corral::actors
