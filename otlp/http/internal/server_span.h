// otlp/http/internal/server_span.h — the SERVER span of an incoming request, shared by
// TraceIncoming (server_tracing.h) and http::Server: start with the request attributes, name the
// route, end with the status. Not installed.
#pragma once

#include <string>
#include <string_view>

#include "otlp/http/server_tracing.h"
#include "otlp/net/headers.h"
#include "otlp/trace/context.h"
#include "otlp/trace/span.h"

namespace otlp::http::internal {

struct ServerSpan {
  trace::Span span;
  trace::Context context;  // the span's context with the request's baggage
  std::string method;      // the name's method part: "GET", or "HTTP" for a non-standard one
};

ServerSpan StartServerSpan(std::string_view method, std::string_view target,
                           const net::Headers& headers, const IncomingRequestInfo& info);
// Renames the span "{method} {route}" and sets http.route.
void SetServerRoute(ServerSpan& s, std::string_view route);
// http.response.status_code; for 5xx error.type and an Error status. Ends the span.
void EndServerSpan(trace::Span& span, int status_code);

// url.query with the values of the spec's sensitive parameters (AWSAccessKeyId, Signature, sig,
// X-Goog-Signature) replaced by "REDACTED".
std::string RedactQuery(std::string_view query);

}  // namespace otlp::http::internal
