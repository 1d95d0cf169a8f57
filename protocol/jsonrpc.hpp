#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "protocol/messages.hpp"

namespace boost::json {
class object;
}

namespace corral::protocol {

/// The `params` of a call. Shared and immutable, so a call can be passed
/// between actors without copying the JSON tree; only protocol/ looks
/// inside.
using params_ptr = std::shared_ptr<const boost::json::object>;

/// One well-formed JSON-RPC call.
struct call {
  /// The request `id` as JSON text (`7`, `"a"`, `null`), used verbatim in
  /// the reply. Empty for a notification, which gets no reply.
  std::string id;
  std::string method;
  params_ptr params;  // never null; an absent `params` is an empty object

  bool is_notification() const noexcept { return id.empty(); }
};

/// A batch entry or single message that could not be read as a call. It
/// still gets an error reply, with `id: null` when the id could not be read.
struct bad_call {
  std::string id;  // JSON text; `null` when the id could not be read
  rpc_error error;
};

/// A parsed line: a single message or a batch, each entry a call or an
/// error to reply with. An empty batch `[]` parses to one `bad_call`.
struct parsed_line {
  bool batch = false;
  std::vector<std::variant<call, bad_call>> entries;
};

/// Parses one line as JSON-RPC 2.0. Malformed JSON gives a single
/// `parse_error`; a value that is not a request object gives
/// `invalid_request`. `jsonrpc` may be omitted but, if present, must be
/// "2.0". Never throws.
parsed_line parse_line(std::string_view line);

/// Returns a complete success reply line, without the trailing newline.
/// `result_json` is the JSON text of the `result` member.
std::string encode_result(std::string_view id, std::string_view result_json);

/// Returns a complete error reply line, without the trailing newline. The
/// error carries `data.error` (the symbolic name) and `data` members for
/// each detail. `id` empty or "null" both reply with `"id": null`.
std::string encode_error(std::string_view id, const rpc_error& error);

/// Joins reply lines of one batch into a JSON array, without newline.
std::string encode_batch(const std::vector<std::string>& replies);

// -- params decoders ----------------------------------------------------------
// Each returns the typed parameters or an `invalid_params` error whose
// message names the field, what was wrong and what is accepted. Unknown
// fields are rejected too, so a misspelt option never goes unnoticed.

template <class T>
using decoded = std::variant<T, rpc_error>;

decoded<session_options> decode_session_create(const params_ptr& params);

/// Decodes `exec.run`. `max_stdin_bytes` is checked after base64 decoding
/// and gives `stdin_too_large`, naming both sizes.
decoded<exec_request> decode_exec_run(const params_ptr& params,
                                      std::size_t max_stdin_bytes);

/// Decodes the params of methods that only name a session
/// (`session.destroy`, `exec.cancel`).
decoded<std::string> decode_session_id(const params_ptr& params);

/// Decodes `auth.login` params: the token. Error messages never contain
/// the token.
decoded<std::string> decode_login(const params_ptr& params);

/// Checks that a method that takes no parameters got none.
std::optional<rpc_error> expect_no_params(const params_ptr& params);

// -- result encoders ----------------------------------------------------------
// Each returns the JSON text of a `result` member.

/// Encodes an exec result. With `utf8` encoding, invalid UTF-8 is replaced
/// by U+FFFD and `stdout_lossy`/`stderr_lossy` are set. A stream cut at the
/// output cap loses the incomplete trailing character instead of showing
/// it as a replacement. With `base64` the bytes are sent as they are.
std::string encode_exec_result(const exec_result& result);

std::string encode_session_info(const session_info& info);
std::string encode_session_list(const std::vector<session_info>& sessions);
std::string encode_system_stats(const system_stats& stats);

// -- extension methods --------------------------------------------------------
// Methods of extension actors travel as JSON text, so an extension can use
// any JSON library.

/// Returns the params of a call as JSON object text.
std::string encode_params(const params_ptr& params);

/// Returns `text` re-serialized when it is one valid JSON value, or nothing.
/// Used on results of extension actors before they reach a client.
std::optional<std::string> normalize_json(std::string_view text);

/// Encodes `{"pong": true, "version": ...}` for `system.ping`.
std::string encode_pong(std::string_view version);

/// Encodes `{}` style acknowledgements such as `{"destroyed": "s-1"}`.
std::string encode_flag(std::string_view key, std::string_view value);

}  // namespace corral::protocol
