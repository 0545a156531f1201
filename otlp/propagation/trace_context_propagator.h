// otlp/propagation/trace_context_propagator.h — the W3C Trace Context propagator
// (`traceparent` and `tracestate` headers, https://www.w3.org/TR/trace-context-2/).
//
//   otlp::propagation::TraceContextPropagator w3c;
//   w3c.Inject(ctx, carrier);                        // traceparent: 00-<trace>-<span>-<flags>
//   otlp::trace::Context parent = w3c.Extract(carrier);
//
// Trace Context Level 2. Extraction follows the spec strictly: version 00 must be exactly 55
// characters; versions 01–fe are read from their first 55 characters when those are followed by
// '-' or the end (later versions may append fields; of their flags only the two this level
// defines, sampled and random-trace-id, are kept); version ff, uppercase hex, wrong lengths and
// all-zero ids are invalid. An invalid traceparent yields no span context and the tracestate is
// then ignored. Leading and trailing OWS is tolerated. The tracestate is parsed by
// TraceState::FromHeader (Level 2 keys; a repeated key is kept, an unparseable header dropped).
//
// Flags: a version-00 header's flags are kept as received, the random-trace-id bit (0x02)
// included, so a span started under the extracted context carries that bit on (same trace id)
// and Inject writes it; the SDK sets it on every trace it starts. Inject writes the context's
// flags byte as it is.
//
// Thread-safety: immutable; Inject/Extract may be called from any thread concurrently.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "otlp/core/export.h"
#include "otlp/propagation/propagator.h"

namespace otlp::propagation {

class OTLP_EXPORT TraceContextPropagator final : public TextMapPropagator {
 public:
  static constexpr std::string_view kTraceparent = "traceparent";
  static constexpr std::string_view kTracestate = "tracestate";

  // Writes traceparent (version 00, lowercase) and, when non-empty, tracestate. Nothing is
  // written for an invalid span context.
  void Inject(const trace::Context& context, TextMapCarrier& carrier) const noexcept override;
  trace::Context Extract(const TextMapCarrier& carrier,
                         const trace::Context& context = {}) const noexcept override;
  std::vector<std::string_view> Fields() const override { return {kTraceparent, kTracestate}; }
};

// Parses one traceparent value with the rules above. The result is remote, with an empty
// tracestate; nullopt when invalid.
OTLP_EXPORT std::optional<trace::SpanContext> ParseTraceparent(std::string_view value) noexcept;

}  // namespace otlp::propagation
