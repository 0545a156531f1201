#include "otlp/propagation/baggage_propagator.h"

#include <exception>
#include <string>
#include <utility>

namespace otlp::propagation {

void BaggagePropagator::Inject(const trace::Context& context,
                               TextMapCarrier& carrier) const noexcept {
  if (context.baggage().empty()) return;
  try {
    std::string header = context.baggage().ToHeader();
    if (!header.empty()) carrier.Set(kBaggage, header);
  } catch (const std::exception&) {
    // Out of memory: baggage is not propagated.
  }
}

trace::Context BaggagePropagator::Extract(const TextMapCarrier& carrier,
                                          const trace::Context& context) const noexcept {
  std::string_view header = carrier.Get(kBaggage);
  if (header.empty()) return context;
  trace::Baggage baggage = trace::Baggage::FromHeader(header);
  if (baggage.empty()) return context;
  return context.WithBaggage(std::move(baggage));
}

}  // namespace otlp::propagation
