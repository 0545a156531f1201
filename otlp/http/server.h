// otlp/http/server.h — a small traced HTTP server: routes by method and path template, handlers
// that run inside the caller's trace, a SERVER span per request and the
// `http.server.request.duration` histogram. It stands on net::HttpServer: HTTP/1.1 and HTTP/2 (h2
// over TLS by ALPN, h2c with prior knowledge) on one port, TLS.
//
//   auto server = otlp::http::Server::Create({.port = 8080});
//   Status s = server->Get("/users/{id}", [](const otlp::http::ServerRequest& req,
//                                            otlp::http::ServerResponse& res) {
//     res.body = "user " + std::string(req.PathParam("id").value_or(""));
//   });
//   s = server->Route("PUT", "/files/{path...}", [](const auto& req, auto& res) {
//     // req.PathParam("path") is the rest of the path, "a/b/c.txt"
//     auto later = res.Defer();                          // answer from another thread
//     pool.Post([later, ctx = req.context()] {
//       otlp::trace::Scope scope(ctx);                   // still inside the request's trace
//       later->Send(204, {}, "");
//     });
//   });
//   s = server->Start();                                 // binds; server->port()
//
// Templates: segments separated by '/'; "{name}" matches one non-empty segment, a last
// "{name...}" the rest of the path (possibly empty). Literal segments beat parameters, which beat
// a catch-all. Parameters are percent-decoded. No route: 404; a route with other methods only:
// 405 with an Allow header; a malformed path (not starting with '/', bad percent-encoding): 400.
// A handler that throws answers 500.
//
// Tracing: every request (routed or not) is a SERVER span named "{method} {route}" ("{method}"
// when no route matched), a child of the context extracted from its headers by the global
// propagator, with the attributes listed in server_tracing.h. While the handler runs, that span
// is current and the request's baggage is in the current context; req.context() carries both to
// other threads. A deferred response ends the span when it is sent.
//
// Threading: Route/Get/... and Start are not thread-safe and must precede serving (routes are
// fixed once started). Handlers run on the runtime's I/O threads, concurrently for different
// connections when the runtime has several threads; they must not block. A Responder may be used
// from any thread. Stop() and the destructor wait until no handler runs (unless called on an I/O
// thread).
#pragma once

#include <chrono>
#include <cstddef>
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
#include "otlp/net/headers.h"
#include "otlp/net/http_server.h"
#include "otlp/net/runtime.h"
#include "otlp/net/tls.h"
#include "otlp/trace/context.h"

namespace otlp::http {

// What a handler sees of a request.
class OTLP_EXPORT ServerRequest {
 public:
  std::string_view method() const noexcept { return raw_->method; }
  std::string_view target() const noexcept { return raw_->target; }  // path and query
  std::string_view path() const noexcept { return path_; }           // not decoded
  std::string_view query() const noexcept { return query_; }         // after '?', not decoded
  const net::Headers& headers() const noexcept { return raw_->headers; }
  std::optional<std::string_view> Header(std::string_view name) const noexcept {
    return raw_->headers.Find(name);
  }
  const std::string& body() const noexcept { return raw_->body; }
  std::string_view remote_address() const noexcept { return raw_->remote_address; }
  // "1.0", "1.1" or "2" (network.protocol.version).
  std::string_view protocol_version() const noexcept { return raw_->version; }
  bool tls() const noexcept { return raw_->tls; }
  // The route template that matched, e.g. "/users/{id}".
  std::string_view route() const noexcept { return route_; }
  // A path parameter by name (percent-decoded), or nullopt.
  std::optional<std::string_view> PathParam(std::string_view name) const noexcept;
  const std::vector<std::pair<std::string, std::string>>& path_params() const noexcept {
    return params_;
  }
  // The request's SERVER span context with the baggage it carried.
  const trace::Context& context() const noexcept { return context_; }
  // The transport's view (TLS session, ...).
  const net::ServerRequest& raw() const noexcept { return *raw_; }

