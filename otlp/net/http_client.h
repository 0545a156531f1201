// otlp/net/http_client.h — the pooled HTTP transport (HTTP/1.1 on Boost.Beast, HTTP/2 on
// nghttp2, neither in this header) that otlp::http and the OTLP exporter stand on: keep-alive
// connection reuse with a per-host limit, one shared HTTP/2 connection per origin, connect /
// whole-request / idle timeouts, TLS (OpenSSL), HTTP proxies, streamed bodies, timings. No
// retries, redirects or cookies here (otlp/http does those).
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
// Streaming: a request body may come from `body_source` (pulled on the I/O thread, sent with
// Content-Length when `body_length` is given, chunked otherwise) and the response body may go to
// `on_body` chunk by chunk as it arrives (never held in memory; max_response_body does not
// apply). `on_progress` reports bytes sent and received.
//
//   uint64_t got = 0;
//   auto resp = client->Send({.url = "http://127.0.0.1:8080/big.iso",
//                             .on_body = [&](std::string_view chunk) {
//                               got += chunk.size();
//                               return file.Write(chunk);  // an error Status stops the download
//                             }});
//
// Proxies: `HttpRequest::proxy`, "http://[user:pass@]host:port". http:// targets are sent to
// the proxy in absolute form; https:// targets go through an HTTP CONNECT tunnel, then TLS
// with the origin. Proxy credentials become Proxy-Authorization (Basic), never the origin's.
// Connections are pooled per (scheme, host, port, proxy).
//
// HTTP/2: with HttpVersionPolicy::kPreferHttp2 (Options::http_version, or per request
// HttpRequest::http_version) https:// requests offer ALPN {"h2", "http/1.1"} and use what the
// server chooses (an origin whose server chose HTTP/1.1 stays HTTP/1.1 in this client);
// kHttp2PriorKnowledge also sends http:// requests as h2c (no upgrade dance).
// An HTTP/2 origin has one shared connection: concurrent requests are streams on it, and
// requests that arrive while it is being opened wait for it rather than open their own. A
// session the server is closing (GOAWAY) or that has closed is replaced for new requests; a
// request the server did not process (GOAWAY, RST_STREAM REFUSED_STREAM, or still waiting for a
// stream slot when the connection failed or closed without GOAWAY) is sent once more (on a new
// session when the old one is going away or gone), whatever its method. A request already sent
// when the connection fails gets kConnectionReset. Shutdown() cancels HTTP/2 streams too.
// HttpResponse::version is "2"; timings.dns/connect/tls belong to the request that opened the
// session, first_byte is measured to the response HEADERS frame. On HTTP/2 a `body_source` is read
// whole into memory before the request is sent (at most kMaxHttp2BufferedUpload bytes), the idle
// timeout between bytes does not apply, and requests through a proxy always use HTTP/1.1.
//
//   auto client = otlp::net::HttpClient::Create(
//       rt, {.http_version = otlp::net::HttpVersionPolicy::kPreferHttp2});
//   auto resp = (*client)->Send({.url = "https://127.0.0.1:8443/"});  // resp->version == "2"
//
// Threading: HttpClient is thread-safe. Send() blocks the calling thread; called on the
// runtime's own I/O thread it fails with kFailedPrecondition instead of deadlocking. On a
// caller-driven runtime (Runtime::CreateCallerDriven) Send() runs the I/O on the calling thread:
// a request with its body in memory that streams nothing and finds an HTTP/1.1 keep-alive
// connection idle in the pool is written and read there with blocking calls (SendFromCaller);
// anything else runs on the runtime, which the calling thread drives (concurrent senders share
// it, one drives), and callbacks run on whichever thread drives.
// SendAsync() calls its callback exactly once, on an I/O thread (also for immediate errors).
// The streaming callbacks (body_source, on_headers, on_body, on_progress) run on an I/O thread,
// one at a time per request, before the completion; they should return quickly.
//
// Errors come back as a Status, never an exception. Its code says what a caller may do; its
// detail() (HttpErrorKindOf) says what happened:
//   code                kind                 when
//   kInvalidArgument    kInvalidRequest      bad URL, method, header (CR/LF/NUL, or a name or
//                                            value over 65533 bytes) or proxy (not retryable)
//   kDeadlineExceeded   kConnectTimeout      resolve + connect + TLS (+ proxy tunnel) took
//                                            longer than Options::connect_timeout (retryable)
//   kDeadlineExceeded   kRequestTimeout      the whole-request deadline expired, also while
//                                            waiting for a connection (retryable)
//   kDeadlineExceeded   kIdleTimeout         no byte sent or received for the idle timeout
//                                            (retryable)
//   kUnavailable        kDnsFailure          the host name does not resolve (retryable)
//   kUnavailable        kConnectionRefused   nothing listens there (retryable)
//   kUnavailable        kConnectionReset     reset by the peer, or closed before or in the
//                                            middle of the response (retryable)
//   kUnavailable        kTlsHandshake        the TLS handshake failed (not retryable)
//   kPermissionDenied   kCertificate         the server certificate failed verification
//   kUnavailable        kNetwork             another socket error (retryable)
//   kResourceExhausted  kTooLarge            response body or headers exceed the limits
//   kInternal           kProtocol            not HTTP/1.1, or endless interim responses
//   kUnavailable        kProxy               the proxy refused CONNECT (its status in the
//                                            message) or broke the tunnel (not retryable)
//   kCancelled          kCancelled           HttpRequest::cancel fired, or the client was shut
//                                            down while the request was in flight or waiting
//   (source's code)     kBodySource          HttpRequest::body_source failed, or gave fewer or
//                                            more bytes than body_length
//   (sink's code)       kBodySink            HttpRequest::on_body returned an error
// HTTP/2 adds:
//   kUnavailable        kStreamReset         the server reset the stream (RST_STREAM; the
//                                            HTTP/2 error code in the message); retryable
//                                            only for REFUSED_STREAM
//   kUnavailable        kGoAway              the server ended the connection (GOAWAY) before
//                                            processing the request (retryable)
//   kUnavailable        kConnectionReset     the HTTP/2 connection failed under the request
//   kInternal           kProtocol            the server broke HTTP/2 (bad frames, :status)
// and its timeouts, cancellations and size limits use the kinds above.
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

