#pragma once

// Extension actors add JSON-RPC methods to corral. Register one with
// `corral::runtime::add_extension("kv", actor)` and every method named
// `kv.<anything>` reaches it, with the same admission as the built-in
// methods (the drain rejects new calls with SHUTTING_DOWN).
//
// The actor receives
//
//   (call_atom, std::string method, std::string params, std::string client)
//
// where `params` is the request's params as JSON object text and `client`
// is the caller's client identity: the token's client name when
// authentication is on, else the peer's IP address. It replies with the
// `result` as JSON text, or with an error made by `actors::make_error` to
// send that code and message to the client. It must reply within
// `extension_timeout_ms` (default 30 s). A late reply, an invalid JSON
// result, an exception or a dead actor cost the client this request
// (INTERNAL_ERROR), never the connection.

#include "actors/atoms.hpp"
#include "actors/error.hpp"
