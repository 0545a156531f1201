// otlp/trace/context.h — the current span context and baggage, per thread, and the value that
// carries them explicitly into callbacks and other threads.
//
//   auto span = tracer.StartSpan("work");
//   {
//     otlp::trace::Scope scope(span);        // span is the parent of spans started here
//     DoWork();
//   }
//   // Async: capture, then re-enter on the other thread.
//   otlp::trace::Context ctx = otlp::trace::Context::Current();
//   pool.Post([ctx] { otlp::trace::Scope s(ctx); Handle(); });
//
// Suppressing tracing (OpenTelemetry's "suppress tracing" context key): the SDK's own work — an
// exporter sending spans, the batch processor's export thread — must not produce spans of its
// own, or exporting would feed itself. While tracing is suppressed on a thread, StartSpan returns
// a non-recording span that still carries its parent's context (so propagation keeps working),
// and nothing is recorded or exported.
//
//   void SenderThread() {
//     otlp::trace::SuppressTracingScope suppress;   // for the thread's whole life
//     ...                                           // spans started here are not recorded
//   }
//   // Or carried in a context: work entered with it is suppressed wherever it runs.
//   Context quiet = Context::Current().WithTracingSuppressed();
//
// Suppression nests: a Scope entered while tracing is suppressed keeps it suppressed, whatever
// its own context says, and contexts captured there (Context::Current()) carry it; it ends with
// the scope that began it.
//
// Thread-safety: Context is an immutable value. Scope (and SuppressTracingScope) is bound to the
// thread that created it and must be destroyed on that thread, in reverse order of creation (it
// is a stack guard).
#pragma once

#include "otlp/core/export.h"
#include "otlp/trace/baggage.h"
#include "otlp/trace/span_context.h"

namespace otlp::trace {

class Span;

class OTLP_EXPORT Context {
 public:
  Context() noexcept = default;
  Context(SpanContext span_context, Baggage baggage = {}) noexcept  // NOLINT
      : span_context_(std::move(span_context)), baggage_(std::move(baggage)) {}

  // The calling thread's current context (empty when no Scope is active).
  static Context Current() noexcept;

  const SpanContext& span_context() const noexcept { return span_context_; }
  const Baggage& baggage() const noexcept { return baggage_; }
  // True when spans started under this context are not recorded (see the top of this file).
  bool IsTracingSuppressed() const noexcept { return tracing_suppressed_; }

  // Derived contexts keep the tracing suppression of this one.
  Context WithSpanContext(SpanContext sc) const noexcept {
    return Context(std::move(sc), baggage_, tracing_suppressed_);
  }
  Context WithBaggage(Baggage b) const noexcept {
    return Context(span_context_, std::move(b), tracing_suppressed_);
  }
  // This context with tracing suppressed.
  Context WithTracingSuppressed() const noexcept { return Context(span_context_, baggage_, true); }

 private:
  friend class Scope;
  Context(SpanContext span_context, Baggage baggage, bool tracing_suppressed) noexcept
      : span_context_(std::move(span_context)),
        tracing_suppressed_(tracing_suppressed),
        baggage_(std::move(baggage)) {}

  SpanContext span_context_;
  bool tracing_suppressed_ = false;
  Baggage baggage_;
};

// Makes a context (or a span) current on this thread until the Scope is destroyed.
class OTLP_EXPORT Scope {
 public:
  explicit Scope(const Context& context) noexcept;
  // The span becomes current (and CurrentSpan() returns it); baggage and tracing suppression stay
  // as they were.
  explicit Scope(Span& span) noexcept;
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  friend class Context;
  friend Span* CurrentSpan() noexcept;
  friend const SpanContext* internal_CurrentSpanContext() noexcept;
  friend bool IsTracingSuppressed() noexcept;
  Context context_;
  Span* span_ = nullptr;
  Scope* prev_;
};

// Suppresses tracing on this thread while it lives: spans started here (and under contexts
// captured here) are not recorded. Nests with Scope like a Scope; for a thread that must never
// trace, create one at the top of its function.
class OTLP_EXPORT SuppressTracingScope {
 public:
  SuppressTracingScope() noexcept;
  SuppressTracingScope(const SuppressTracingScope&) = delete;
  SuppressTracingScope& operator=(const SuppressTracingScope&) = delete;

 private:
  Scope scope_;
};

// The span made current by the innermost Scope(Span&) on this thread, or nullptr. Valid while
// that Scope lives.
OTLP_EXPORT Span* CurrentSpan() noexcept;

namespace internal {
// The innermost Scope of this thread (nullptr when none). Read inline on the disabled path.
extern thread_local constinit Scope* t_current_scope;
}  // namespace internal

// The innermost current span context on this thread, or nullptr (no copy; valid while the
// Scope lives). Used by Tracer::StartSpan to find the implicit parent.
inline const SpanContext* internal_CurrentSpanContext() noexcept {
  Scope* s = internal::t_current_scope;
  return s != nullptr ? &s->context_.span_context() : nullptr;
}

// True while tracing is suppressed on this thread (the current context says so).
inline bool IsTracingSuppressed() noexcept {
  Scope* s = internal::t_current_scope;
  return s != nullptr && s->context_.IsTracingSuppressed();
}

}  // namespace otlp::trace
