#include "otlp/propagation/composite_propagator.h"

#include <gtest/gtest.h>

#include <string>

#include "otlp/propagation/b3_propagator.h"
#include "otlp/propagation/baggage_propagator.h"
#include "otlp/propagation/carriers.h"
#include "otlp/propagation/trace_context_propagator.h"

namespace otlp::propagation {
namespace {

using trace::Context;

trace::SpanContext Sample() {
  return trace::SpanContext(*trace::TraceId::FromHex("0af7651916cd43dd8448eb211c80319c"),
                            *trace::SpanId::FromHex("b7ad6b7169203331"), trace::TraceFlags(1),
                            false, trace::TraceState::FromHeader("v=1"));
}

CompositePropagator W3cAndB3() {
  return CompositePropagator({std::make_shared<TraceContextPropagator>(),
                              std::make_shared<BaggagePropagator>(),
                              std::make_shared<B3Propagator>(), nullptr});
}

TEST(CompositePropagatorTest, InjectRunsAll) {
  MapCarrier c;
  W3cAndB3().Inject(Context(Sample(), trace::Baggage().Set("k", "v")), c);
  EXPECT_EQ(c.Get("traceparent"), "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  EXPECT_EQ(c.Get("tracestate"), "v=1");
  EXPECT_EQ(c.Get("baggage"), "k=v");
  EXPECT_EQ(c.Get("b3"), "0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1");
}

TEST(CompositePropagatorTest, ExtractMergesInOrder) {
  MapCarrier c;
  W3cAndB3().Inject(Context(Sample(), trace::Baggage().Set("k", "v")), c);
  Context ctx = W3cAndB3().Extract(c);
  // B3 ran last and found the same ids, but carries no tracestate.
  EXPECT_EQ(ctx.span_context().trace_id(), Sample().trace_id());
  EXPECT_TRUE(ctx.span_context().IsRemote());
  EXPECT_EQ(ctx.baggage().Get("k"), "v");

  // Only baggage present: the span context given in is kept.
  MapCarrier only_baggage{{"baggage", "x=1"}};
  Context base(Sample());
  Context merged = W3cAndB3().Extract(only_baggage, base);
  EXPECT_EQ(merged.span_context(), Sample());
  EXPECT_EQ(merged.baggage().Get("x"), "1");
}

TEST(CompositePropagatorTest, LaterPropagatorWins) {
  MapCarrier c{{"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
               {"b3", std::string(32, 'b') + "-" + std::string(16, 'c') + "-0"}};
  Context ctx = W3cAndB3().Extract(c);
  EXPECT_EQ(ctx.span_context().trace_id().ToHex(), std::string(32, 'b'));
  EXPECT_FALSE(ctx.span_context().IsSampled());
}

TEST(CompositePropagatorTest, FieldsAreTheUnion) {
  CompositePropagator p({std::make_shared<TraceContextPropagator>(),
                         std::make_shared<TraceContextPropagator>(),
                         std::make_shared<B3Propagator>(B3Propagator::Encoding::kMultiHeader),
                         std::make_shared<BaggagePropagator>()});
  EXPECT_EQ(p.Fields(), (std::vector<std::string_view>{"traceparent", "tracestate", "x-b3-traceid",
                                                       "x-b3-spanid", "x-b3-sampled", "baggage"}));
  EXPECT_EQ(W3cAndB3().propagators().size(), 3u);  // the null entry is dropped
}

TEST(CompositePropagatorTest, EmptyCompositeAndNoop) {
  CompositePropagator empty({});
  MapCarrier c;
  empty.Inject(Context(Sample()), c);
  EXPECT_TRUE(c.values().empty());
  EXPECT_TRUE(empty.Fields().empty());

  NoopPropagator noop;
  noop.Inject(Context(Sample()), c);
  EXPECT_TRUE(c.values().empty());
  MapCarrier in{{"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}};
  EXPECT_FALSE(noop.Extract(in).span_context().IsValid());
  EXPECT_EQ(noop.Extract(in, Context(Sample())).span_context(), Sample());
}

}  // namespace
}  // namespace otlp::propagation
