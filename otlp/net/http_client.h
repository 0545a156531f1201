// otlp/net/http_client.h — the I/O runtime and an HTTP/1.1 client (Boost.Beast underneath, never
// in this header) with keep-alive connection reuse, timeouts and TLS (OpenSSL).
//
//   auto rt = otlp::net::Runtime::Create();                  // owns one I/O thread
//   auto client = otlp::net::HttpClient::Create(rt, {});
//   otlp::net::HttpRequest req{.method = "POST", .url = "http://127.0.0.1:4318/v1/traces",
//                              .headers = {{"Content-Type", "application/x-protobuf"}},
//                              .body = std::move(payload)};
//   otlp::Result<otlp::net::HttpResponse> resp = (*client)->Send(std::move(req));
//
// Threading: Runtime and HttpClient are thread-safe. Send() blocks the calling thread; called on
// the runtime's own I/O thread it fails with kFailedPrecondition instead of deadlocking.
// SendAsync() calls its callback exactly once, on an I/O thread (also for immediate errors).
// Errors come back as a Status, never an exception:
//   kInvalidArgument    bad URL, method or header (not retryable)
//   kUnavailable        refused, reset, closed, DNS failure (retryable); TLS errors (not retryable)
//   kDeadlineExceeded   the whole-request timeout expired (retryable)
//   kPermissionDenied   the server certificate failed verification (not retryable)
//   kResourceExhausted  the response body or headers exceed the limits (not retryable)
//   kInternal           the server sent something that is not HTTP/1.1 (not retryable)
//   kCancelled          the client was destroyed while the request was in flight
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

#include "otlp/core/status.h"
#include "otlp/core/version.h"

namespace otlp::net {

// Owns an io_context and the thread(s) that run it. No hidden globals: every component that does
// I/O is handed a Runtime (or creates its own). Clients and servers keep their Runtime alive.
class Runtime {
 public:
  struct Options {
    int threads = 1;  // at least 1
    std::string thread_name = "otlp-io";
  };
  static std::shared_ptr<Runtime> Create(Options options);
  static std::shared_ptr<Runtime> Create() { return Create(Options{}); }
  // Lets queued work finish (bounded to a few seconds), then stops the I/O and joins its
  // threads. Safe to run on one of its own I/O threads (that thread is then detached).
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // True on one of this runtime's I/O threads.
  bool InIoThread() const noexcept;
  // Runs f on an I/O thread. An exception escaping f is logged and swallowed.
  void Post(std::function<void()> f);
  int thread_count() const noexcept;

  struct Impl;
  Impl& impl() noexcept { return *impl_; }

 private:
  explicit Runtime(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

struct TlsOptions {
  bool verify_peer = true;                // verify the server certificate and host name
  std::string ca_file{};                  // PEM CA bundle; the system store when empty
  std::string client_certificate_file{};  // PEM chain for mutual TLS
  std::string client_key_file{};          // PEM private key for mutual TLS
  std::string server_name{};              // SNI / verification name; the URL host when empty
};

// An absolute http:// or https:// URL split into parts.
//
//   Url::Parse("https://[::1]/v1/traces") -> {"https", "::1", 443, "/v1/traces"}
//
// The scheme and host are lower-cased, a fragment is dropped, user info ("user@") and
// unbracketed IPv6 addresses are rejected with kInvalidArgument.
struct Url {
  std::string scheme{};  // "http" or "https"
  std::string host{};    // without brackets for IPv6
  uint16_t port = 0;     // explicit or the scheme default
  std::string target{};  // path and query, "/" when empty
  static Result<Url> Parse(std::string_view text);
  // "scheme://authority/target", the default port omitted.
  std::string ToString() const;
  // The Host header value: host (bracketed when IPv6) plus ":port" unless it is the default.
  std::string Authority() const;
  bool is_tls() const noexcept { return scheme == "https"; }
};

using Headers = std::vector<std::pair<std::string, std::string>>;

// First header with that name (case-insensitive), or nullopt.
std::optional<std::string_view> FindHeader(const Headers& headers, std::string_view name) noexcept;

struct HttpRequest {
  std::string method = "GET";
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

struct HttpResponse {
  int status = 0;
  Headers headers{};
  std::string body{};
  // Only with HttpRequest::accept_truncated_body: the connection ended inside the body.
  bool body_truncated = false;
  // First header with that name (case-insensitive), or nullopt.
  std::optional<std::string_view> Header(std::string_view name) const noexcept {
    return FindHeader(headers, name);
  }
};

class HttpClient {
 public:
  struct Options {
    TlsOptions tls{};
    // Bounded by the request's whole deadline as well.
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

  // Fails with kInvalidArgument / kNotFound when a TLS file cannot be loaded.
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