 private:
  friend class Server;
  const net::ServerRequest* raw_ = nullptr;
  std::string_view path_;
  std::string_view query_;
  std::string_view route_;
  std::vector<std::pair<std::string, std::string>> params_;
  trace::Context context_;
};

// A response sent after the handler returned. Exactly one Send() takes effect (later calls are
// ignored); dropping the last reference without sending closes the connection (the span records
// status 500). Thread-safe.
class OTLP_EXPORT ServerResponder {
 public:
  virtual ~ServerResponder() = default;
  virtual void Send(int status, net::Headers headers, std::string body) = 0;
};

struct OTLP_EXPORT ServerResponse {
  int status = 200;
  net::Headers headers{};
  std::string body{};
  // Sent after the body on HTTP/2 (a trailing HEADERS frame); HTTP/1.1 drops them.
  net::Headers trailers{};
  // Answer later instead (status/headers/body above are then ignored). Calling it again returns
  // the same responder.
  std::shared_ptr<ServerResponder> Defer();

 private:
  friend class Server;
  std::function<std::shared_ptr<ServerResponder>()> defer_;
  std::shared_ptr<ServerResponder> responder_;
};

// One series of `http.server.request.duration` (seconds): requests with the same method, route,
// status, scheme and error type.
struct OTLP_EXPORT ServerDurationSeries {
  std::string method{};  // http.request.method
  std::string route{};   // http.route (empty when none matched)
  int status = 0;        // http.response.status_code
  std::string scheme{};  // url.scheme
  std::string error_type{};  // error.type ("" unless 5xx)
  uint64_t count = 0;
  double sum = 0;  // seconds
  // Counts per bucket: bucket i holds durations <= kServerDurationBuckets[i] (and above the
  // previous bound); the last one those above every bound.
  std::vector<uint64_t> bucket_counts{};
};
// The semantic conventions' advised boundaries for http.server.request.duration, in seconds.
inline constexpr double kServerDurationBuckets[] = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
                                                    0.5,   0.75, 1,     2.5,  5,     7.5, 10};

namespace internal {
class ServerMetrics;
class Router;
}  // namespace internal

class OTLP_EXPORT Server {
 public:
  using Handler = std::function<void(const ServerRequest&, ServerResponse&)>;

  struct Options {
    std::string host = "127.0.0.1";  // an IP literal or "localhost"
    uint16_t port = 0;               // 0: an ephemeral port (see port())
    std::optional<net::ServerTlsOptions> tls{};
    size_t max_request_body = 64 * 1024 * 1024;  // larger: 413
    size_t max_header_bytes = 64 * 1024;         // larger: 431
    std::chrono::milliseconds io_timeout{60000};
    // Serve HTTP/2 too (see net::HttpServer::Options::enable_http2).
    bool enable_http2 = true;
    // The runtime that runs the connections and handlers; a new one with `threads` I/O
    // threads when null.
    std::shared_ptr<net::Runtime> runtime{};
    int threads = 1;
  };

  static std::unique_ptr<Server> Create(Options options);
  static std::unique_ptr<Server> Create() { return Create(Options{}); }
  ~Server();  // Stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Routes `method` ("GET", ..., or "*" for any) on `path_template` to `handler`.
  // kInvalidArgument for a malformed template, kAlreadyExists for a duplicate,
  // kFailedPrecondition once started.
  Status Route(std::string_view method, std::string_view path_template, Handler handler);
  Status Get(std::string_view path_template, Handler handler) {
    return Route("GET", path_template, std::move(handler));
  }
  Status Post(std::string_view path_template, Handler handler) {
    return Route("POST", path_template, std::move(handler));
  }
  Status Put(std::string_view path_template, Handler handler) {
    return Route("PUT", path_template, std::move(handler));
  }
  Status Delete(std::string_view path_template, Handler handler) {
    return Route("DELETE", path_template, std::move(handler));
  }

  // Binds and starts serving; the errors of net::HttpServer::Start (address in use, TLS files).
  Status Start();
  // Closes the listener and every connection. Idempotent.
  void Stop();
  uint16_t port() const noexcept;
  std::string base_url() const;  // "http://127.0.0.1:1234"

  // A snapshot of http.server.request.duration.
  std::vector<ServerDurationSeries> RequestDurations() const;

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace otlp::http
