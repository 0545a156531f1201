// otlp/trace/tracer.h — Tracer: starts spans for one instrumentation scope.
//
//   otlp::trace::Tracer tracer = otlp::trace::GetTracer("my-lib", "1.2.0");
//   auto span = tracer.StartSpan("load", {.kind = SpanKind::kClient});
//   auto child = tracer.StartSpan("parse", {.parent = span.GetContext()});
//
// The parent is, in order: StartOptions::parent, else (unless `root`) the thread's current
// context (Scope). A Tracer is a cheap copyable handle; keep one per library.
// Threading: thread-safe.
#pragma once

#include <atomic>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "otlp/core/attributes.h"
#include "otlp/core/export.h"
#include "otlp/trace/context.h"
#include "otlp/trace/span.h"

namespace otlp::trace {

namespace internal {
struct ProviderState;
// The part of a tracer every span start reads. TracerImpl (internal) derives from it.
struct OTLP_EXPORT TracerHot {
  std::atomic<TracerHot*> target{this};  // itself, or (for global proxies) the resolved tracer
  std::atomic<bool> enabled{false};
};
}  // namespace internal

// A reference to an explicit parent: a SpanContext or a Context (by reference, like
// std::string_view — it must outlive the StartSpan call, which temporaries do).
class OTLP_EXPORT ParentRef {
 public:
  constexpr ParentRef() noexcept = default;
  ParentRef(const SpanContext& context) noexcept : ptr_(&context) {}             // NOLINT
  ParentRef(const Context& context) noexcept : ptr_(&context.span_context()) {}  // NOLINT
  explicit operator bool() const noexcept { return ptr_ != nullptr; }
  const SpanContext& operator*() const noexcept { return *ptr_; }
  const SpanContext* get() const noexcept { return ptr_; }

 private:
  const SpanContext* ptr_ = nullptr;
};

// Kept under 64 bytes so building one at a call site is a few stores, not a memset.
struct OTLP_EXPORT StartOptions {
  SpanKind kind = SpanKind::kInternal;
  // Explicit parent (wins over the thread's current context). An invalid context means none.
  ParentRef parent;
  // Start a new trace even when a current context exists.
  bool root = false;
  std::optional<SystemTime> start_time;
  // Links known at start (samplers do not see them).
  std::span<const SpanContext> links = {};
};

// Shared default options: spares building (and zeroing) a StartOptions per call.
inline const StartOptions& DefaultStartOptions() noexcept {
  static const StartOptions kDefault{};
  return kDefault;
}

static_assert(sizeof(StartOptions) <= 64, "StartOptions must stay cheap to build");

class OTLP_EXPORT Tracer {
 public:
  // A no-op tracer.
  Tracer() noexcept;

  Span StartSpan(std::string_view name) noexcept {
    return StartSpan(name, std::span<const KeyValue>{}, DefaultStartOptions());
  }
  Span StartSpan(std::string_view name, const StartOptions& options) noexcept {
    return StartSpan(name, std::span<const KeyValue>{}, options);
  }
  // Attributes given here are visible to the sampler.
  Span StartSpan(std::string_view name, std::initializer_list<KeyValue> attributes,
                 const StartOptions& options = DefaultStartOptions()) noexcept {
    return StartSpan(name, std::span<const KeyValue>(attributes.begin(), attributes.size()),
                     options);
  }
  Span StartSpan(std::string_view name, std::span<const KeyValue> attributes,
                 const StartOptions& options = DefaultStartOptions()) noexcept {
    internal::TracerHot* t = hot_->target.load(std::memory_order_acquire);
    // (Two helpers, each returning its own value: the compiler then builds the result in place
    // on both paths.)
    if (!t->enabled.load(std::memory_order_relaxed)) [[unlikely]]
      return NoopSpan(options);
    return EnabledSpan(t, name, attributes, options);
  }

  // False for a no-op tracer (disabled SDK, no provider configured yet).
  bool Enabled() const noexcept {
    return hot_->target.load(std::memory_order_acquire)->enabled.load(std::memory_order_relaxed);
  }

 private:
  friend class TracerProvider;
  friend Tracer GetTracer(std::string_view, std::string_view, std::string_view);
  Tracer(internal::TracerHot* hot, std::shared_ptr<void> keep_alive) noexcept
      : hot_(hot), keep_alive_(std::move(keep_alive)) {}
  static Span NoopSpan(const StartOptions& options) noexcept {
    // Nothing to propagate: the common no-op case stays inline.
    if (!options.parent && (options.root || internal::t_current_scope == nullptr)) return Span();
    return StartDisabled(options);
  }
  static Span EnabledSpan(internal::TracerHot* t, std::string_view name,
                          std::span<const KeyValue> attributes,
                          const StartOptions& options) noexcept {
    Span s;  // filled by the start functions
    if (!attributes.empty()) {
      StartWithAttributes(&s, t, name, attributes, options);
    } else {
      StartRecordingOrSampled(&s, t, name, options);
    }
    return s;
  }
  static Span StartDisabled(const StartOptions& options) noexcept;
  // Each fills `out`, a default-constructed Span.
  // An enabled tracer's span without start attributes. (No return value and parameters that
  // fit in registers: its uncommon cases are tail calls to StartGeneral.)
  static void StartRecordingOrSampled(Span* out, internal::TracerHot* t, std::string_view name,
                                      const StartOptions& options) noexcept;
  // With start attributes (by value: an empty span at the call site folds away).
  [[gnu::noinline]] static void StartWithAttributes(Span* out, internal::TracerHot* t,
                                                    std::string_view name,
                                                    std::span<const KeyValue> attributes,
                                                    const StartOptions& options) noexcept;
  // Every case; `attributes` may be null (none).
  [[gnu::noinline]] static void StartGeneral(Span* out, internal::TracerHot* t,
                                             std::string_view name, const StartOptions& options,
                                             const std::span<const KeyValue>* attributes) noexcept;

  internal::TracerHot* hot_;
  std::shared_ptr<void> keep_alive_;
};

}  // namespace otlp::trace
