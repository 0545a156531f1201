#include "otlp/trace/context.h"

#include "otlp/trace/span.h"

namespace otlp::trace {
namespace internal {
thread_local constinit Scope* t_current_scope = nullptr;
}  // namespace internal
using internal::t_current_scope;

Context Context::Current() noexcept {
  return t_current_scope != nullptr ? t_current_scope->context_ : Context();
}

Scope::Scope(const Context& context) noexcept : context_(context), prev_(t_current_scope) {
  // Suppression nests: a scope entered while suppressed stays suppressed.
  if (prev_ != nullptr && prev_->context_.tracing_suppressed_) context_.tracing_suppressed_ = true;
  t_current_scope = this;
}

Scope::Scope(Span& span) noexcept
    : context_(span.GetContext(),
               t_current_scope != nullptr ? t_current_scope->context_.baggage() : Baggage(), false),
      span_(&span),
      prev_(t_current_scope) {
  if (prev_ != nullptr && prev_->context_.tracing_suppressed_) context_.tracing_suppressed_ = true;
  t_current_scope = this;
}

Scope::~Scope() { t_current_scope = prev_; }

SuppressTracingScope::SuppressTracingScope() noexcept
    : scope_(Context::Current().WithTracingSuppressed()) {}

Span* CurrentSpan() noexcept { return t_current_scope != nullptr ? t_current_scope->span_ : nullptr; }


}  // namespace otlp::trace
