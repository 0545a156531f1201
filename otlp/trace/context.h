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
// Thread-safety: Context is an immutable value. Scope is bound to the thread that created it
// and must be destroyed on that thread, in reverse order of creation (it is a stack guard).
#pragma once

#include "otlp/trace/baggage.h"
#include "otlp/trace/span_context.h"

namespace otlp::trace {

class Span;

class Context {
 public:
  Context() noexcept = default;
  Context(SpanContext span_context, Baggage baggage = {}) noexcept  // NOLINT
      : span_context_(std::move(span_context)), baggage_(std::move(baggage)) {}

  // The calling thread's current context (empty when no Scope is active).
  static Context Current() noexcept;

  const SpanContext& span_context() const noexcept { return span_context_; }
  const Baggage& baggage() const noexcept { return baggage_; }
  Context WithSpanContext(SpanContext sc) const noexcept { return {std::move(sc), baggage_}; }
  Context WithBaggage(Baggage b) const noexcept { return {span_context_, std::move(b)}; }

 private:
  SpanContext span_context_;
  Baggage baggage_;
};

// Makes a context (or a span) current on this thread until the Scope is destroyed.
class Scope {
 public:
  explicit Scope(const Context& context) noexcept;
  // The span becomes current (and CurrentSpan() returns it); baggage stays as it was.
  explicit Scope(Span& span) noexcept;
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  friend class Context;
  friend Span* CurrentSpan() noexcept;
  friend const SpanContext* internal_CurrentSpanContext() noexcept;
  Context context_;
  Span* span_ = nullptr;
  Scope* prev_;
};

// The span made current by the innermost Scope(Span&) on this thread, or nullptr. Valid while
// that Scope lives.
Span* CurrentSpan() noexcept;

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

}  // namespace otlp::trace
