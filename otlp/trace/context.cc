#include "otlp/trace/context.h"

#include "otlp/trace/span.h"

namespace otlp::trace {
namespace {
thread_local Scope* t_current = nullptr;
}  // namespace

Context Context::Current() noexcept {
  return t_current != nullptr ? t_current->context_ : Context();
}

Scope::Scope(const Context& context) noexcept : context_(context), prev_(t_current) {
  t_current = this;
}

Scope::Scope(Span& span) noexcept
    : context_(span.GetContext(), t_current != nullptr ? t_current->context_.baggage() : Baggage()),
      span_(&span),
      prev_(t_current) {
  t_current = this;
}

Scope::~Scope() { t_current = prev_; }

Span* CurrentSpan() noexcept { return t_current != nullptr ? t_current->span_ : nullptr; }

const SpanContext* internal_CurrentSpanContext() noexcept {
  return t_current != nullptr ? &t_current->context_.span_context() : nullptr;
}

}  // namespace otlp::trace
