// otlp/propagation/baggage_propagator.h — the W3C Baggage propagator (`baggage` header,
// https://www.w3.org/TR/baggage/).
//
//   otlp::propagation::BaggagePropagator bp;
//   bp.Inject(ctx.WithBaggage(otlp::trace::Baggage().Set("tenant", "acme")), carrier);
//   std::optional<std::string_view> tenant = bp.Extract(carrier).baggage().Get("tenant");
//
// Parsing and serialization rules (limits, percent-encoding, skipped members) are those of
// otlp::trace::Baggage::FromHeader / ToHeader. Extraction replaces the context's baggage only
// when the header yields at least one entry.
//
// Thread-safety: immutable; Inject/Extract may be called from any thread concurrently.
#pragma once

#include <string_view>
#include <vector>

#include "otlp/core/export.h"
#include "otlp/propagation/propagator.h"

namespace otlp::propagation {

class OTLP_EXPORT BaggagePropagator final : public TextMapPropagator {
 public:
  static constexpr std::string_view kBaggage = "baggage";

  // Writes `baggage` when the context's baggage serializes to something non-empty.
  void Inject(const trace::Context& context, TextMapCarrier& carrier) const noexcept override;
  trace::Context Extract(const TextMapCarrier& carrier,
                         const trace::Context& context = {}) const noexcept override;
  std::vector<std::string_view> Fields() const override { return {kBaggage}; }
};

}  // namespace otlp::propagation
