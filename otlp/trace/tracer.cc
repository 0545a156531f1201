#include <algorithm>
#include <mutex>

#include "otlp/core/config.h"
#include "otlp/core/log.h"
#include "otlp/trace/internal/fast_clock.h"
#include "otlp/trace/internal/id_generator.h"
#include "otlp/trace/internal/span_record.h"
#include "otlp/trace/internal/tracer_impl.h"
#include "otlp/trace/batch_processor.h"
#include "otlp/trace/provider.h"
#include "otlp/trace/tracer.h"

namespace otlp::trace {

namespace internal {

// The tracer of no-op Tracers: never enabled, never freed.
TracerHot g_noop_tracer;

}  // namespace internal

using internal::SpanRecord;
using internal::PackedHeader;
using internal::TracerImpl;

// ---- Tracer ----

Tracer::Tracer() noexcept : hot_(&internal::g_noop_tracer) {}

Span Tracer::StartDisabled(const StartOptions& options) noexcept {
  // A disabled SDK still propagates: the new span carries its parent's context.
  if (options.parent) return Span::Wrap(*options.parent);
  if (options.root) return Span();
  const SpanContext* current = internal_CurrentSpanContext();
  return current != nullptr ? Span::Wrap(*current) : Span();
}

namespace {

// A custom sampler's decision; out of the common path (its SamplingResult is large).
[[gnu::noinline]] SamplingDecision SampleCustom(const Sampler& sampler, const SpanContext* parent,
                                                const TraceId& trace_id, std::string_view name,
                                                SpanKind kind,
                                                std::span<const KeyValue> attributes,
                                                TraceState& state) noexcept {
  SamplingResult sr = sampler.ShouldSample(parent, trace_id, name, kind, attributes);
  if (sr.trace_state) state = std::move(*sr.trace_state);
  return sr.decision;
}

// The parent: explicit, else the thread's current one unless a root is asked for; an invalid
// one means none.
[[gnu::always_inline]] inline const SpanContext* ParentOf(const StartOptions& options) noexcept {
  const SpanContext* parent = options.parent ? options.parent.get()
                              : options.root ? nullptr
                                             : internal_CurrentSpanContext();
  return parent != nullptr && parent->IsValid() ? parent : nullptr;
}

// The new span's W3C random-trace-id flag: set on a trace id NewIds drew (all of its bits are
// random), the parent's on the parent's trace id (Trace Context Level 2, §3.2.2.5.2).
[[gnu::always_inline]] inline uint8_t RandomFlag(const SpanContext* parent) noexcept {
  return parent == nullptr ? TraceFlags::kRandom
                           : parent->trace_flags().value() & TraceFlags::kRandom;
}

// The new span's ids: a new trace's, or a new span in the parent's trace. Returns
// RandomFlag(parent), which each branch knows without a test.
[[gnu::always_inline]] inline uint8_t NewIds(internal::IdRng& rng, const SpanContext* parent,
                                             TraceId& trace_id, SpanId& span_id) noexcept {
  if (parent == nullptr) {
    internal::NewTraceAndSpanId(rng, trace_id, span_id);
    return TraceFlags::kRandom;
  }
  trace_id = parent->trace_id();
  span_id = internal::NewSpanId(rng);
  return parent->trace_flags().value() & TraceFlags::kRandom;
}

// Fills a record just taken from the pool; false (and the record released) when out of memory.
[[gnu::always_inline]] inline bool InitRecord(SpanRecord* rec, internal::ProviderState& ps,
                                              TracerImpl& tracer, std::string_view name,
                                              SpanKind kind, uint8_t flags,
                                              const SpanContext* parent, const TraceId& trace_id,
                                              const SpanId& span_id, const TraceState& state,
                                              int64_t start) noexcept {
  rec->provider = &ps;
  rec->fast_attr_limit = ps.fast_attr_limit;
  PackedHeader& h = rec->h;
  h.trace_flags = flags;
  h.kind = static_cast<uint8_t>(kind);
  uint8_t bits = parent != nullptr && parent->IsRemote() ? internal::kParentRemote : 0;
  if (!state.empty()) [[unlikely]] {
    rec->trace_state = state;
    rec->extras = true;
    bits |= internal::kHasTraceState;
  }
  h.bits = bits;
  h.trace_id = trace_id;
  h.span_id = span_id;
  h.parent_span_id = parent != nullptr ? parent->span_id() : SpanId();
  h.start = start;
  h.scope = &tracer.scope;
  h.resource = &ps.resource;
  if (!rec->SetFirstName(name)) [[unlikely]] {
    internal::ReleaseRecord(rec);
    return false;
  }
  return true;
}

[[gnu::noinline]] void AddStartAttributesAndLinks(SpanRecord* rec, const SpanLimits& l,
                                                  std::span<const KeyValue> attributes,
                                                  std::span<const SpanContext> links) noexcept {
  for (const KeyValue& kv : attributes) rec->SetAttribute(kv.key, kv.value);
  for (const SpanContext& link : links) rec->AddLink(l, link, {});
}

}  // namespace

// The common start: no attributes or links at start, no explicit start time, a sampler decided
// by the parent alone, no OnStart, no inherited tracestate, a name of at most 64 bytes, a
// record in the pool and the clock's fast path. Everything else goes to StartGeneral as a tail
// call, so this path needs no stack frame.
void Tracer::StartRecordingOrSampled(Span* out, internal::TracerHot* hot, std::string_view name,
                                     const StartOptions& options) noexcept {
  auto* tracer = static_cast<TracerImpl*>(hot);
  internal::ProviderState& ps = *tracer->provider;
  const SpanContext* parent = ParentOf(options);
  internal::IdRng& rng = internal::t_id_rng;
  if (!ps.fast_start || !options.links.empty() || options.start_time || name.size() > 64 ||
      (parent != nullptr && !parent->trace_state().empty()) || !rng.seeded ||
      IsTracingSuppressed()) [[unlikely]] {
    return StartGeneral(out, hot, name, options, nullptr);
  }
  TraceId trace_id;
  SpanId span_id;
  const uint8_t random = NewIds(rng, parent, trace_id, span_id);
  using SampleMode = internal::ProviderState::SampleMode;
  if (ps.sample_mode != SampleMode::kAll &&
      (ps.sample_mode == SampleMode::kNone || (parent != nullptr && !parent->IsSampled()))) {
    return out->Fill(nullptr, trace_id, span_id, TraceFlags(random));
  }
  internal::RecordPool& pool = internal::t_record_pool;
  SpanRecord* rec = pool.head;
  int64_t start;
  if (rec == nullptr || rec->extras || !internal::TryNowUnixNanos(start)) [[unlikely]] {
    return StartGeneral(out, hot, name, options, nullptr);
  }
  // The body is empty after the reset and holds 512 bytes (NewRecord): the name fits.
  rec->ResetPlain();
  char* name_dst = rec->body.TryExtend(internal::Pad8(name.size()));
  if (name_dst == nullptr) [[unlikely]] return StartGeneral(out, hot, name, options, nullptr);
  pool.head = rec->next_free;
  --pool.count;
  otlp::internal::CopyUpTo64(name_dst, name.data(), name.size());
  rec->provider = &ps;
  rec->fast_attr_limit = ps.fast_attr_limit;
  PackedHeader& h = rec->h;
  h.name_len = static_cast<uint32_t>(name.size());
  // The flag again rather than `random`: not holding it in a register until here keeps this
  // path within an instruction or two of what it was (callgrind).
  const uint8_t flags = TraceFlags::kSampled | RandomFlag(parent);
  h.trace_flags = flags;
  h.kind = static_cast<uint8_t>(options.kind);
  h.bits = parent != nullptr && parent->IsRemote() ? internal::kParentRemote : 0;
  h.trace_id = trace_id;
  h.span_id = span_id;
  h.parent_span_id = parent != nullptr ? parent->span_id() : SpanId();
  h.start = start;
  h.scope = &tracer->scope;
  h.resource = &ps.resource;
  out->Fill(rec, trace_id, span_id, TraceFlags(flags));
}

void Tracer::StartWithAttributes(Span* out, internal::TracerHot* hot, std::string_view name,
                                 std::span<const KeyValue> attributes,
                                 const StartOptions& options) noexcept {
  StartGeneral(out, hot, name, options, &attributes);
}

void Tracer::StartGeneral(Span* out, internal::TracerHot* hot, std::string_view name,
                          const StartOptions& options,
                          const std::span<const KeyValue>* attributes_or_null) noexcept {
  // Suppressed (the SDK's own work, e.g. an exporter): like a disabled SDK, a non-recording span
  // that carries the parent's context.
  if (IsTracingSuppressed()) [[unlikely]] {
    *out = StartDisabled(options);
    return;
  }
  const std::span<const KeyValue> attributes =
      attributes_or_null != nullptr ? *attributes_or_null : std::span<const KeyValue>();
  auto* tracer = static_cast<TracerImpl*>(hot);
  internal::ProviderState& ps = *tracer->provider;

  TraceId trace_id;
  SpanId span_id;
  const SpanContext* parent = ParentOf(options);
  const uint8_t random = NewIds(internal::ThreadRng(), parent, trace_id, span_id);
  TraceState state = parent != nullptr ? parent->trace_state() : TraceState();
  using SampleMode = internal::ProviderState::SampleMode;
  SamplingDecision decision;
  if (ps.sample_mode == SampleMode::kAll) [[likely]] {
    decision = SamplingDecision::kRecordAndSample;
  } else if (ps.sample_mode == SampleMode::kByParent) {
    decision = parent == nullptr || parent->IsSampled() ? SamplingDecision::kRecordAndSample
                                                       : SamplingDecision::kDrop;
  } else if (ps.sampler->IsBuiltinChain()) {
    decision = ps.sampler->DecideFast(parent, trace_id);
  } else {
    decision = SampleCustom(*ps.sampler, parent, trace_id, name, options.kind, attributes, state);
  }
  const uint8_t flags =
      (decision == SamplingDecision::kRecordAndSample ? TraceFlags::kSampled : 0) | random;
  if (decision == SamplingDecision::kDrop) {
    return out->Fill(nullptr, trace_id, span_id, TraceFlags(flags), std::move(state));
  }

  const int64_t start = options.start_time
                            ? std::chrono::duration_cast<std::chrono::nanoseconds>(
                                  options.start_time->time_since_epoch())
                                  .count()
                            : internal::NowUnixNanos();
  SpanRecord* rec = internal::AcquireRecord();
  if (rec == nullptr || !InitRecord(rec, ps, *tracer, name, options.kind, flags, parent,
                                    trace_id, span_id, state, start)) [[unlikely]] {
    return out->Fill(nullptr, trace_id, span_id, TraceFlags(flags), std::move(state));
  }
  if (!attributes.empty() || !options.links.empty()) [[unlikely]] {
    AddStartAttributesAndLinks(rec, ps.limits, attributes, options.links);
  }
  out->Fill(rec, trace_id, span_id, TraceFlags(flags), std::move(state));
  if (ps.wants_on_start) [[unlikely]] ps.processor->OnStart(*out);
}

}  // namespace otlp::trace
