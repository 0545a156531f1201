#include "otlp/propagation/b3_propagator.h"

#include <gtest/gtest.h>

#include <string>

#include "otlp/propagation/carriers.h"

namespace otlp::propagation {
namespace {

using trace::Context;
using trace::SpanContext;

constexpr std::string_view kTrace = "80f198ee56343ba864fe8b2a57d3eff7";
constexpr std::string_view kTrace64 = "a3ce929d0e0e4736";
constexpr std::string_view kSpan = "e457b5a2e4d86bd1";
constexpr std::string_view kParent = "05e3ac9a4f6e3b90";

std::string S(std::string_view a) { return std::string(a); }

std::optional<SpanContext> Single(std::string_view b3) {
  MapCarrier c{{"b3", b3}};
  SpanContext sc = B3Propagator().Extract(c).span_context();
  if (!sc.IsValid()) return std::nullopt;
  return sc;
}

TEST(B3SingleTest, FullForm) {
  auto sc = Single(S(kTrace) + "-" + S(kSpan) + "-1-" + S(kParent));
  ASSERT_TRUE(sc);
  EXPECT_EQ(sc->trace_id().ToHex(), kTrace);
  EXPECT_EQ(sc->span_id().ToHex(), kSpan);
  EXPECT_TRUE(sc->IsSampled());
  EXPECT_TRUE(sc->IsRemote());
}

TEST(B3SingleTest, SamplingStates) {
  EXPECT_TRUE(Single(S(kTrace) + "-" + S(kSpan) + "-1")->IsSampled());
  EXPECT_FALSE(Single(S(kTrace) + "-" + S(kSpan) + "-0")->IsSampled());
  EXPECT_TRUE(Single(S(kTrace) + "-" + S(kSpan) + "-d")->IsSampled());  // debug
  EXPECT_FALSE(Single(S(kTrace) + "-" + S(kSpan))->IsSampled());        // deferred
  EXPECT_FALSE(Single(S(kTrace) + "-" + S(kSpan) + "-x"));
  EXPECT_FALSE(Single(S(kTrace) + "-" + S(kSpan) + "-true"));
  EXPECT_FALSE(Single(S(kTrace) + "-" + S(kSpan) + "-"));
}

TEST(B3SingleTest, SixtyFourBitTraceIdIsPadded) {
  auto sc = Single(S(kTrace64) + "-" + S(kSpan) + "-1");
  ASSERT_TRUE(sc);
  EXPECT_EQ(sc->trace_id().ToHex(), "0000000000000000" + S(kTrace64));
}

TEST(B3SingleTest, SamplingStateOnlyCarriesNoContext) {
  EXPECT_FALSE(Single("0"));
  EXPECT_FALSE(Single("1"));
  EXPECT_FALSE(Single("d"));
}

TEST(B3SingleTest, Invalid) {
  EXPECT_FALSE(Single(""));
  EXPECT_FALSE(Single(S(kTrace)));
  EXPECT_FALSE(Single(S(kTrace) + "-" + S(kSpan) + "-1-" + S(kParent) + "-x"));  // 5 fields
  EXPECT_FALSE(Single(S(kTrace) + "-" + S(kSpan) + "-1-123"));                   // bad parent
  EXPECT_FALSE(Single(S(kTrace).substr(1) + "-" + S(kSpan)));                    // 31 digits
  EXPECT_FALSE(Single(S(kTrace) + "0-" + S(kSpan)));                             // 33 digits
  EXPECT_FALSE(Single(S(kTrace) + "-" + S(kSpan).substr(1)));
  EXPECT_FALSE(Single("80F198EE56343BA864FE8B2A57D3EFF7-" + S(kSpan)));  // uppercase
  EXPECT_FALSE(Single(std::string(32, '0') + "-" + S(kSpan)));
  EXPECT_FALSE(Single(S(kTrace) + "-" + std::string(16, '0')));
  EXPECT_FALSE(Single(std::string(16, '0') + "-" + S(kSpan)));
  EXPECT_FALSE(Single(S(kTrace) + "-" + S(kSpan) + "-1," + S(kTrace) + "-" + S(kSpan) + "-1"));
}

TEST(B3SingleTest, ToleratesOws) {
  EXPECT_TRUE(Single(" \t" + S(kTrace) + "-" + S(kSpan) + "-1 "));
}

MapCarrier Multi(std::string_view trace_id, std::string_view span_id, std::string_view sampled = {},
                 std::string_view flags = {}) {
  MapCarrier c;
  if (!trace_id.empty()) c.Set("x-b3-traceid", trace_id);
  if (!span_id.empty()) c.Set("x-b3-spanid", span_id);
  if (!sampled.empty()) c.Set("x-b3-sampled", sampled);
  if (!flags.empty()) c.Set("x-b3-flags", flags);
  return c;
}

TEST(B3MultiTest, Extract) {
  B3Propagator p(B3Propagator::Encoding::kMultiHeader);
  SpanContext sc = p.Extract(Multi(kTrace, kSpan, "1")).span_context();
  ASSERT_TRUE(sc.IsValid());
  EXPECT_EQ(sc.trace_id().ToHex(), kTrace);
  EXPECT_EQ(sc.span_id().ToHex(), kSpan);
  EXPECT_TRUE(sc.IsSampled());
  EXPECT_TRUE(sc.IsRemote());
}

TEST(B3MultiTest, SampledValuesAndDebugFlag) {
  B3Propagator p(B3Propagator::Encoding::kMultiHeader);
  EXPECT_TRUE(p.Extract(Multi(kTrace, kSpan, "true")).span_context().IsSampled());
  EXPECT_TRUE(p.Extract(Multi(kTrace, kSpan, "True")).span_context().IsSampled());
  EXPECT_FALSE(p.Extract(Multi(kTrace, kSpan, "0")).span_context().IsSampled());
  EXPECT_FALSE(p.Extract(Multi(kTrace, kSpan, "false")).span_context().IsSampled());
  EXPECT_FALSE(p.Extract(Multi(kTrace, kSpan)).span_context().IsSampled());
  EXPECT_TRUE(p.Extract(Multi(kTrace, kSpan, {}, "1")).span_context().IsSampled());
  EXPECT_TRUE(p.Extract(Multi(kTrace, kSpan, "0", "1")).span_context().IsSampled());
}

TEST(B3MultiTest, SixtyFourBitAndInvalid) {
  B3Propagator p(B3Propagator::Encoding::kMultiHeader);
  EXPECT_EQ(p.Extract(Multi(kTrace64, kSpan)).span_context().trace_id().ToHex(),
            "0000000000000000" + S(kTrace64));
  EXPECT_FALSE(p.Extract(Multi(kTrace, {})).span_context().IsValid());
  EXPECT_FALSE(p.Extract(Multi({}, kSpan)).span_context().IsValid());
  EXPECT_FALSE(p.Extract(Multi("xyz", kSpan)).span_context().IsValid());
  EXPECT_FALSE(p.Extract(Multi(kTrace, "00")).span_context().IsValid());
  MapCarrier bad_parent = Multi(kTrace, kSpan, "1");
  bad_parent.Set("x-b3-parentspanid", "zz");
  EXPECT_FALSE(p.Extract(bad_parent).span_context().IsValid());
}

TEST(B3MultiTest, CaseInsensitiveHttpHeaders) {
  std::vector<std::pair<std::string, std::string>> headers = {
      {"X-B3-TraceId", S(kTrace)}, {"X-B3-SpanId", S(kSpan)}, {"X-B3-Sampled", "1"}};
  SpanContext sc = B3Propagator().Extract(HeaderVectorCarrier(headers)).span_context();
  EXPECT_TRUE(sc.IsValid());
  EXPECT_TRUE(sc.IsSampled());
}

TEST(B3Test, SingleHeaderWinsOverMulti) {
  MapCarrier c = Multi(kTrace, kSpan, "0");
  std::string other_trace(32, 'a');
  c.Set("b3", other_trace + "-" + S(kSpan) + "-1");
  SpanContext sc = B3Propagator(B3Propagator::Encoding::kMultiHeader).Extract(c).span_context();
  EXPECT_EQ(sc.trace_id().ToHex(), other_trace);
  EXPECT_TRUE(sc.IsSampled());
  // An unusable single header falls back to the multi headers.
  c.Set("b3", "0");
  sc = B3Propagator().Extract(c).span_context();
  EXPECT_EQ(sc.trace_id().ToHex(), kTrace);
}

TEST(B3Test, InvalidLeavesContextUnchanged) {
  trace::Baggage bag = trace::Baggage().Set("k", "v");
  MapCarrier c{{"b3", "garbage"}};
  Context ctx = B3Propagator().Extract(c, Context(SpanContext(), bag));
  EXPECT_FALSE(ctx.span_context().IsValid());
  EXPECT_EQ(ctx.baggage().Get("k"), "v");
}

SpanContext Sample(bool sampled) {
  return SpanContext(*trace::TraceId::FromHex(kTrace), *trace::SpanId::FromHex(kSpan),
                     trace::TraceFlags(sampled ? 1 : 0), false,
                     trace::TraceState::FromHeader("a=1"));
}

TEST(B3Test, InjectSingle) {
  MapCarrier c;
  B3Propagator().Inject(Context(Sample(true)), c);
  EXPECT_EQ(c.Get("b3"), S(kTrace) + "-" + S(kSpan) + "-1");
  EXPECT_EQ(c.values().size(), 1u);
  MapCarrier c0;
  B3Propagator().Inject(Context(Sample(false)), c0);
  EXPECT_EQ(c0.Get("b3"), S(kTrace) + "-" + S(kSpan) + "-0");
}

TEST(B3Test, InjectMulti) {
  MapCarrier c;
  B3Propagator(B3Propagator::Encoding::kMultiHeader).Inject(Context(Sample(true)), c);
  EXPECT_EQ(c.Get("x-b3-traceid"), kTrace);
  EXPECT_EQ(c.Get("x-b3-spanid"), kSpan);
  EXPECT_EQ(c.Get("x-b3-sampled"), "1");
  EXPECT_EQ(c.values().count("x-b3-parentspanid"), 0u);
  EXPECT_EQ(c.values().count("b3"), 0u);
}

TEST(B3Test, InjectNothingForInvalid) {
  MapCarrier c;
  B3Propagator().Inject(Context(), c);
  B3Propagator(B3Propagator::Encoding::kMultiHeader).Inject(Context(), c);
  EXPECT_TRUE(c.values().empty());
}

TEST(B3Test, RoundTripBothEncodings) {
  for (auto enc : {B3Propagator::Encoding::kSingleHeader, B3Propagator::Encoding::kMultiHeader}) {
    for (bool sampled : {true, false}) {
      B3Propagator p(enc);
      MapCarrier c;
      p.Inject(Context(Sample(sampled)), c);
      SpanContext back = p.Extract(c).span_context();
      EXPECT_EQ(back.trace_id(), Sample(sampled).trace_id());
      EXPECT_EQ(back.span_id(), Sample(sampled).span_id());
      EXPECT_EQ(back.IsSampled(), sampled);
      EXPECT_TRUE(back.IsRemote());
    }
  }
}

TEST(B3Test, Fields) {
  EXPECT_EQ(B3Propagator().Fields(), std::vector<std::string_view>{"b3"});
  EXPECT_EQ(B3Propagator(B3Propagator::Encoding::kMultiHeader).Fields(),
            (std::vector<std::string_view>{"x-b3-traceid", "x-b3-spanid", "x-b3-sampled"}));
}

}  // namespace
}  // namespace otlp::propagation