// The finer kind of an HTTP transport error, carried in Status::detail() (the table above).
// Values are stable: otlp::http re-exports them.
enum class HttpErrorKind : uint16_t {
  kNone = 0,
  kInvalidRequest = 1,
  kConnectTimeout = 2,
  kRequestTimeout = 3,
  kIdleTimeout = 4,
  kDnsFailure = 5,
  kConnectionRefused = 6,
  kConnectionReset = 7,
  kTlsHandshake = 8,
  kCertificate = 9,
  kNetwork = 10,
  kProtocol = 11,
  kTooLarge = 12,
  kCancelled = 13,
  kProxy = 14,
  kStreamReset = 15,  // HTTP/2: the server reset the request's stream (RST_STREAM)
  kGoAway = 16,       // HTTP/2: the server ended the connection (GOAWAY) before answering
  kBodySource = 17,
  kBodySink = 18,
};

// "connect_timeout", "dns_failure", ...; "none" for kNone, "unknown" for other values.
OTLP_EXPORT std::string_view HttpErrorKindName(HttpErrorKind kind) noexcept;
// The kind an HTTP transport error carries (kNone for OK or a Status from elsewhere).
inline HttpErrorKind HttpErrorKindOf(const Status& status) noexcept {
  return static_cast<HttpErrorKind>(status.detail());
}

// Cancels requests in flight: give one to HttpRequest::cancel (shared by as many requests as
// wanted) and call Cancel() from any thread. Each request carrying it stops where it is and
// completes with kCancelled (kind kCancelled): waiting for a connection or an HTTP/2 session, it
// leaves the queue; connecting or on an HTTP/1.1 connection, that connection is closed (never
// returned to the pool); on an HTTP/2 session, its stream is reset with CANCEL and the session
// and its other streams go on. A request given an already cancelled signal fails at once.
//
//   auto cancel = otlp::net::CancelSignal::Create();
//   client->SendAsync({.url = url, .cancel = cancel}, on_done);
//   cancel->Cancel();                       // on_done gets kCancelled
//
// Threading: thread-safe; Cancel() runs the subscribers (the transport's requests) on the calling
// thread and never waits for I/O.
class OTLP_EXPORT CancelSignal {
 public:
  static std::shared_ptr<CancelSignal> Create();
  CancelSignal();
  ~CancelSignal();
  CancelSignal(const CancelSignal&) = delete;
  CancelSignal& operator=(const CancelSignal&) = delete;

  // Idempotent.
  void Cancel() noexcept;
  bool cancelled() const noexcept;

