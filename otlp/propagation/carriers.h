// otlp/propagation/carriers.h — ready-made TextMapCarriers: a map of lowercase keys, and a view
// over a vector of (name, value) header pairs as HTTP libraries keep them.
//
//   otlp::propagation::MapCarrier out;
//   GlobalPropagator().Inject(ctx, out);                 // out.values() has "traceparent", …
//
//   std::vector<std::pair<std::string, std::string>> headers = request.Headers();
//   otlp::propagation::HeaderVectorCarrier in(headers);
//   otlp::trace::Context parent = GlobalPropagator().Extract(in);
//
// Thread-safety: a carrier is used by one thread at a time (Get may cache joined values).
#pragma once

#include <deque>
#include <functional>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "otlp/core/export.h"
#include "otlp/propagation/propagator.h"

namespace otlp::propagation {

// Owns a std::map whose keys are lowercase (keys given to Set or the constructor are lowercased).
class OTLP_EXPORT MapCarrier final : public TextMapCarrier {
 public:
  using Map = std::map<std::string, std::string, std::less<>>;

  MapCarrier() = default;
  MapCarrier(std::initializer_list<std::pair<std::string_view, std::string_view>> init);

  std::string_view Get(std::string_view key) const noexcept override;
  // Replaces any previous value of `key`.
  void Set(std::string_view key, std::string_view value) noexcept override;
  void Keys(const std::function<void(std::string_view)>& f) const noexcept override;

  const Map& values() const noexcept { return values_; }

 private:
  Map values_;
};

// Adapts a vector of header pairs, without copying it. Names match case-insensitively; when a
// name occurs more than once, Get returns the values joined with ',' (HTTP field combining).
// Set replaces every occurrence of the name with one (lowercase-named) pair at the end. A
// carrier built over a const vector is read-only: Set does nothing.
class OTLP_EXPORT HeaderVectorCarrier final : public TextMapCarrier {
 public:
  using Headers = std::vector<std::pair<std::string, std::string>>;

  explicit HeaderVectorCarrier(Headers& headers) noexcept : read_(&headers), write_(&headers) {}
  explicit HeaderVectorCarrier(const Headers& headers) noexcept : read_(&headers) {}

  std::string_view Get(std::string_view key) const noexcept override;
  void Set(std::string_view key, std::string_view value) noexcept override;
  void Keys(const std::function<void(std::string_view)>& f) const noexcept override;

 private:
  const Headers* read_;
  Headers* write_ = nullptr;
  // Storage for joined values handed out by Get (a deque keeps references stable).
  mutable std::deque<std::string> joined_;
};

}  // namespace otlp::propagation
