// otlp/net/url.h — absolute URLs of the schemes the network layer speaks, split into parts:
// http/https (HTTP), ws/wss (WebSocket), nats/tls (NATS, plain and TLS).
//
//   Url::Parse("https://[::1]/v1/traces")        scheme "https", host "::1", port 443,
//                                                target "/v1/traces"
//   Url::Parse("nats://alice:s%40cret@10.0.0.5")  user "alice", password "s@cret", port 4222
//   Url::Parse("10.0.0.5:4223", "nats")           a bare host:port, as NATS users write servers
//
//   otlp::Result<otlp::net::Url> url = otlp::net::Url::Parse(text);
//   if (!url.ok()) return url.status();       // kInvalidArgument, the reason in the message
//   Connect(url->host, url->port, url->is_tls());
//
// The scheme and host are lower-cased, a fragment is dropped, unbracketed IPv6 addresses are
// rejected. User info ("user:password@") is kept, percent-decoded, and never printed:
// ToString() and Authority() leave it out, ToStringRedacted() shows "REDACTED" in its place
// (OpenTelemetry's rule for `url.full`).
//
// Threading: a value type; Parse is a pure function.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "otlp/core/export.h"
#include "otlp/core/status.h"

namespace otlp::net {

struct OTLP_EXPORT Url {
  std::string scheme{};  // "http", "https", "ws", "wss", "nats" or "tls"
  // User info, percent-decoded: "user" and "password" of "user:password@"; a NATS token is the
  // user of "token@". `password` is nullopt when there was no ':' in the user info.
  std::string user{};
  std::optional<std::string> password{};
  std::string host{};    // without brackets for IPv6
  uint16_t port = 0;     // explicit or the scheme default
  std::string target{};  // path and query, "/" when empty

  // An absolute URL with one of the schemes above.
  static Result<Url> Parse(std::string_view text);
  // The same, and text without "scheme://" (e.g. "host:4222", "[::1]:4222", "host") is taken as
  // `default_scheme`://text.
  static Result<Url> Parse(std::string_view text, std::string_view default_scheme);
  // The port a scheme implies (80, 443, 4222), or 0 for an unknown scheme.
  static uint16_t DefaultPort(std::string_view scheme) noexcept;

  // "scheme://authority/target", the default port and the user info omitted.
  std::string ToString() const;
  // ToString() with "REDACTED:REDACTED@" (or "REDACTED@" for a user alone) when the URL had
  // user info.
  std::string ToStringRedacted() const;
  // The Host header value: host (bracketed when IPv6) plus ":port" unless it is the default.
  std::string Authority() const;
  bool is_tls() const noexcept { return scheme == "https" || scheme == "wss" || scheme == "tls"; }
  bool has_credentials() const noexcept { return !user.empty() || password.has_value(); }

  friend bool operator==(const Url&, const Url&) = default;
};

}  // namespace otlp::net