  // For the transport (and layers above it): `f` runs once when Cancel() is called, on that
  // thread, or right here when the signal is already cancelled (then the id is 0). Unsubscribe
  // forgets it; an `f` already running may still finish after Unsubscribe returns.
  uint64_t Subscribe(std::function<void()> f);
  void Unsubscribe(uint64_t id) noexcept;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Bytes of the body moved so far; a total is nullopt when unknown (a chunked body).
struct OTLP_EXPORT HttpProgress {
  uint64_t sent = 0;
  std::optional<uint64_t> send_total{};
  uint64_t received = 0;
  std::optional<uint64_t> receive_total{};
};

// Which HTTP version a request may use.
enum class HttpVersionPolicy : uint8_t {
  // HTTP/1.1 only (ALPN offers "http/1.1").
  kHttp1Only = 0,
  // https://: offer {"h2", "http/1.1"} by ALPN and use what the server chooses; http://:
  // HTTP/1.1.
  kPreferHttp2 = 1,
  // http://: HTTP/2 without negotiation (h2c, RFC 9113 §3.3); https://: as kPreferHttp2.
  kHttp2PriorKnowledge = 2,
};

// The largest request body an HTTP/2 request reads from a BodySource into memory before it is
// sent; a larger body fails the request (kBodySource).
inline constexpr size_t kMaxHttp2BufferedUpload = 64 * 1024 * 1024;

struct OTLP_EXPORT HttpRequest {
  // Fills `buffer` with up to `capacity` bytes of the request body and returns how many; 0
  // ends the body. An error Status fails the request (kind kBodySource).
  using BodySource = std::function<Result<size_t>(char* buffer, size_t capacity)>;
  // Takes the next piece of the response body; an error Status fails the request (kBodySink).
  using BodySink = std::function<Status(std::string_view chunk)>;
  using ProgressCallback = std::function<void(const HttpProgress&)>;
  // Sees the final response's status and headers as soon as they arrived.
  using HeadersCallback = std::function<void(int status, const Headers& headers)>;

  std::string method = "GET";
  // http:// or https://; user info ("user:pass@") is sent as Basic authentication.
  std::string url{};
  // Host, User-Agent and Content-Length are added unless given here (Content-Length and
  // Transfer-Encoding given here are ignored: the client computes them).
  Headers headers{};
  std::string body{};
  // Instead of `body`: bytes the caller keeps alive and unchanged until the request is over
  // (Send returned, SendAsync's callback ran), sent without being copied (over HTTP/2 they are
  // copied). For large bodies a caller already holds, e.g. an exporter's encoded batch.
  std::string_view body_view{};
  // Whole-request deadline (waiting for a connection, connect, send, receive); zero means the
  // client's default.
  std::chrono::milliseconds timeout{0};
  // Longest silence while sending or receiving (each read or write must move a byte within
  // it); zero means Options::idle_timeout_between_bytes.
  std::chrono::milliseconds idle_timeout{0};
  // When the connection ends after the status line and headers arrived but before the body is
  // complete, return that response with `body_truncated` set (and the part of the body that
  // arrived) instead of failing with kUnavailable. For callers to whom the status is the answer
  // (an OTLP exporter must not resend a batch the collector acknowledged with 2xx).
  bool accept_truncated_body = false;
  // When set, the body is pulled from here instead of `body`, and the request is not resent on
  // a fresh connection once the source has been called.
  BodySource body_source{};
  // The exact length body_source gives (sent as Content-Length); unset: chunked encoding.
  std::optional<uint64_t> body_length{};
  // When set, the response body goes here piece by piece and HttpResponse::body stays empty.
  BodySink on_body{};
  // Called once per attempt with the final (non-1xx) response's status and headers, before the
  // first on_body chunk and before completion (so a streaming caller can learn e.g. the
  // Content-Encoding of the body about to come). Not called when the attempt fails first.
  HeadersCallback on_headers{};
  ProgressCallback on_progress{};
  // "http://[user:pass@]host:port" of an HTTP proxy to go through; empty: direct. (Which
  // requests use a proxy, e.g. from HTTP_PROXY / NO_PROXY, is the caller's choice.) Requests
  // through a proxy use HTTP/1.1.
  std::string proxy{};
  // Overrides Options::http_version for this request.
  std::optional<HttpVersionPolicy> http_version{};
  // Cancelling it stops the request wherever it is (see CancelSignal); null: not cancellable
  // (but for Shutdown()).
  std::shared_ptr<CancelSignal> cancel{};
};

// How long each step of a request took, from the moment it was handed to the client. Zero for
// steps that did not happen (dns/connect/tls on a reused connection, dns for an IP literal,
// tls for plain HTTP). Through a CONNECT tunnel `connect` ends once the tunnel stands.
struct OTLP_EXPORT HttpTimings {
  std::chrono::nanoseconds dns{};
  std::chrono::nanoseconds connect{};
  std::chrono::nanoseconds tls{};
  // Until the first byte of the response.
  std::chrono::nanoseconds first_byte{};
  std::chrono::nanoseconds total{};
};

struct OTLP_EXPORT HttpResponse {
  int status = 0;
  Headers headers{};
  std::string body{};
  // Instead of `body`: bytes the caller keeps alive and unchanged until the request is over
  // (Send returned, SendAsync's callback ran), sent without being copied (over HTTP/2 they are
  // copied). For large bodies a caller already holds, e.g. an exporter's encoded batch.
  std::string_view body_view{};
  // Only with HttpRequest::accept_truncated_body: the connection ended inside the body.
  bool body_truncated = false;
  // Trailer fields, kept apart from `headers`: those after a chunked body (HTTP/1.1); an HTTP/2
  // transport fills it from the trailing HEADERS frame (where gRPC puts grpc-status).
  Headers trailers{};
  // The protocol version that carried the response: "1.1" (or "1.0"); "2" for HTTP/2.
  std::string version{};
  HttpTimings timings{};
  // The request went over a pooled connection opened by an earlier request (for HTTP/2: over
  // a session this request did not open).
  bool connection_reused = false;
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
    // tls.alpn_protocols may stay empty: the client offers "http/1.1", or "h2" and "http/1.1",
    // by each request's HttpVersionPolicy. Protocols other than those two are rejected.
    TlsOptions tls{};
    // Which HTTP version requests use unless HttpRequest::http_version says otherwise.
    HttpVersionPolicy http_version = HttpVersionPolicy::kHttp1Only;
    // Our own cap on concurrent streams per HTTP/2 connection (the server's
    // SETTINGS_MAX_CONCURRENT_STREAMS applies too); further requests queue on the connection.
    uint32_t http2_max_concurrent_streams = 256;
    // Resolving the host, the TCP connect and the TLS handshake together; bounded by the
    // request's whole deadline as well.
    std::chrono::milliseconds connect_timeout{10000};
    // Used when HttpRequest::timeout is zero; zero here means no limit.
    std::chrono::milliseconds default_timeout{30000};
    // Idle keep-alive connections kept per (scheme, host, port, proxy). An HTTP/2 connection
    // stays open until the server closes it or the client shuts down.
    size_t max_idle_per_host = 4;
    // Connections open at once per (scheme, host, port, proxy), idle ones included; requests
    // beyond it wait, first come first served, for one to be free. 0 = no limit.
    size_t max_connections_per_host = 0;
    // Longest silence between bytes sent or received (HttpRequest::idle_timeout overrides);
    // zero = no limit.
    std::chrono::milliseconds idle_timeout_between_bytes{0};

