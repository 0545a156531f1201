// otlp/propagation/composite_propagator.h — several propagators run as one, and the propagator
// that does nothing.
//
//   auto p = std::make_shared<otlp::propagation::CompositePropagator>(
//       std::vector<std::shared_ptr<const TextMapPropagator>>{
//           std::make_shared<TraceContextPropagator>(), std::make_shared<BaggagePropagator>()});
//   p->Inject(ctx, carrier);   // traceparent, tracestate, baggage
//
// Inject runs every propagator in order; Extract runs them in order, each one merging into the
// context the previous one returned (so a later propagator that finds a span context wins);
// Fields is the union of their fields, in order, without duplicates.
//
// Thread-safety: immutable; Inject/Extract may be called from any thread concurrently.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "otlp/core/export.h"
#include "otlp/propagation/propagator.h"

namespace otlp::propagation {

class OTLP_EXPORT CompositePropagator final : public TextMapPropagator {
 public:
  // Null entries are ignored.
  explicit CompositePropagator(std::vector<std::shared_ptr<const TextMapPropagator>> propagators);

  void Inject(const trace::Context& context, TextMapCarrier& carrier) const noexcept override;
  trace::Context Extract(const TextMapCarrier& carrier,
                         const trace::Context& context = {}) const noexcept override;
  std::vector<std::string_view> Fields() const override;

  const std::vector<std::shared_ptr<const TextMapPropagator>>& propagators() const noexcept {
    return propagators_;
  }

 private:
  std::vector<std::shared_ptr<const TextMapPropagator>> propagators_;
};

// Injects nothing and extracts the context unchanged (OTEL_PROPAGATORS=none).
class OTLP_EXPORT NoopPropagator final : public TextMapPropagator {
 public:
  void Inject(const trace::Context&, TextMapCarrier&) const noexcept override {}
  trace::Context Extract(const TextMapCarrier&,
                         const trace::Context& context = {}) const noexcept override {
    return context;
  }
  std::vector<std::string_view> Fields() const override { return {}; }
};

}  // namespace otlp::propagation
