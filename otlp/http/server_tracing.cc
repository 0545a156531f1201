#include "otlp/http/server_tracing.h"

#include <array>
#include <charconv>
#include <vector>

#include "otlp/core/version.h"
#include "otlp/http/internal/server_span.h"
#include "otlp/propagation/carriers.h"
#include "otlp/propagation/global_propagator.h"
#include "otlp/trace/provider.h"
#include "otlp/trace/tracer.h"

namespace otlp::http {
namespace internal {
namespace {

constexpr std::array<std::string_view, 9> kKnownMethods = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};

constexpr std::array<std::string_view, 4> kSensitiveQueryKeys = {"AWSAccessKeyId", "Signature",
                                                                 "sig", "X-Goog-Signature"};

bool IsKnownMethod(std::string_view method) {
  for (std::string_view m : kKnownMethods) {
    if (m == method) return true;
  }
  return false;
}

std::optional<uint16_t> ParsePort(std::string_view s) {
  uint16_t port = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), port);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return port;
}

// "host:port", "[v6]:port", "host" -> (host without brackets, port if given).
std::pair<std::string_view, std::optional<uint16_t>> SplitHostPort(std::string_view s) {
  if (!s.empty() && s.front() == '[') {
    const size_t close = s.find(']');
    if (close == std::string_view::npos) return {s, std::nullopt};
    std::string_view host = s.substr(1, close - 1);
    std::string_view rest = s.substr(close + 1);
    if (rest.size() > 1 && rest.front() == ':') return {host, ParsePort(rest.substr(1))};
    return {host, std::nullopt};
  }
  const size_t colon = s.rfind(':');
  if (colon == std::string_view::npos || s.find(':') != colon) return {s, std::nullopt};
  return {s.substr(0, colon), ParsePort(s.substr(colon + 1))};
}

trace::Tracer& ServerTracer() {
  static trace::Tracer tracer = trace::GetTracer("otlp.http", kVersion);
  return tracer;
}

}  // namespace

std::string RedactQuery(std::string_view query) {
  std::string out;
  out.reserve(query.size());
  while (true) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    bool sensitive = false;
    for (std::string_view k : kSensitiveQueryKeys) sensitive = sensitive || k == key;
    if (sensitive && eq != std::string_view::npos) {
      out.append(key).append("=REDACTED");
    } else {
      out.append(pair);
    }
    if (amp == std::string_view::npos) break;
    out.push_back('&');
    query.remove_prefix(amp + 1);
  }
  return out;
}

ServerSpan StartServerSpan(std::string_view method, std::string_view target,
                           const net::Headers& headers, const IncomingRequestInfo& info) {
  ServerSpan s;
  const propagation::HeaderVectorCarrier carrier(headers.fields());
  const trace::Context parent = propagation::GlobalPropagator().Extract(carrier);

  const bool known = IsKnownMethod(method);
  s.method = known ? std::string(method) : std::string("HTTP");
  std::string name = s.method;
  if (!info.route.empty()) name.append(" ").append(info.route);

  const size_t question = target.find('?');
  const std::string_view path = target.substr(0, question);
  std::string query;
  if (question != std::string_view::npos) query = RedactQuery(target.substr(question + 1));

  std::vector<KeyValue> attributes;
  attributes.reserve(16);
  attributes.push_back({"http.request.method", known ? method : std::string_view("_OTHER")});
  if (!known) attributes.push_back({"http.request.method_original", method});
  attributes.push_back({"url.path", path});
  if (question != std::string_view::npos) attributes.push_back({"url.query", query});
  attributes.push_back({"url.scheme", info.scheme});
  if (!info.route.empty()) attributes.push_back({"http.route", info.route});
  attributes.push_back({"network.protocol.version", info.protocol_version});
  if (!info.client_address.empty()) {
    const auto [address, port] = SplitHostPort(info.client_address);
    attributes.push_back({"client.address", address});
    if (port) attributes.push_back({"client.port", static_cast<int64_t>(*port)});
  }
  std::string_view server_host = info.server_host;
  std::optional<uint16_t> server_port;
  if (info.server_port != 0) server_port = info.server_port;
  if (auto host = headers.Find("Host"); host && !host->empty()) {
    const auto [h, p] = SplitHostPort(*host);
    server_host = h;
    server_port = p ? p : std::optional<uint16_t>(info.scheme == "https" ? 443 : 80);
  }
  if (!server_host.empty()) attributes.push_back({"server.address", server_host});
  if (server_port) attributes.push_back({"server.port", static_cast<int64_t>(*server_port)});
  if (auto agent = headers.Find("User-Agent")) {
    attributes.push_back({"user_agent.original", *agent});
  }

  trace::StartOptions options{.kind = trace::SpanKind::kServer};
  if (parent.span_context().IsValid()) {
    options.parent = parent;
  } else {
    options.root = true;  // a request without a caller's context starts a trace
  }
  s.span = ServerTracer().StartSpan(name, attributes, options);
  s.context = parent.WithSpanContext(s.span.GetContext());
  return s;
}

void SetServerRoute(ServerSpan& s, std::string_view route) {
  if (route.empty()) return;
  s.span.UpdateName(s.method + " " + std::string(route));
  s.span.SetAttribute("http.route", route);
}

void EndServerSpan(trace::Span& span, int status_code) {
  span.SetAttribute("http.response.status_code", static_cast<int64_t>(status_code));
  if (status_code >= 500) {
    span.SetAttribute("error.type", std::to_string(status_code));
    span.SetStatus(trace::SpanStatusCode::kError);
  }
  span.End();
}

}  // namespace internal

TracedRequest::TracedRequest(std::string_view method, std::string_view target,
                             const net::Headers& headers, const IncomingRequestInfo& info) {
  internal::ServerSpan s = internal::StartServerSpan(method, target, headers, info);
  span_ = std::move(s.span);
  context_ = std::move(s.context);
  method_ = std::move(s.method);
  context_scope_.emplace(context_);
  span_scope_.emplace(span_);
}

TracedRequest::~TracedRequest() {
  span_scope_.reset();
  context_scope_.reset();
  span_.End();
}

void TracedRequest::SetRoute(std::string_view route) {
  if (route.empty()) return;
  span_.UpdateName(method_ + " " + std::string(route));
  span_.SetAttribute("http.route", route);
}

void TracedRequest::End(int status_code) {
  if (!span_.IsRecording()) return;
  internal::EndServerSpan(span_, status_code);
}

TracedRequest TraceIncoming(std::string_view method, std::string_view target,
                            const net::Headers& headers, const IncomingRequestInfo& info) {
  return TracedRequest(method, target, headers, info);
}

}  // namespace otlp::http