    // Closes idle pooled connections after this long (on a caller-driven runtime, which runs
    // no timers while nobody drives it: when the pool next looks at their origin).
    std::chrono::milliseconds idle_timeout{60000};
    std::string user_agent = kUserAgent;
    // Largest response body accepted; larger is an error (kResourceExhausted). 0 = no limit.
    size_t max_response_body = 16 * 1024 * 1024;
  };

  // Fails with kInvalidArgument / kNotFound when a TLS file cannot be loaded, kInvalidArgument
  // for an ALPN protocol other than h2 and http/1.1.
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
  // For a layer above whose caller waits for the answer (otlp::http::Client, the OTLP
  // exporter): as SendAsync, except that on a caller-driven runtime, called outside its work, a
  // request whose body is in memory and that streams nothing, to an origin with an HTTP/1.1
  // keep-alive connection idle in the pool, runs right here on that connection with blocking
  // system calls (bounded by its deadline and idle timeout; cancellation and Shutdown() wake
  // them): `done` then runs on this thread before SendFromCaller returns. Everything else (a new
  // connection, HTTP/2, streamed bodies, a resend after the server closed the idle connection)
  // goes on as SendAsync does, `done` running inside the runtime's work, so the caller drives
  // the runtime until `done` ran (Send does both).
  void SendFromCaller(HttpRequest request, std::function<void(Result<HttpResponse>)> done);

  // Cancels every request in flight (each completes with kCancelled), closes pooled connections
  // and makes later requests fail with kCancelled. Idempotent; the destructor calls it.
  void Shutdown() noexcept;

  // Counters for tests and diagnostics: TCP connections established (HTTP/2 ones included),
  // and HTTP/1.1 connections idle in the pool right now.
  uint64_t connections_opened() const noexcept;
  size_t idle_connections() const noexcept;

  struct Impl;

 private:
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace otlp::net
