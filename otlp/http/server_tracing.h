// otlp/http/server_tracing.h — traces a request received by any HTTP server (one that is not
// http::Server: a Beast loop, a FastCGI handler, a framework's middleware): extracts the caller's
// context from the request headers with the global propagator, starts a SERVER span with the
// stable HTTP semantic-convention attributes and makes it current while the returned object
// lives.
//
//   void Handle(MyRequest& req) {
//     otlp::http::TracedRequest traced = otlp::http::TraceIncoming(
//         req.method, req.target, req.headers,
//         {.route = "/users/{id}", .client_address = req.peer, .scheme = "https"});
//     ...                                   // spans started here are children of the SERVER span
//     traced.End(200);                      // or let the destructor end it without a status
//   }
//
// The span is named "{method} {route}" ("{method}" without a route; "HTTP" for a method outside
// the standard set, which is then reported as "_OTHER" with http.request.method_original) and
// carries http.request.method, url.path, url.query (values of the spec's sensitive parameters
// replaced by "REDACTED"), url.scheme, http.route, client.address, client.port, server.address,
// server.port (from the Host header), network.protocol.version, user_agent.original and, from
// End(), http.response.status_code; a 5xx status (the server-side rule: 4xx is the client's
// error) sets error.type to the status and the span status to Error.
//
// Threading: a TracedRequest is a scope guard: create and destroy it on one thread, and end it
// on that thread; for a response sent later from another thread, use context() to re-enter and
// pass the status to End() before destroying it. Tracing suppression (trace/context.h) is
// respected: nothing is recorded while it is on.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "otlp/core/export.h"
#include "otlp/net/headers.h"
#include "otlp/trace/context.h"
#include "otlp/trace/span.h"

namespace otlp::http {

struct OTLP_EXPORT IncomingRequestInfo {
  // The matched route template ("/users/{id}"); empty when the server has none.
  std::string_view route{};
  // The peer, "127.0.0.1:53122" or "[::1]:53122" (split into client.address / client.port).
  std::string_view client_address{};
  std::string_view scheme = "http";
  std::string_view protocol_version = "1.1";  // network.protocol.version: "1.1", "2"
  // server.address / server.port when the request has no Host header (or :authority).
  std::string_view server_host{};
  uint16_t server_port = 0;
};

class TracedRequest;

// Starts the SERVER span for a request (`target` is the request target, path and query).
[[nodiscard]] OTLP_EXPORT TracedRequest TraceIncoming(std::string_view method,
                                                      std::string_view target,
                                                      const net::Headers& headers,
                                                      const IncomingRequestInfo& info = {});

class OTLP_EXPORT TracedRequest {
 public:
  // Not copyable or movable: it holds the thread's Scope.
  TracedRequest(const TracedRequest&) = delete;
  TracedRequest& operator=(const TracedRequest&) = delete;
  ~TracedRequest();  // ends the span if End() was not called; leaves the scope

  // The SERVER span's context, with the baggage the request carried (the current context while
  // this object lives).
  const trace::Context& context() const noexcept { return context_; }
  // The SERVER span, for more attributes or events.
  trace::Span& span() noexcept { return span_; }
  // Names the route once it is known (renames the span, sets http.route).
  void SetRoute(std::string_view route);
  // Records the response status and ends the span. Later calls do nothing.
  void End(int status_code);

 private:
  friend TracedRequest TraceIncoming(std::string_view, std::string_view, const net::Headers&,
                                     const IncomingRequestInfo&);
  TracedRequest(std::string_view method, std::string_view target, const net::Headers& headers,
                const IncomingRequestInfo& info);

  trace::Span span_;
  trace::Context context_;
  std::string method_;  // as the span name has it
  std::optional<trace::Scope> context_scope_;
  std::optional<trace::Scope> span_scope_;
};


}  // namespace otlp::http
