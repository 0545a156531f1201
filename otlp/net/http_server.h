// otlp/net/http_server.h — a small HTTP/1.1 and HTTP/2 server (Boost.Beast and nghttp2 underneath,
// never in this header) for local receivers: `otlp view`, benchmark sinks, fault-injection test
// servers, and the transport of the traced otlp::http::Server.
//
//   auto rt = otlp::net::Runtime::Create();
//   auto server = otlp::net::HttpServer::Start(
//       rt, {.host = "127.0.0.1", .port = 0},
//       [](const otlp::net::ServerRequest& req, otlp::net::ServerResponse& res) {
//         res.status = 200;
//         res.headers = {{"Content-Type", "text/plain"}};
//         res.body = "you sent " + std::to_string(req.body.size()) + " bytes\n";
//       });
//   if (!server.ok()) return server.status();
//   uint16_t port = (*server)->port();  // the ephemeral port picked by the kernel
//
// A handler may instead answer later (without blocking the I/O thread) by calling
// `res.Defer()` and keeping the returned Responder, or drop the connection without answering by
// setting `res.close_connection = true`.
//
// Behaviour: keep-alive (HTTP/1.1 default, `Connection: close` honoured), one request at a time
// per connection, `Expect: 100-continue` answered, a body larger than max_request_body answered
// 413, headers larger than max_header_bytes 431, malformed requests 400 (then the connection is
// closed). A handler that throws produces a 500. TLS (and mutual TLS) with PEM files.
//
// HTTP/2 (Options::enable_http2, on by default) on the same port: over TLS when ALPN chose "h2"
// (the server offers "h2" and "http/1.1"), and h2c with prior knowledge on plain connections (a
// connection whose first bytes are the HTTP/2 client preface; anything else is HTTP/1.1). Each
// stream is one request for the same handler (ServerRequest::version is "2"; a missing Host
// header is filled from :authority); streams of one connection are handled one after another,
// their responses interleave. The limits answer 413 / 431 on the stream; close_connection and
// an unanswered deferred response reset the stream (RST_STREAM INTERNAL_ERROR) instead of
// closing the connection. A connection without open streams for io_timeout gets GOAWAY.
// Response trailers are sent on HTTP/2 only (HTTP/1.1 drops them).
//
// Threading: the handler runs on an I/O thread of the runtime; with a multi-threaded runtime it
// may run concurrently for different connections (never for two streams of one HTTP/2
// connection). Responder::Send/Close may be called from any thread. HttpServer methods are
// thread-safe. After Stop() returns (called off the I/O threads) the handler is not running and
// will not be called again; the listening port is closed.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "otlp/core/export.h"
#include "otlp/core/status.h"
#include "otlp/net/headers.h"
#include "otlp/net/runtime.h"
#include "otlp/net/tls.h"

namespace otlp::net {
namespace internal {
class ServerResponseAccess;
}  // namespace internal

struct OTLP_EXPORT ServerRequest {
  std::string method{};  // as sent, e.g. "POST"
  std::string target{};  // path and query, e.g. "/v1/traces?x=1"
  Headers headers{};
  std::string body{};            // Content-Encoding is not decoded
  std::string remote_address{};  // "127.0.0.1:53122"
  std::string version = "1.1";   // the protocol version: "1.0", "1.1" or "2"
  std::string scheme = "http";   // "https" over TLS, else "http"
  // Fields of a trailing header block (HTTP/2 requests only; HTTP/1.1 chunked trailers are
  // not kept).
  Headers trailers{};
  bool tls = false;
  // With TLS: what the handshake agreed on (ALPN protocol, SNI the client sent, version).
  TlsSessionInfo tls_session{};
  // First header with that name (case-insensitive), or nullopt.
  std::optional<std::string_view> Header(std::string_view name) const noexcept {
    return headers.Find(name);
  }
};

// A response the handler chose to send later. Exactly one Send() or Close() takes effect; later
// calls are ignored, as are calls after the connection or the server has gone away. Destroying
// the last reference without answering closes the connection.
class OTLP_EXPORT Responder {
 public:
  virtual ~Responder() = default;
  void Send(int status, Headers headers, std::string body) {
    SendWithTrailers(status, std::move(headers), std::move(body), {});
  }
  // `trailers` go in a trailing header block on HTTP/2 (gRPC's grpc-status); HTTP/1.1 drops them.
  virtual void SendWithTrailers(int status, Headers headers, std::string body,
                                Headers trailers) = 0;
  // Closes the connection without answering (on HTTP/2: resets the stream).
  virtual void Close() = 0;
};

struct OTLP_EXPORT ServerResponse {
  int status = 200;  // 100..999; anything else becomes 500
  // Content-Length is computed; a `Connection: close` here closes the connection after sending.
  Headers headers{};
  std::string body{};
  // Sent after the body on HTTP/2 (a trailing HEADERS frame); HTTP/1.1 drops them.
  Headers trailers{};
  // Close the connection without sending anything (fault injection); on HTTP/2 the stream is
  // reset instead (RST_STREAM INTERNAL_ERROR), other streams go on.
  bool close_connection = false;

