// otlp/http/response.h — an HTTP response as otlp::http returns it: status, headers (looked up
// case-insensitively), the body as text, bytes or JSON, the URL that answered after redirects,
// the protocol version and timings.
//
//   otlp::Result<otlp::http::Response> r = otlp::http::Get("https://api.example.com/users/1");
//   if (!r.ok()) return r.status();            // no response at all (see error.h)
//   if (!r->ok()) return r->StatusError();     // a response, but not 2xx
//   std::optional<std::string_view> type = r->Header("content-type");
//   otlp::Result<nlohmann::json> user = r->Json();
//   if (user.ok()) std::cout << (*user)["name"] << "\n";
//
// A 4xx or 5xx answer is a Response, not an error (as in requests and reqwest): check ok() or
// call StatusError().
//
// Threading: a value type.
#pragma once

#include <chrono>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "otlp/core/export.h"
#include "otlp/core/status.h"
#include "otlp/net/headers.h"
#include "otlp/trace/span_context.h"

namespace otlp::http {

// Where the time of a request went. `total` is always set (from the call to the response,
// redirects and retries included). The phases are those of the final attempt, from its start
// as the transport measured them; a phase that did not happen (dns, connect and tls on a reused
// connection, dns for an IP address, tls for http://) is nullopt.
struct OTLP_EXPORT Timings {
  std::optional<std::chrono::microseconds> dns{};
  std::optional<std::chrono::microseconds> connect{};
  std::optional<std::chrono::microseconds> tls{};
  std::optional<std::chrono::microseconds> first_byte{};
  std::chrono::microseconds total{0};
};

struct OTLP_EXPORT Response {
  int status = 0;
  net::Headers headers{};
  std::string body{};
  // Trailer fields (chunked HTTP/1.1 bodies, HTTP/2 trailing HEADERS).
  net::Headers trailers{};
  // The URL that gave this response: the request's (query included) or the last redirect's.
  std::string url{};
  // The protocol version that carried the final response: "1.1", "1.0" or "2".
  std::string protocol_version = "1.1";
  // The final attempt went over a pooled connection opened by an earlier request.
  bool connection_reused = false;
  // Redirects followed and attempts made to get this response.
  int redirects = 0;
  int attempts = 1;
  Timings timings{};
  // The span context sent with the final attempt (traceparent): the attempt's CLIENT span, or
  // the caller's context when no span was recorded; invalid when none was sent.
  trace::SpanContext trace_context{};

  // True for 2xx.
  bool ok() const noexcept { return status >= 200 && status < 300; }
  // The first header with that name (any case), or nullopt.
  std::optional<std::string_view> Header(std::string_view name) const noexcept {
    return headers.Find(name);
  }
  const std::string& Text() const noexcept { return body; }
  std::span<const std::byte> Bytes() const noexcept {
    return std::as_bytes(std::span<const char>(body.data(), body.size()));
  }
  // The body parsed as JSON; kInvalidArgument (ErrorKind::kDecoding) with the parser's message
  // when it is not.
  Result<nlohmann::json> Json() const;
  // OK for 2xx; otherwise an error naming the status and the URL (kNotFound for 404,
  // kPermissionDenied for 403, kUnauthenticated for 401, kResourceExhausted for 429,
  // kUnavailable for 502/503/504 (retryable), kInvalidArgument for other 4xx, kInternal for
  // other 5xx, kUnknown for 1xx and 3xx).
  Status StatusError() const;
};

}  // namespace otlp::http
