// otlp/trace/provider.h — TracerProvider: owns the sampler, limits, resource and processor, and
// hands out Tracers. One global provider exists, never null, a no-op until one is set.
//
//   auto provider = TracerProvider::Create({
//       .processor = BatchSpanProcessor::Create(std::move(exporter)),
//   });
//   otlp::trace::SetTracerProvider(provider);
//   otlp::trace::Tracer t = otlp::trace::GetTracer("my-lib");   // follows the global provider
//   …
//   provider->Shutdown();   // exports what is queued
//
// Most programs call otlp::Setup() (otlp/otlp.h), which builds all of this from OTEL_* variables.
// Threading: thread-safe. Spans must end before their provider is destroyed.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "otlp/core/export.h"
#include "otlp/trace/processor.h"
#include "otlp/trace/resource.h"
#include "otlp/trace/sampler.h"
#include "otlp/trace/tracer.h"

namespace otlp::config {
class Reader;
}

namespace otlp::trace {

// OTEL_SPAN_* / OTEL_*_ATTRIBUTE_* limits; kNoLimit means unlimited.
struct OTLP_EXPORT SpanLimits {
  static constexpr uint32_t kNoLimit = UINT32_MAX;
  uint32_t attribute_count = 128;
  uint32_t attribute_value_length = kNoLimit;  // in characters (UTF-8 code points)
  uint32_t event_count = 128;
  uint32_t link_count = 128;
  uint32_t event_attribute_count = 128;
  uint32_t link_attribute_count = 128;

  static SpanLimits FromEnvironment(config::Reader& env);
};

struct OTLP_EXPORT TracerProviderOptions {
  // Null: spans are still sampled and recorded, then discarded at End.
  std::unique_ptr<SpanProcessor> processor;
  // Null: from OTEL_TRACES_SAMPLER when an env Reader is given, else parentbased_always_on.
  std::shared_ptr<Sampler> sampler;
  // Unset: Resource::Default() (detectors + OTEL_RESOURCE_ATTRIBUTES + OTEL_SERVICE_NAME).
  std::optional<Resource> resource;
  // Unset: from the environment when an env Reader is given, else the defaults.
  std::optional<SpanLimits> limits;
};

class OTLP_EXPORT TracerProvider {
 public:
  static std::shared_ptr<TracerProvider> Create(TracerProviderOptions options,
                                                config::Reader* env = nullptr);
  // A provider whose tracers do nothing.
  static std::shared_ptr<TracerProvider> Noop();
  ~TracerProvider();

  // Same (name, version, schema_url) gives a tracer of the same scope.
  Tracer GetTracer(std::string_view name, std::string_view version = {},
                   std::string_view schema_url = {});

  bool ForceFlush(std::chrono::microseconds timeout = std::chrono::seconds(30)) noexcept;
  // Flushes, then stops: later spans are not recorded. Idempotent.
  bool Shutdown(std::chrono::microseconds timeout = std::chrono::seconds(30)) noexcept;

  bool enabled() const noexcept;
  const Resource& resource() const noexcept;
  const SpanLimits& limits() const noexcept;
  const Sampler& sampler() const noexcept;

 private:
  friend void SetTracerProvider(std::shared_ptr<TracerProvider>);
  friend Tracer GetTracer(std::string_view, std::string_view, std::string_view);
  explicit TracerProvider(std::shared_ptr<internal::ProviderState> state) noexcept;
  std::shared_ptr<internal::ProviderState> state_;
};

// The global provider (a no-op until SetTracerProvider).
OTLP_EXPORT std::shared_ptr<TracerProvider> GetTracerProvider() noexcept;
// Replaces the global provider. Tracers from otlp::trace::GetTracer() follow the change.
// Providers that were global stay alive until exit, so spans they started can still end.
OTLP_EXPORT void SetTracerProvider(std::shared_ptr<TracerProvider> provider);
// A tracer of the global provider that follows later SetTracerProvider calls, so a library may
// take its tracer before the application configures the SDK.
Tracer GetTracer(std::string_view name, std::string_view version = {},
                 std::string_view schema_url = {});

}  // namespace otlp::trace
