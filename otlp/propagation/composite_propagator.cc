#include "otlp/propagation/composite_propagator.h"

#include <algorithm>
#include <utility>

namespace otlp::propagation {

CompositePropagator::CompositePropagator(
    std::vector<std::shared_ptr<const TextMapPropagator>> propagators)
    : propagators_(std::move(propagators)) {
  std::erase(propagators_, nullptr);
}

void CompositePropagator::Inject(const trace::Context& context,
                                 TextMapCarrier& carrier) const noexcept {
  for (const auto& p : propagators_) p->Inject(context, carrier);
}

trace::Context CompositePropagator::Extract(const TextMapCarrier& carrier,
                                            const trace::Context& context) const noexcept {
  trace::Context result = context;
  for (const auto& p : propagators_) result = p->Extract(carrier, result);
  return result;
}

std::vector<std::string_view> CompositePropagator::Fields() const {
  std::vector<std::string_view> out;
  for (const auto& p : propagators_) {
    for (std::string_view f : p->Fields()) {
      if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
    }
  }
  return out;
}

}  // namespace otlp::propagation
