// otlp/http/tracing.h — how otlp::http traces its requests (the stable HTTP semantic
// conventions for clients), and the options that change it.
//
//   otlp::http::Client::Options options;
//   options.tracing.request_headers = {"Content-Type", "X-Request-Id"};   // opt-in capture
//   options.tracing.response_headers = {"Server"};
//   auto client = otlp::http::Client::Create(std::move(options));
//   client->Send(Request::Get(url).With(UrlTemplate{"/users/{id}"}));    // span "GET /users/{id}"
//
// Every attempt (the first, each retry, each redirect hop) is a CLIENT span, a child of the
// context current when the request was made (Context::Current() on the calling thread), named
// "{method}" or "{method} {url.template}" ("HTTP" for a method outside RFC 9110 + PATCH +
// QUERY, which is recorded as http.request.method "_OTHER" with
// http.request.method_original). Attributes: http.request.method, url.full (user info
// replaced by REDACTED:REDACTED, the values of the query parameters AWSAccessKeyId, Signature,
// sig and X-Goog-Signature by REDACTED), server.address, server.port, url.template (when
// given), http.request.resend_count (from the second attempt on), http.response.status_code,
// network.protocol.version, error.type (the status code for 4xx/5xx, else the ErrorKindName of
// the failure), http.request.header.<name> / http.response.header.<name> (string arrays, for
// the names listed in the options). 4xx and 5xx answers and failures set the span status to
// Error.
//
// The global propagator (otlp/propagation/global_propagator.h) injects traceparent,
// tracestate and baggage of the attempt's span (or of the caller's context when no span is
// recorded) into every attempt. Under a suppressed context (trace::SuppressTracingScope) there
// is neither a span nor injection. When the SDK is not enabled, no attribute is computed.
//
// Threading: TracingOptions is a value type, read-only once given to a client.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "otlp/core/export.h"
#include "otlp/trace/tracer.h"

namespace otlp::http {

struct OTLP_EXPORT TracingOptions {
  // Spans for requests.
  bool enabled = true;
  // Inject the context into request headers (with or without spans).
  bool propagate = true;
  // Unset: otlp::trace::GetTracer("otlp.http", <version>), which follows the global provider.
  std::optional<trace::Tracer> tracer{};
  // Header names (any case) whose values are recorded on the spans.
  std::vector<std::string> request_headers{};
  std::vector<std::string> response_headers{};
};

}  // namespace otlp::http
