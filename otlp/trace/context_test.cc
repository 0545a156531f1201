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

TEST(ContextTest, DerivedContextsKeepTracingSuppressed) {
  EXPECT_FALSE(Context().IsTracingSuppressed());
  EXPECT_FALSE(Context(Make()).IsTracingSuppressed());
  SpanContext a = Make();
  Context quiet = Context(a, Baggage().Set("tenant", "acme")).WithTracingSuppressed();
  EXPECT_TRUE(quiet.IsTracingSuppressed());
  EXPECT_EQ(quiet.span_context(), a);
  EXPECT_EQ(quiet.baggage().Get("tenant").value_or(""), "acme");
  SpanContext b = Make();
  Context child = quiet.WithSpanContext(b);
  EXPECT_TRUE(child.IsTracingSuppressed());
  EXPECT_EQ(child.span_context(), b);
  EXPECT_TRUE(quiet.WithBaggage(Baggage()).IsTracingSuppressed());
}

TEST(ContextTest, ScopeOfASuppressedContextSuppressesThisThread) {
  EXPECT_FALSE(IsTracingSuppressed());
  {
    Scope s{Context(Make()).WithTracingSuppressed()};
    EXPECT_TRUE(IsTracingSuppressed());
    EXPECT_TRUE(Context::Current().IsTracingSuppressed());
  }
  EXPECT_FALSE(IsTracingSuppressed());
}

// SuppressTracingScope keeps the current context (span context, baggage) and adds suppression;
// scopes nested in it stay suppressed, and contexts captured there carry it to other threads.
TEST(ContextTest, SuppressTracingScopeSuppressesWhileAliveAndNests) {
  SpanContext a = Make();
  Scope outer{Context(a, Baggage().Set("tenant", "acme"))};
  EXPECT_FALSE(IsTracingSuppressed());
  {
    SuppressTracingScope suppress;
    EXPECT_TRUE(IsTracingSuppressed());
    EXPECT_EQ(Context::Current().span_context(), a);
    EXPECT_EQ(Context::Current().baggage().Get("tenant").value_or(""), "acme");
    {
      Scope inner{Context(Make())};  // a context that does not say "suppressed"
      EXPECT_TRUE(IsTracingSuppressed());
    }
    {
      Span s = Span::Wrap(Make());
      Scope inner(s);
      EXPECT_TRUE(IsTracingSuppressed());
      EXPECT_EQ(CurrentSpan(), &s);
    }
    Context captured = Context::Current();
    bool elsewhere = true, carried = false;
    std::thread t([&] {
      elsewhere = IsTracingSuppressed();
      Scope s(captured);
      carried = IsTracingSuppressed();
    });
    t.join();
    EXPECT_FALSE(elsewhere);  // suppression is per thread...
    EXPECT_TRUE(carried);     // ...and travels with a captured context
  }
  EXPECT_FALSE(IsTracingSuppressed());
  EXPECT_FALSE(Context::Current().IsTracingSuppressed());
  EXPECT_EQ(Context::Current().span_context(), a);
}

}  // namespace
}  // namespace otlp::trace
