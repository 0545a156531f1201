// otlp/net/http_server.h — a small HTTP/1.1 server (Boost.Beast underneath, never in this header)
// for local receivers: `otlp view`, benchmark sinks and fault-injection test servers.
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
// Threading: the handler runs on an I/O thread of the runtime; with a multi-threaded runtime it
// may run concurrently for different connections. Responder::Send/Close may be called from any
// thread. HttpServer methods are thread-safe. After Stop() returns (called off the I/O threads)
// the handler is not running and will not be called again; the listening port is closed.
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
  virtual void Send(int status, Headers headers, std::string body) = 0;
  // Closes the connection without answering.
  virtual void Close() = 0;
};

struct OTLP_EXPORT ServerResponse {
  int status = 200;  // 100..999; anything else becomes 500
  // Content-Length is computed; a `Connection: close` here closes the connection after sending.
  Headers headers{};
  std::string body{};
  // Close the connection without sending anything (fault injection).
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
    // Closes a connection that sends nothing (or cannot take our bytes) for this long.
    std::chrono::milliseconds io_timeout{60000};
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
  // Closes the listener and every connection. Idempotent.
  void Stop();
  // Closes the keep-alive connections that are waiting for their next request (tests use it to
  // simulate a server dropping idle connections); one still writing a response is closed right
  // after that write. Requests being handled are left alone. Waits unless on an I/O thread.
  void CloseIdleConnections();

  uint64_t connections_accepted() const noexcept;
  uint64_t requests_received() const noexcept;

  struct Impl;

 private:
  explicit HttpServer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
  std::shared_ptr<Runtime> runtime_;
};

}  // namespace otlp::net
