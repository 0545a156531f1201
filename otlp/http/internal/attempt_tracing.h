// The spans of request attempts (semantic conventions in otlp/http/tracing.h) and context
// injection. Internal: not an API.
#pragma once

#include <string>
#include <string_view>

#include "otlp/core/status.h"
#include "otlp/http/tracing.h"
#include "otlp/net/headers.h"
#include "otlp/net/url.h"
#include "otlp/trace/context.h"
#include "otlp/trace/span.h"

namespace otlp::http::internal {

// RFC 9110 methods, PATCH and QUERY (case-sensitive).
bool IsKnownMethod(std::string_view method) noexcept;
// url.full: user info as REDACTED:REDACTED, sensitive query values as REDACTED (RedactUrl of
// internal/redact.h on the URL's text).
std::string RedactedUrl(const net::Url& url);

struct AttemptInfo {
  std::string_view method;
  const net::Url* url;
  // url->ToString() when the caller has it already (empty: made here).
  std::string_view url_text{};
  std::string_view url_template;
  int resend_count = 0;
  const net::Headers* request_headers;
};

// A recording CLIENT span for the attempt, or a non-recording one when the tracer is disabled.
// Never throws.
trace::Span StartAttemptSpan(trace::Tracer& tracer, const TracingOptions& options,
                             const trace::Context& parent, const AttemptInfo& info) noexcept;

// Records the outcome (status code or error) and ends the span.
void EndAttemptSpan(trace::Span& span, const TracingOptions& options, int status,
                    const net::Headers* response_headers, const Status& error,
                    std::string_view protocol_version) noexcept;

// Injects `context` with the global propagator (headers named as the propagator writes them,
// replacing any of the same name).
void InjectContext(const trace::Context& context, net::Headers& headers) noexcept;

}  // namespace otlp::http::internal
