#include "otlp/propagation/baggage_propagator.h"

#include <gtest/gtest.h>

#include <string>

#include "otlp/propagation/carriers.h"

namespace otlp::propagation {
namespace {

using trace::Baggage;
using trace::Context;

TEST(BaggagePropagatorTest, Extract) {
  MapCarrier c{{"baggage", "userId=alice, serverNode = DF%2028,isProduction=false;p=1"}};
  Context ctx = BaggagePropagator().Extract(c);
  EXPECT_EQ(ctx.baggage().Get("userId"), "alice");
  EXPECT_EQ(ctx.baggage().Get("serverNode"), "DF 28");
  EXPECT_EQ(ctx.baggage().Get("isProduction"), "false");
  EXPECT_EQ(ctx.baggage().entries()[2].metadata, "p=1");
}

TEST(BaggagePropagatorTest, ExtractKeepsSpanContextAndSkipsBadMembers) {
  trace::SpanContext sc(*trace::TraceId::FromHex("0af7651916cd43dd8448eb211c80319c"),
                        *trace::SpanId::FromHex("b7ad6b7169203331"), trace::TraceFlags(1), true);
  MapCarrier c{{"baggage", "a=%G1,b=2"}};
  Context ctx = BaggagePropagator().Extract(c, Context(sc));
  EXPECT_EQ(ctx.span_context(), sc);
  EXPECT_FALSE(ctx.baggage().Get("a"));
  EXPECT_EQ(ctx.baggage().Get("b"), "2");
}

TEST(BaggagePropagatorTest, AbsentOrUselessHeaderKeepsExistingBaggage) {
  Context base(trace::SpanContext(), Baggage().Set("keep", "1"));
  MapCarrier none;
  EXPECT_EQ(BaggagePropagator().Extract(none, base).baggage().Get("keep"), "1");
  MapCarrier bad{{"baggage", "!!!,=="}};
  EXPECT_EQ(BaggagePropagator().Extract(bad, base).baggage().Get("keep"), "1");
}

TEST(BaggagePropagatorTest, CombinedHeaders) {
  std::vector<std::pair<std::string, std::string>> headers = {{"baggage", "a=1"},
                                                              {"Baggage", "b=2;x"}};
  Context ctx = BaggagePropagator().Extract(HeaderVectorCarrier(headers));
  EXPECT_EQ(ctx.baggage().Get("a"), "1");
  EXPECT_EQ(ctx.baggage().Get("b"), "2");
}

TEST(BaggagePropagatorTest, InjectPercentEncodesAndKeepsMetadata) {
  MapCarrier c;
  BaggagePropagator().Inject(
      Context(trace::SpanContext(), Baggage().Set("k", "v 1,2").Set("m", "x", "p;q=1")), c);
  EXPECT_EQ(c.Get("baggage"), "k=v%201%2C2,m=x;p;q=1");
}

TEST(BaggagePropagatorTest, InjectNothingWhenEmpty) {
  MapCarrier c;
  BaggagePropagator().Inject(Context(), c);
  BaggagePropagator().Inject(Context(trace::SpanContext(), Baggage().Set("bad key", "1")), c);
  EXPECT_TRUE(c.values().empty());
}

TEST(BaggagePropagatorTest, RoundTripWithEncoding) {
  Baggage b = Baggage()
                  .Set("text", "hello, world; 100% \"quoted\" \\ caf\xC3\xA9")
                  .Set("empty", "")
                  .Set("meta", "v", "p1;p2=x");
  MapCarrier c;
  BaggagePropagator p;
  p.Inject(Context(trace::SpanContext(), b), c);
  EXPECT_EQ(p.Extract(c).baggage(), b);
}

TEST(BaggagePropagatorTest, LimitsOnInjectAndExtract) {
  Baggage b;
  for (int i = 0; i < 300; ++i) b = b.Set("key" + std::to_string(i), std::string(40, 'v'));
  MapCarrier c;
  BaggagePropagator p;
  p.Inject(Context(trace::SpanContext(), b), c);
  EXPECT_LE(c.Get("baggage").size(), Baggage::kMaxHeaderSize);
  Baggage back = p.Extract(c).baggage();
  EXPECT_LE(back.size(), Baggage::kMaxEntries);
  EXPECT_GT(back.size(), 100u);
  EXPECT_EQ(back.Get("key0"), std::string(40, 'v'));

  std::string huge;
  for (int i = 0; i < 5000; ++i) huge += "k" + std::to_string(i) + "=" + std::string(20, 'x') + ",";
  MapCarrier big{{"baggage", huge}};
  Baggage parsed = p.Extract(big).baggage();
  EXPECT_LE(parsed.size(), Baggage::kMaxEntries);
  EXPECT_LE(parsed.ToHeader().size(), Baggage::kMaxHeaderSize);
}

TEST(BaggagePropagatorTest, Fields) {
  EXPECT_EQ(BaggagePropagator().Fields(), std::vector<std::string_view>{"baggage"});
}

}  // namespace
}  // namespace otlp::propagation
