#include "actors/shell_wrapper.hpp"

#include <charconv>

#include "isolation/process_service.hpp"

namespace corral::actors {

namespace {

// The trap writes the status and cwd, the builtin `export -p` and a final
// line, so a report cut short (the shell killed while writing, or the state
// cap reached) lacks the final line and is rejected. A builtin avoids the
// cost of running /usr/bin/env and cannot be broken by a changed PATH. The
// explicit `exit` keeps the command's status as the shell's exit status.
constexpr std::string_view trap_prefix =
    "trap 'corral_status=$?; "
    "{ printf \"%s\\0%s\\0\" \"$corral_status\" \"$PWD\"; export -p; "
    "printf \"corral-end\\n\"; } >&";
constexpr std::string_view trap_suffix = "; exit \"$corral_status\"' EXIT\n";

constexpr std::string_view end_marker = "corral-end\n";

bool is_shell_maintained(std::string_view name) {
  return name == "PWD" || name == "SHLVL" || name == "_";
}

// Removes `prefix` from the front of `text` if `text` starts with it.
bool consume(std::string_view& text, std::string_view prefix) {
  if (text.substr(0, prefix.size()) != prefix)
    return false;
  text.remove_prefix(prefix.size());
  return true;
}

char take(std::string_view& text) {
  char c = text.front();
  text.remove_prefix(1);
  return c;
}

bool is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_name_start(char c) { return is_letter(c) || c == '_'; }

bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

int hex_digit_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

// Reads the rest of a '...' word part, after the opening quote.
bool read_single_quoted(std::string_view& text, std::string& word) {
  auto end = text.find('\'');
  if (end == std::string_view::npos)
    return false;
  word.append(text.substr(0, end));
  text.remove_prefix(end + 1);
  return true;
}

// Reads the rest of a "..." word part. As in POSIX sh, a backslash escapes
// only $, `, ", \ and newline there, and stays literal before anything else.
bool read_double_quoted(std::string_view& text, std::string& word) {
  while (!text.empty()) {
    char c = take(text);
    if (c == '"')
      return true;
    if (c == '\\' && !text.empty() &&
        std::string_view{"$`\"\\\n"}.find(text.front()) !=
            std::string_view::npos) {
      c = take(text);
      if (c == '\n')
        continue;
    }
    word += c;
  }
  return false;
}

// Appends the character of one escape in a $'...' word part, after its
// backslash. Accepts what bash 5.2 writes (\E, \a, \b, \f, \n, \r, \t, \v,
// \\, \' and three octal digits) and also \e, \", \? and \xHH. Any other
// escape fails, so that a value is never guessed.
bool read_ansi_c_escape(std::string_view& text, std::string& word) {
  if (text.empty())
    return false;
  char c = take(text);
  switch (c) {
    case 'a':
      word += '\a';
      return true;
    case 'b':
      word += '\b';
      return true;
    case 'e':
    case 'E':
      word += '\x1b';
      return true;
    case 'f':
      word += '\f';
      return true;
    case 'n':
      word += '\n';
      return true;
    case 'r':
      word += '\r';
      return true;
    case 't':
      word += '\t';
      return true;
    case 'v':
      word += '\v';
      return true;
    case '\\':
    case '\'':
    case '"':
    case '?':
      word += c;
      return true;
    case 'x': {
      int value = 0;
      int digits = 0;
      for (; digits < 2 && !text.empty(); ++digits) {
        int digit = hex_digit_value(text.front());
        if (digit < 0)
          break;
        text.remove_prefix(1);
        value = value * 16 + digit;
      }
      if (digits == 0)
        return false;
      word += static_cast<char>(value);
      return true;
    }
    default:
      break;
  }
  if (c < '0' || c > '7')
    return false;
  // Takes up to three octal digits and, like bash 5.2 for $'\777', keeps
  // the low 8 bits.
  int value = c - '0';
  for (int digits = 1; digits < 3 && !text.empty(); ++digits) {
    if (text.front() < '0' || text.front() > '7')
      break;
    value = value * 8 + (take(text) - '0');
  }
  word += static_cast<char>(value & 0xff);
  return true;
}

// Reads the rest of a $'...' word part, after the opening quote.
bool read_ansi_c_quoted(std::string_view& text, std::string& word) {
  while (!text.empty()) {
    char c = take(text);
    if (c == '\'')
      return true;
    if (c != '\\')
      word += c;
    else if (!read_ansi_c_escape(text, word))
      return false;
  }
  return false;
}

// Reads a shell word up to the newline that ends the record, removing the
// quoting. Returns false if the text ends before that newline.
bool read_word(std::string_view& text, std::string& word) {
  while (!text.empty()) {
    char c = take(text);
    bool complete = true;
    if (c == '\n')
      return true;
    if (c == '\'')
      complete = read_single_quoted(text, word);
    else if (c == '"')
      complete = read_double_quoted(text, word);
    else if (c == '$' && consume(text, "'"))
      complete = read_ansi_c_quoted(text, word);
    else if (c == '\\' && !text.empty()) {
      c = take(text);
      if (c != '\n')
        word += c;
    } else
      word += c;
    if (!complete)
      return false;
  }
  return false;
}

// One record of `export -p`. `value` is missing for a variable that was
// exported without a value.
struct export_record {
  std::string name;
  std::optional<std::string> value;
  bool is_array = false;
};

// Reads the command and options of a record: "export " (dash, bash --posix,
// which writes "export -a " or "export -A " for arrays) or "declare -x "
// with any further attribute letters (bash). Returns the option letters.
std::optional<std::string_view> read_export_command(std::string_view& text) {
  bool is_declare = consume(text, "declare -");
  if (!is_declare) {
    if (!consume(text, "export "))
      return std::nullopt;
    if (!consume(text, "-"))
      return std::string_view{};
  }
  std::size_t end = 0;
  while (end < text.size() && is_letter(text[end]))
    ++end;
  if (end == 0 || end == text.size() || text[end] != ' ')
    return std::nullopt;
  auto options = text.substr(0, end);
  text.remove_prefix(end + 1);
  if (is_declare && options.find('x') == std::string_view::npos)
    return std::nullopt;
  return options;
}

std::optional<export_record> read_export_record(std::string_view& text) {
  auto options = read_export_command(text);
  if (!options)
    return std::nullopt;
  export_record record;
  record.is_array = options->find_first_of("aA") != std::string_view::npos;

  if (text.empty() || !is_name_start(text.front()))
    return std::nullopt;
  while (!text.empty() && is_name_char(text.front()))
    record.name += take(text);

  if (consume(text, "\n"))
    return record;
  if (!consume(text, "="))
    return std::nullopt;
  record.value.emplace();
  if (!read_word(text, *record.value))
    return std::nullopt;
  return record;
}

}  // namespace

std::string wrap_command(std::string_view command) {
  const auto fd = std::to_string(isolation::state_fd);
  std::string script;
  script.reserve(command.size() + 160);
  script.append(trap_prefix);
  script.append(fd);
  script.append(trap_suffix);
  script.append(command);
  return script;
}

std::optional<shell_state> parse_shell_state(std::string_view report) {
  shell_state state;

  auto status_end = report.find('\0');
  if (status_end == std::string_view::npos || status_end == 0)
    return std::nullopt;
  auto status = report.substr(0, status_end);
  auto [ptr, ec] = std::from_chars(status.data(), status.data() + status.size(),
                                   state.exit_code);
  if (ec != std::errc{} || ptr != status.data() + status.size())
    return std::nullopt;

  auto cwd_begin = status_end + 1;
  auto cwd_end = report.find('\0', cwd_begin);
  if (cwd_end == std::string_view::npos || cwd_end == cwd_begin)
    return std::nullopt;
  state.cwd = std::string{report.substr(cwd_begin, cwd_end - cwd_begin)};

  // Quoted values can contain the end marker's text, but the record reader
  // consumes them whole, so the marker is only seen where a record starts.
  auto listing = report.substr(cwd_end + 1);
  while (listing != end_marker) {
    auto record = read_export_record(listing);
    if (!record)
      return std::nullopt;
    if (!record->value || record->is_array || is_shell_maintained(record->name))
      continue;
    state.env[std::move(record->name)] = std::move(*record->value);
  }
  return state;
}

}  // namespace corral::actors
