#include "otlp/propagation/global_propagator.h"

#include <algorithm>
#include <atomic>
#include <string_view>
#include <utility>

#include "otlp/core/internal/mutex.h"
#include "otlp/core/log.h"
#include "otlp/propagation/b3_propagator.h"
#include "otlp/propagation/baggage_propagator.h"
#include "otlp/propagation/composite_propagator.h"
#include "otlp/propagation/trace_context_propagator.h"

namespace otlp::propagation {

namespace {

// Every propagator ever installed, kept alive so references handed out stay valid.
struct Registry {
  otlp::internal::Mutex mu;
  std::vector<std::shared_ptr<TextMapPropagator>> installed OTLP_GUARDED_BY(mu);
  // Stored under `mu` (after `installed` keeps it alive), read without it.
  std::atomic<const TextMapPropagator*> current{nullptr};
};

Registry& GetRegistry() {
  static auto* registry = new Registry;  // never destroyed: used during static teardown
  return *registry;
}

const TextMapPropagator& BuiltinDefault() {
  static const auto* p = new CompositePropagator(
      {std::make_shared<TraceContextPropagator>(), std::make_shared<BaggagePropagator>()});
  return *p;
}

std::string Normalize(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

std::shared_ptr<TextMapPropagator> ByName(std::string_view name) {
  if (name == "tracecontext") return std::make_shared<TraceContextPropagator>();
  if (name == "baggage") return std::make_shared<BaggagePropagator>();
  if (name == "b3") return std::make_shared<B3Propagator>(B3Propagator::Encoding::kSingleHeader);
  if (name == "b3multi") {
    return std::make_shared<B3Propagator>(B3Propagator::Encoding::kMultiHeader);
  }
  if (name == "none") return std::make_shared<NoopPropagator>();
  return nullptr;
}

}  // namespace

const TextMapPropagator& GlobalPropagator() noexcept {
  const TextMapPropagator* p = GetRegistry().current.load(std::memory_order_acquire);
  return p != nullptr ? *p : BuiltinDefault();
}

void SetGlobalPropagator(std::shared_ptr<TextMapPropagator> propagator) {
  if (!propagator) propagator = std::make_shared<NoopPropagator>();
  Registry& r = GetRegistry();
  otlp::internal::MutexLock lock(r.mu);
  if (std::find(r.installed.begin(), r.installed.end(), propagator) == r.installed.end()) {
    r.installed.push_back(propagator);
  }
  r.current.store(propagator.get(), std::memory_order_release);
}

std::shared_ptr<TextMapPropagator> DefaultPropagator() {
  return std::make_shared<CompositePropagator>(
      std::vector<std::shared_ptr<const TextMapPropagator>>{
          std::make_shared<TraceContextPropagator>(), std::make_shared<BaggagePropagator>()});
}

Result<std::shared_ptr<TextMapPropagator>> PropagatorFromNames(
    const std::vector<std::string>& names) {
  std::vector<std::string> unique;
  for (const std::string& raw : names) {
    std::string name = Normalize(raw);
    if (name.empty()) continue;
    if (!ByName(name)) {
      return InvalidArgumentError("unknown propagator '" + std::string(raw) +
                                  "' (known: tracecontext, baggage, b3, b3multi, none)");
    }
    if (std::find(unique.begin(), unique.end(), name) == unique.end()) {
      unique.push_back(std::move(name));
    }
  }
  if (std::find(unique.begin(), unique.end(), "none") != unique.end()) {
    if (unique.size() > 1) {
      OTLP_LOG(kWarn, "propagators: 'none' given together with other propagators; using none");
    }
    return std::shared_ptr<TextMapPropagator>(std::make_shared<NoopPropagator>());
  }
  if (unique.empty()) {
    return std::shared_ptr<TextMapPropagator>(std::make_shared<NoopPropagator>());
  }
  if (unique.size() == 1) return ByName(unique.front());
  std::vector<std::shared_ptr<const TextMapPropagator>> parts;
  parts.reserve(unique.size());
  for (const std::string& name : unique) parts.push_back(ByName(name));
  return std::shared_ptr<TextMapPropagator>(
      std::make_shared<CompositePropagator>(std::move(parts)));
}

Result<std::shared_ptr<TextMapPropagator>> PropagatorFromEnvironment(config::Reader& reader) {
  std::optional<std::vector<std::string>> names = reader.GetEnumList("OTEL_PROPAGATORS");
  if (!names || names->empty()) return DefaultPropagator();
  return PropagatorFromNames(*names);
}

Result<std::shared_ptr<TextMapPropagator>> PropagatorFromEnvironment() {
  config::Reader reader;
  auto result = PropagatorFromEnvironment(reader);
  for (const std::string& w : reader.warnings()) OTLP_LOG(kWarn, w);
  return result;
}

}  // namespace otlp::propagation
