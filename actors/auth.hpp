#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corral::actors {

/// Shortest token the token file accepts, in bytes.
constexpr std::size_t min_token_bytes = 16;

/// Client name that embedded callers of the supervisor act as, which the
/// token file may not use.
constexpr std::string_view local_client = "local";

/// One line of the token file: a client name and its secret token.
struct token_entry {
  std::string name;
  std::string token;
};

struct token_load_result;

/// The clients that may log in with `auth.login`, read from the file named
/// by `auth_tokens_file`. Immutable once loaded, so connections on any
/// thread may share it.
class token_store {
 public:
  /// Reads `path` and validates it: it must be a readable regular file
  /// that neither group nor others may read, with at least one entry.
  static token_load_result load(const std::string& path);

  /// Parses the text of a token file: one `name token` per line, `#`
  /// comments and blank lines ignored. Names consist of letters, digits
  /// and `._@-`, are unique and are not `local`. Tokens are unique and at
  /// least `min_token_bytes` long. `source` names the file in messages.
  static token_load_result parse(std::string_view text,
                                 const std::string& source);

  /// Returns the name of the client whose token equals `token`. Compares
  /// `token` with every entry and never stops early, so the time taken
  /// depends on the stored tokens' lengths and `token`'s length, not on
  /// which bytes match.
  std::optional<std::string> find_client(std::string_view token) const;

  /// Returns the number of clients.
  std::size_t size() const noexcept { return entries_.size(); }

 private:
  std::vector<token_entry> entries_;
};

/// The outcome of loading a token file: the store, or every problem
/// found. Messages name the file and the line, never a token.
struct token_load_result {
  std::optional<token_store> store;
  std::vector<std::string> errors;
};

/// Compares `candidate` with `secret` without branching on their bytes:
/// the loop always covers all of `secret`. Returns true when they are
/// equal.
bool equal_in_constant_time(std::string_view candidate,
                            std::string_view secret) noexcept;

}  // namespace corral::actors
