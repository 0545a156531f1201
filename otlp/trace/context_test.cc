#include "otlp/trace/context.h"

#include <gtest/gtest.h>

#include <thread>

#include "otlp/trace/internal/id_generator.h"
#include "otlp/trace/span.h"

namespace otlp::trace {
namespace {

SpanContext Make() {
  return SpanContext(internal::NewTraceId(), internal::NewSpanId(), TraceFlags(1), false);
}

TEST(ContextTest, EmptyByDefault) {
  EXPECT_FALSE(Context::Current().span_context().IsValid());
  EXPECT_EQ(internal_CurrentSpanContext(), nullptr);
  EXPECT_EQ(CurrentSpan(), nullptr);
}

TEST(ContextTest, ScopesNestAndRestore) {
  SpanContext a = Make(), b = Make();
  {
    Scope sa{Context(a)};
    EXPECT_EQ(Context::Current().span_context(), a);
    {
      Scope sb{Context(b)};
      EXPECT_EQ(Context::Current().span_context(), b);
    }
    EXPECT_EQ(Context::Current().span_context(), a);
  }
  EXPECT_FALSE(Context::Current().span_context().IsValid());
}

TEST(ContextTest, SpanScopeKeepsBaggageAndExposesTheSpan) {
  Baggage bag = Baggage().Set("tenant", "acme");
  Scope outer(Context(SpanContext(), bag));
  Span s = Span::Wrap(Make());
  {
    Scope inner(s);
    EXPECT_EQ(CurrentSpan(), &s);
    EXPECT_EQ(Context::Current().span_context(), s.GetContext());
    EXPECT_EQ(Context::Current().baggage().Get("tenant").value_or(""), "acme");
  }
  EXPECT_EQ(CurrentSpan(), nullptr);
}

TEST(ContextTest, ContextIsPerThreadAndCanBeCarriedAcross) {
  SpanContext a = Make();
  Scope s{Context(a)};
  Context captured = Context::Current();
  SpanContext seen_before, seen_inside;
  std::thread t([&] {
    seen_before = Context::Current().span_context();
    Scope inner(captured);
    seen_inside = Context::Current().span_context();
  });
  t.join();
  EXPECT_FALSE(seen_before.IsValid());
  EXPECT_EQ(seen_inside, a);
}

}  // namespace
}  // namespace otlp::trace
