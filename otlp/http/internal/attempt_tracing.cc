#include "otlp/http/internal/attempt_tracing.h"

#include <array>
#include <vector>

#include "otlp/core/internal/ascii.h"
#include "otlp/http/error.h"
#include "otlp/http/internal/redact.h"
#include "otlp/propagation/carriers.h"
#include "otlp/propagation/global_propagator.h"
#include "otlp/trace/tracer.h"

namespace otlp::http::internal {
namespace {

// Sets `<prefix><lowercase name>` to the values of each listed header present.
void CaptureHeaders(trace::Span& span, std::string_view prefix,
                    const std::vector<std::string>& names, const net::Headers& headers) {
  for (const std::string& name : names) {
    std::vector<std::string_view> values = headers.FindAll(name);
    if (values.empty()) continue;
    const std::string key = std::string(prefix) + otlp::internal::AsciiLower(name);
    span.SetAttribute(key, std::span<const std::string_view>(values));
  }
}

}  // namespace

bool IsKnownMethod(std::string_view method) noexcept {
  static constexpr std::array<std::string_view, 10> kKnown = {
      "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "QUERY"};
  for (std::string_view m : kKnown) {
    if (m == method) return true;
  }
  return false;
}

std::string RedactedUrl(const net::Url& url) {
  // Most URLs have neither credentials nor a query: nothing to redact, no second copy.
  std::string full = url.ToString();
  if (!url.has_credentials() && url.target.find('?') == std::string::npos) return full;
  return RedactUrl(full);
}

trace::Span StartAttemptSpan(trace::Tracer& tracer, const TracingOptions& options,
                             const trace::Context& parent, const AttemptInfo& info) noexcept {
  if (!tracer.Enabled()) return trace::Span();
  try {
    const bool known = IsKnownMethod(info.method);
    std::string name(known ? info.method : std::string_view("HTTP"));
    if (!info.url_template.empty()) {
      name += ' ';
      name += info.url_template;
    }
    // Most URLs have neither credentials nor a query: the text as sent, not copied.
    std::string redacted;
    std::string_view full = info.url_text;
    if (full.empty() || info.url->has_credentials() || full.find('?') != std::string_view::npos) {
      redacted = RedactedUrl(*info.url);
      full = redacted;
    }
    std::array<KeyValue, 7> attributes;
    size_t n = 0;
    attributes[n++] = {"http.request.method", known ? info.method : std::string_view("_OTHER")};
    if (!known) attributes[n++] = {"http.request.method_original", info.method};
    attributes[n++] = {"url.full", full};
    attributes[n++] = {"server.address", info.url->host};
    attributes[n++] = {"server.port", static_cast<int64_t>(info.url->port)};
    if (!info.url_template.empty()) attributes[n++] = {"url.template", info.url_template};
    if (info.resend_count > 0) {
      attributes[n++] = {"http.request.resend_count", static_cast<int64_t>(info.resend_count)};
    }
    trace::StartOptions start{.kind = trace::SpanKind::kClient, .parent = parent};
    trace::Span span = tracer.StartSpan(
        name, std::span<const KeyValue>(attributes.data(), n), start);
    if (span.IsRecording() && !options.request_headers.empty() && info.request_headers) {
      CaptureHeaders(span, "http.request.header.", options.request_headers,
                     *info.request_headers);
    }
    return span;
  } catch (...) {
    return trace::Span();  // out of memory: the request goes on untraced
  }
}

void EndAttemptSpan(trace::Span& span, const TracingOptions& options, int status,
                    const net::Headers* response_headers, const Status& error,
                    std::string_view protocol_version) noexcept {
  if (!span.IsRecording()) return;
  try {
    if (status > 0) {
      span.SetAttribute("http.response.status_code", static_cast<int64_t>(status));
      span.SetAttribute("network.protocol.version", protocol_version);
      if (response_headers && !options.response_headers.empty()) {
        CaptureHeaders(span, "http.response.header.", options.response_headers,
                       *response_headers);
      }
      if (status >= 400) {
        const std::string code = std::to_string(status);
        span.SetAttribute("error.type", code);
        span.SetStatus(trace::SpanStatusCode::kError);
      }
    } else if (!error.ok()) {
      span.SetAttribute("error.type", ErrorKindName(ErrorKindOf(error)));
      span.SetStatus(trace::SpanStatusCode::kError, error.message());
    }
  } catch (...) {
  }
  span.End();
}

void InjectContext(const trace::Context& context, net::Headers& headers) noexcept {
  if (!context.span_context().IsValid() && context.baggage().empty()) return;
  propagation::HeaderVectorCarrier carrier(headers.fields());
  propagation::GlobalPropagator().Inject(context, carrier);
}

}  // namespace otlp::http::internal
