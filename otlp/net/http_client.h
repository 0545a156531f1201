// otlp/net/http_client.h — an HTTP/1.1 client (Boost.Beast underneath, never in this header)
// with keep-alive connection reuse, timeouts and TLS (OpenSSL).
//
//   auto rt = otlp::net::Runtime::Create();                  // owns one I/O thread
//   auto client = otlp::net::HttpClient::Create(rt, {});
//   otlp::net::HttpRequest req{.method = "POST", .url = "http://127.0.0.1:4318/v1/traces",
//                              .headers = {{"Content-Type", "application/x-protobuf"}},
//                              .body = std::move(payload)};
//   otlp::Result<otlp::net::HttpResponse> resp = (*client)->Send(std::move(req));
//
// Credentials in the URL ("https://user:pass@host/") are sent as Basic authentication unless
// the request has its own Authorization header (as curl does); they never appear in error
// messages. Interim (1xx) responses before the final one are skipped, at most
// kMaxInterimResponses of them, within the request's deadline.
//
// Threading: HttpClient is thread-safe. Send() blocks the calling thread; called on the
// runtime's own I/O thread it fails with kFailedPrecondition instead of deadlocking.
// SendAsync() calls its callback exactly once, on an I/O thread (also for immediate errors).
// Errors come back as a Status, never an exception:
//   kInvalidArgument    bad URL, method or header (not retryable)
//   kUnavailable        refused, reset, closed, DNS failure (retryable); TLS errors (not retryable)
//   kDeadlineExceeded   the whole-request timeout expired (retryable)
//   kPermissionDenied   the server certificate failed verification (not retryable)
//   kResourceExhausted  the response body or headers exceed the limits (not retryable)
//   kInternal           the server sent something that is not HTTP/1.1, or endless interim
//                       responses (not retryable)
//   kCancelled          the client was shut down while the request was in flight
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "otlp/core/export.h"
#include "otlp/core/status.h"
#include "otlp/core/version.h"
#include "otlp/net/headers.h"
#include "otlp/net/runtime.h"
#include "otlp/net/tls.h"

namespace otlp::net {

struct OTLP_EXPORT HttpRequest {
  std::string method = "GET";
  // http:// or https://; user info ("user:pass@") is sent as Basic authentication.
  std::string url{};
  // Host, User-Agent and Content-Length are added unless given here (Content-Length and
  // Transfer-Encoding given here are ignored: the client computes them).
  Headers headers{};
  std::string body{};
  // Whole-request deadline (connect, send, receive); zero means the client's default.
  std::chrono::milliseconds timeout{0};
  // When the connection ends after the status line and headers arrived but before the body is
  // complete, return that response with `body_truncated` set (and the part of the body that
  // arrived) instead of failing with kUnavailable. For callers to whom the status is the answer
  // (an OTLP exporter must not resend a batch the collector acknowledged with 2xx).
  bool accept_truncated_body = false;
};

struct OTLP_EXPORT HttpResponse {
  int status = 0;
  Headers headers{};
  std::string body{};
  // Only with HttpRequest::accept_truncated_body: the connection ended inside the body.
  bool body_truncated = false;
  // Trailer fields, kept apart from `headers`: those after a chunked body (HTTP/1.1); an HTTP/2
  // transport fills it from the trailing HEADERS frame (where gRPC puts grpc-status).
  Headers trailers{};
  // First header with that name (case-insensitive), or nullopt.
  std::optional<std::string_view> Header(std::string_view name) const noexcept {
    return headers.Find(name);
  }
  // First trailer with that name (case-insensitive), or nullopt.
  std::optional<std::string_view> Trailer(std::string_view name) const noexcept {
    return trailers.Find(name);
  }
};

// The most interim (1xx) responses the client skips before a final one; more is an error.
inline constexpr int kMaxInterimResponses = 32;

class OTLP_EXPORT HttpClient {
 public:
  struct Options {
    // ALPN: only "http/1.1" may be listed; it is offered when the list is empty.
    TlsOptions tls{};
    // Resolving the host, the TCP connect and the TLS handshake together; bounded by the
    // request's whole deadline as well.
    std::chrono::milliseconds connect_timeout{10000};
    // Used when HttpRequest::timeout is zero; zero here means no limit.
    std::chrono::milliseconds default_timeout{30000};
    // Idle keep-alive connections kept per (scheme, host, port).
    size_t max_idle_per_host = 4;
    // Closes idle pooled connections after this long.
    std::chrono::milliseconds idle_timeout{60000};
    std::string user_agent = kUserAgent;
    // Largest response body accepted; larger is an error (kResourceExhausted). 0 = no limit.
    size_t max_response_body = 16 * 1024 * 1024;
  };

  // Fails with kInvalidArgument / kNotFound when a TLS file cannot be loaded, kInvalidArgument
  // for an ALPN protocol other than http/1.1.
  static Result<std::unique_ptr<HttpClient>> Create(std::shared_ptr<Runtime> runtime,
                                                    Options options);
  // Cancels requests in flight (their callbacks get kCancelled) and closes pooled connections.
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Blocks until the response, an error, or the timeout. Reuses a pooled keep-alive connection
  // when one is idle; a request that fails on a reused connection before any response byte is
  // retried once on a fresh connection (the server may have closed it while idle).
  Result<HttpResponse> Send(HttpRequest request);
  // Calls `done` on the I/O thread.
  void SendAsync(HttpRequest request, std::function<void(Result<HttpResponse>)> done);

  // Cancels every request in flight (each completes with kCancelled), closes pooled connections
  // and makes later requests fail with kCancelled. Idempotent; the destructor calls it.
  void Shutdown() noexcept;

  // Counters for tests and diagnostics: TCP connections established, and connections idle in
  // the pool right now.
  uint64_t connections_opened() const noexcept;
  size_t idle_connections() const noexcept;

  struct Impl;

 private:
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace otlp::net
