// TracerProvider, SpanLimits and the global provider.
#include "otlp/trace/provider.h"

#include <algorithm>
#include <mutex>

#include "otlp/core/config.h"
#include "otlp/trace/internal/batch_enqueue.h"
#include "otlp/trace/internal/tracer_impl.h"

namespace otlp::trace {

namespace internal {

TracerImpl* ProviderState::FindOrCreateTracer(std::string_view name, std::string_view version,
                                              std::string_view schema_url) {
  otlp::internal::MutexLock lock(mu);
  for (auto& t : tracers) {
    if (t->scope.name == name && t->scope.version == version && t->scope.schema_url == schema_url)
      return t.get();
  }
  auto t = std::make_unique<TracerImpl>();
  t->scope.name = std::string(name);
  t->scope.version = std::string(version);
  t->scope.schema_url = std::string(schema_url);
  t->provider = this;
  t->enabled.store(enabled && !shutdown.load(), std::memory_order_relaxed);
  tracers.push_back(std::move(t));
  return tracers.back().get();
}

}  // namespace internal

using internal::TracerImpl;

// ---- SpanLimits ----

SpanLimits SpanLimits::FromEnvironment(config::Reader& env) {
  SpanLimits l;
  auto get = [&env](std::string_view name, uint32_t& field) {
    if (auto v = env.GetInt(name)) field = static_cast<uint32_t>(*v);
  };
  get("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", l.attribute_count);
  get("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", l.attribute_value_length);
  get("OTEL_SPAN_EVENT_COUNT_LIMIT", l.event_count);
  get("OTEL_SPAN_LINK_COUNT_LIMIT", l.link_count);
  get("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", l.event_attribute_count);
  get("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", l.link_attribute_count);
  return l;
}

// ---- TracerProvider ----

TracerProvider::TracerProvider(std::shared_ptr<internal::ProviderState> state) noexcept
    : state_(std::move(state)) {}

TracerProvider::~TracerProvider() {
  Shutdown();
}

std::shared_ptr<TracerProvider> TracerProvider::Create(TracerProviderOptions options,
                                                       config::Reader* env) {
  auto state = std::make_shared<internal::ProviderState>();
  state->processor = std::move(options.processor);
  state->wants_on_start = state->processor && state->processor->WantsOnStart();
  state->batch = internal::BatchStateOf(state->processor.get());
  if (options.sampler) {
    state->sampler = std::move(options.sampler);
  } else if (env != nullptr) {
    state->sampler = Sampler::FromEnvironment(*env);
  } else {
    state->sampler = Sampler::ParentBased(Sampler::AlwaysOn());
  }
  state->sample_mode = state->sampler->IsAlwaysOn()    ? internal::ProviderState::SampleMode::kAll
                       : state->sampler->IsAlwaysOff() ? internal::ProviderState::SampleMode::kNone
                       : state->sampler->IsDefaultParentBased()
                           ? internal::ProviderState::SampleMode::kByParent
                           : internal::ProviderState::SampleMode::kGeneral;
  state->fast_start =
      state->sample_mode != internal::ProviderState::SampleMode::kGeneral && !state->wants_on_start;
  if (options.limits) {
    state->limits = *options.limits;
  } else if (env != nullptr) {
    state->limits = SpanLimits::FromEnvironment(*env);
  }
  state->fast_attr_limit = state->limits.attribute_value_length == SpanLimits::kNoLimit
                               ? state->limits.attribute_count
                               : 0;
  state->resource = options.resource
                        ? std::move(*options.resource)
                        : (env != nullptr ? Resource::Default(*env) : Resource::Default());
  return std::shared_ptr<TracerProvider>(new TracerProvider(std::move(state)));
}

std::shared_ptr<TracerProvider> TracerProvider::Noop() {
  auto state = std::make_shared<internal::ProviderState>();
  state->enabled = false;
  state->sampler = Sampler::AlwaysOff();
  return std::shared_ptr<TracerProvider>(new TracerProvider(std::move(state)));
}

Tracer TracerProvider::GetTracer(std::string_view name, std::string_view version,
                                 std::string_view schema_url) {
  TracerImpl* t = state_->FindOrCreateTracer(name, version, schema_url);
  return Tracer(t, state_);
}

bool TracerProvider::ForceFlush(std::chrono::microseconds timeout) noexcept {
  if (!state_->processor || state_->shutdown.load()) return true;
  return state_->processor->ForceFlush(timeout);
}

bool TracerProvider::Shutdown(std::chrono::microseconds timeout) noexcept {
  if (state_->shutdown.exchange(true)) return true;
  {
    otlp::internal::MutexLock lock(state_->mu);
    for (auto& t : state_->tracers) t->enabled.store(false, std::memory_order_relaxed);
  }
  if (!state_->processor) return true;
  return state_->processor->Shutdown(timeout);
}

bool TracerProvider::enabled() const noexcept {
  return state_->enabled && !state_->shutdown.load(std::memory_order_relaxed);
}
const Resource& TracerProvider::resource() const noexcept {
  return state_->resource;
}
const SpanLimits& TracerProvider::limits() const noexcept {
  return state_->limits;
}
const Sampler& TracerProvider::sampler() const noexcept {
  return *state_->sampler;
}

// ---- Global provider ----

namespace {

struct ProxyTracer : internal::TracerHot {
  std::string name, version, schema_url;
};

struct Global {
  otlp::internal::Mutex mu;
  std::shared_ptr<TracerProvider> current OTLP_GUARDED_BY(mu);
  // Kept alive: spans may still end.
  std::vector<std::shared_ptr<TracerProvider>> retired OTLP_GUARDED_BY(mu);
  std::vector<std::unique_ptr<ProxyTracer>> proxies OTLP_GUARDED_BY(mu);
};

Global& G() {
  static auto* g = new Global;  // never destroyed: tracers may be used during static teardown
  return *g;
}

}  // namespace

std::shared_ptr<TracerProvider> GetTracerProvider() noexcept {
  Global& g = G();
  otlp::internal::MutexLock lock(g.mu);
  if (!g.current) g.current = TracerProvider::Noop();
  return g.current;
}

void SetTracerProvider(std::shared_ptr<TracerProvider> provider) {
  if (!provider) provider = TracerProvider::Noop();
  Global& g = G();
  otlp::internal::MutexLock lock(g.mu);
  if (g.current) g.retired.push_back(g.current);
  g.current = provider;
  for (auto& p : g.proxies) {
    TracerImpl* t = provider->state_->FindOrCreateTracer(p->name, p->version, p->schema_url);
    p->target.store(t, std::memory_order_release);
    p->enabled.store(true, std::memory_order_relaxed);  // unused: reads go through target
  }
}

Tracer GetTracer(std::string_view name, std::string_view version, std::string_view schema_url) {
  Global& g = G();
  otlp::internal::MutexLock lock(g.mu);
  for (auto& p : g.proxies) {
    if (p->name == name && p->version == version && p->schema_url == schema_url) {
      return Tracer(p.get(), nullptr);
    }
  }
  auto p = std::make_unique<ProxyTracer>();
  p->name = std::string(name);
  p->version = std::string(version);
  p->schema_url = std::string(schema_url);
  if (g.current) {
    p->target.store(g.current->state_->FindOrCreateTracer(name, version, schema_url),
                    std::memory_order_release);
  } else {
    p->target.store(&internal::g_noop_tracer, std::memory_order_release);
  }
  g.proxies.push_back(std::move(p));
  return Tracer(g.proxies.back().get(), nullptr);
}

}  // namespace otlp::trace