  // Takes over the response: status/headers/body above are ignored and nothing is sent when the
  // handler returns; answer through the Responder instead (from any thread, at any time).
  // Calling it again returns the same Responder.
  std::shared_ptr<Responder> Defer();

 private:
  friend class internal::ServerResponseAccess;
  std::function<std::shared_ptr<Responder>()> defer_hook_;
  std::shared_ptr<Responder> responder_;
};

class OTLP_EXPORT HttpServer {
 public:
  struct Options {
    std::string host = "127.0.0.1";  // an IP literal or "localhost"
    uint16_t port = 0;               // 0 = an ephemeral port (see port())
    std::optional<ServerTlsOptions> tls{};
    size_t max_request_body = 64 * 1024 * 1024;
    size_t max_header_bytes = 64 * 1024;
    // Closes a connection that sends nothing (or cannot take our bytes) for this long; an
    // HTTP/2 connection gets GOAWAY when it had no open stream and no new request for this long.
    std::chrono::milliseconds io_timeout{60000};
    // HTTP/2 beside HTTP/1.1: ALPN "h2" over TLS, h2c with prior knowledge on plain TCP.
    bool enable_http2 = true;
    // HTTP/2: streams one connection may have open (SETTINGS_MAX_CONCURRENT_STREAMS); more are
    // refused with RST_STREAM REFUSED_STREAM.
    uint32_t http2_max_concurrent_streams = 100;
    // Stop(): how long HTTP/2 streams in flight may still finish after GOAWAY before their
    // connections are closed (HTTP/1.1 connections are closed at once).
    std::chrono::milliseconds shutdown_timeout{5000};
  };
  using Handler = std::function<void(const ServerRequest&, ServerResponse&)>;

  // Binds and listens before returning; fails with kUnavailable when the address is in use,
  // kInvalidArgument for a bad host, and the TLS file errors described in tls.h.
  static Result<std::unique_ptr<HttpServer>> Start(std::shared_ptr<Runtime> runtime,
                                                   Options options, Handler handler);
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  uint16_t port() const noexcept;
  // "http://127.0.0.1:1234" (https when TLS is on; IPv6 hosts bracketed), no trailing slash.
  std::string base_url() const;
  // Closes the listener and every connection: HTTP/1.1 connections at once; HTTP/2 connections
  // get GOAWAY and are closed when their streams in flight have finished, or after
  // Options::shutdown_timeout. Waits for that unless on an I/O thread. Idempotent.
  void Stop();
  // Closes the keep-alive connections that are waiting for their next request (tests use it to
  // simulate a server dropping idle connections); one still writing a response is closed right
  // after that write. Requests being handled are left alone. HTTP/2 connections without open
  // streams get GOAWAY (and then close). Waits unless on an I/O thread.
  void CloseIdleConnections();

  uint64_t connections_accepted() const noexcept;
  uint64_t requests_received() const noexcept;  // HTTP/1.1 requests and HTTP/2 streams
  // Connections that became HTTP/2 (ALPN "h2" or the h2c preface).
  uint64_t http2_connections() const noexcept;

  struct Impl;

 private:
  explicit HttpServer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
  std::shared_ptr<Runtime> runtime_;
};

}  // namespace otlp::net
