// otlp/propagation/global_propagator.h — the process-wide propagator that integrations use, and
// building a propagator from names or from OTEL_PROPAGATORS.
//
//   // At startup (otlp::Setup() does this from the environment):
//   auto p = otlp::propagation::PropagatorFromEnvironment();     // OTEL_PROPAGATORS
//   if (p.ok()) otlp::propagation::SetGlobalPropagator(*p);
//   // In an integration:
//   otlp::propagation::GlobalPropagator().Inject(otlp::trace::Context::Current(), carrier);
//
// Known names: tracecontext, baggage, b3 (single header), b3multi, none. Until one is set, the
// global propagator is tracecontext + baggage.
//
// Thread-safety: all functions are thread-safe. A propagator passed to SetGlobalPropagator is
// kept alive until the process exits, so the reference GlobalPropagator() returns never
// dangles, even when another thread replaces the global meanwhile.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "otlp/core/config.h"
#include "otlp/core/export.h"
#include "otlp/core/status.h"
#include "otlp/propagation/propagator.h"

namespace otlp::propagation {

// The current global propagator; never fails.
OTLP_EXPORT const TextMapPropagator& GlobalPropagator() noexcept;

// Replaces the global propagator; nullptr installs the no-op propagator.
OTLP_EXPORT void SetGlobalPropagator(std::shared_ptr<TextMapPropagator> propagator);

// The default: tracecontext followed by baggage (a new instance).
OTLP_EXPORT std::shared_ptr<TextMapPropagator> DefaultPropagator();

// Builds a propagator from names (case-insensitive, trimmed, duplicates removed, order kept).
// One name gives that propagator; several a CompositePropagator; no names, or "none", the
// no-op propagator ("none" beside other names wins, with a warning). An unknown name is an
// InvalidArgument error.
OTLP_EXPORT Result<std::shared_ptr<TextMapPropagator>> PropagatorFromNames(
    const std::vector<std::string>& names);

// Reads OTEL_PROPAGATORS through `reader` (unknown names are left as reader warnings and
// ignored). Unset, or no known name, gives the default tracecontext,baggage.
OTLP_EXPORT Result<std::shared_ptr<TextMapPropagator>> PropagatorFromEnvironment(
    config::Reader& reader);
// The same from the process environment; the reader's warnings are logged (OTLP_LOG kWarn).
OTLP_EXPORT Result<std::shared_ptr<TextMapPropagator>> PropagatorFromEnvironment();

}  // namespace otlp::propagation
