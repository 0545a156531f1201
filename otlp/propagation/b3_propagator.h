// otlp/propagation/b3_propagator.h — Zipkin B3 propagation, single header (`b3`) and multiple
// headers (`X-B3-TraceId`, `X-B3-SpanId`, `X-B3-Sampled`, `X-B3-Flags`).
//
//   otlp::propagation::B3Propagator b3;                                   // writes `b3`
//   otlp::propagation::B3Propagator b3multi(B3Propagator::Encoding::kMultiHeader);
//   b3.Inject(ctx, carrier);     // b3: 4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1
//
// Both encodings extract both formats; the single header wins when it carries ids. Trace ids
// are 32 or 16 lowercase hex digits (16-digit ids are padded on the left with zeros); span ids
// 16. Sampling state: "1" (accept), "0" (deny), "d" (debug, treated as sampled); in the
// multi-header form X-B3-Sampled is "1"/"0"/"true"/"false" and X-B3-Flags: 1 means debug
// (sampled). A header with a sampling state only ("b3: 0") carries no span context. The parent
// span id is validated but not used; it is never injected. Debug is injected as sampled.
//
// Thread-safety: immutable; Inject/Extract may be called from any thread concurrently.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "otlp/core/export.h"
#include "otlp/propagation/propagator.h"

namespace otlp::propagation {

class OTLP_EXPORT B3Propagator final : public TextMapPropagator {
 public:
  enum class Encoding : unsigned char { kSingleHeader, kMultiHeader };

  static constexpr std::string_view kB3 = "b3";
  static constexpr std::string_view kTraceId = "x-b3-traceid";
  static constexpr std::string_view kSpanId = "x-b3-spanid";
  static constexpr std::string_view kParentSpanId = "x-b3-parentspanid";
  static constexpr std::string_view kSampled = "x-b3-sampled";
  static constexpr std::string_view kFlags = "x-b3-flags";

  explicit B3Propagator(Encoding encoding = Encoding::kSingleHeader) noexcept
      : encoding_(encoding) {}

  void Inject(const trace::Context& context, TextMapCarrier& carrier) const noexcept override;
  trace::Context Extract(const TextMapCarrier& carrier,
                         const trace::Context& context = {}) const noexcept override;
  std::vector<std::string_view> Fields() const override;

 private:
  Encoding encoding_;
};

// Parses a `b3` single-header value; nullopt when it is invalid or carries no ids. The result
// is remote.
OTLP_EXPORT std::optional<trace::SpanContext> ParseB3Single(std::string_view value) noexcept;

}  // namespace otlp::propagation
