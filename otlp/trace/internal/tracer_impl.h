// Provider and tracer internals shared by tracer.cc, span.cc and the processors.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "otlp/core/internal/mutex.h"
#include "otlp/trace/processor.h"
#include "otlp/trace/provider.h"
#include "otlp/trace/resource.h"
#include "otlp/trace/sampler.h"
#include "otlp/trace/span_data.h"
#include "otlp/trace/tracer.h"

namespace otlp::trace::internal {

struct BatchState;
struct ProviderState;

// The tracer of no-op Tracers (defined in tracer.cc): never enabled, never freed.
extern TracerHot g_noop_tracer;

struct TracerImpl : TracerHot {
  InstrumentationScope scope;
  ProviderState* provider = nullptr;
};

struct ProviderState {
  Resource resource;
  SpanLimits limits;
  uint32_t fast_attr_limit = 0;  // see SpanRecord::fast_attr_limit
  std::shared_ptr<Sampler> sampler;
  std::unique_ptr<SpanProcessor> processor;
  // The processor's state when it is a BatchSpanProcessor: Span::End enqueues into it directly
  // (internal/batch_enqueue.h).
  BatchState* batch = nullptr;
  bool wants_on_start = false;
  // The sampler's decision when it needs nothing but the parent: AlwaysOn, AlwaysOff, or the
  // default ParentBased(AlwaysOn). kGeneral asks the sampler.
  enum class SampleMode : uint8_t { kGeneral, kAll, kNone, kByParent };
  SampleMode sample_mode = SampleMode::kGeneral;
  bool fast_start = false;  // sample_mode is not kGeneral and no processor wants OnStart
  bool enabled = true;
  std::atomic<bool> shutdown{false};

  otlp::internal::Mutex mu;
  std::vector<std::unique_ptr<TracerImpl>> tracers OTLP_GUARDED_BY(mu);  // stable addresses

  TracerImpl* FindOrCreateTracer(std::string_view name, std::string_view version,
                                 std::string_view schema_url);
};

}  // namespace otlp::trace::internal
