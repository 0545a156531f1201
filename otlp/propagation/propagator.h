// otlp/propagation/propagator.h — carriers and propagators: how a Context is written into and
// read from the headers of a request or message.
//
// Every integration (HTTP, NATS, Kafka, …) adapts its header type to TextMapCarrier and calls
// the global propagator:
//
//   struct MyHeaders : otlp::propagation::TextMapCarrier { … };
//   otlp::propagation::GlobalPropagator().Inject(otlp::trace::Context::Current(), headers);
//   otlp::trace::Context parent = otlp::propagation::GlobalPropagator().Extract(headers);
//
// Implementations: trace_context_propagator.h (W3C traceparent/tracestate), baggage_propagator.h
// (W3C baggage), b3_propagator.h (b3, b3multi), composite_propagator.h (several as one, no-op).
// Ready-made carriers: carriers.h. The global propagator and OTEL_PROPAGATORS:
// global_propagator.h.
//
// Thread-safety: propagators are immutable after construction; Inject/Extract are noexcept and
// never fail: a malformed header is ignored (extraction then yields a context without it).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "otlp/core/export.h"
#include "otlp/core/status.h"
#include "otlp/trace/context.h"

namespace otlp::propagation {

// Adapts a header collection. Keys are given in lowercase; a carrier whose headers are
// case-insensitive (HTTP) matches them case-insensitively.
class OTLP_EXPORT TextMapCarrier {
 public:
  virtual ~TextMapCarrier() = default;
  // The value of `key`, or an empty view when absent. When a header occurs more than once the
  // carrier returns the values joined with ','.
  virtual std::string_view Get(std::string_view key) const noexcept = 0;
  virtual void Set(std::string_view key, std::string_view value) noexcept = 0;
  // Optional: calls `f` for each key present (used by propagators that scan, e.g. none today).
  virtual void Keys(const std::function<void(std::string_view)>& f) const noexcept { (void)f; }
};

class OTLP_EXPORT TextMapPropagator {
 public:
  virtual ~TextMapPropagator() = default;
  virtual void Inject(const trace::Context& context, TextMapCarrier& carrier) const noexcept = 0;
  // Returns `context` with what the carrier holds merged in (a span context read from the
  // carrier is marked remote).
  virtual trace::Context Extract(const TextMapCarrier& carrier,
                                 const trace::Context& context = {}) const noexcept = 0;
  // Header names this propagator writes.
  virtual std::vector<std::string_view> Fields() const = 0;
};
}  // namespace otlp::propagation
