#include "otlp/propagation/trace_context_propagator.h"

#include <gtest/gtest.h>

#include <string>

#include "otlp/propagation/carriers.h"
#include "otlp/trace/provider.h"
#include "otlp/trace/tracer.h"

namespace otlp::propagation {
namespace {

using trace::Context;
using trace::SpanContext;

constexpr std::string_view kTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr std::string_view kSpan = "00f067aa0ba902b7";
const std::string kValid = "00-" + std::string(kTrace) + "-" + std::string(kSpan) + "-01";

Context ExtractFrom(std::string_view traceparent, std::string_view tracestate = {}) {
  MapCarrier c;
  c.Set("traceparent", traceparent);
  if (!tracestate.empty()) c.Set("tracestate", tracestate);
  return TraceContextPropagator().Extract(c);
}

bool Accepted(std::string_view traceparent) {
  return ExtractFrom(traceparent).span_context().IsValid();
}

TEST(ParseTraceparentTest, Version00) {
  auto sc = ParseTraceparent(kValid);
  ASSERT_TRUE(sc);
  EXPECT_EQ(sc->trace_id().ToHex(), kTrace);
  EXPECT_EQ(sc->span_id().ToHex(), kSpan);
  EXPECT_TRUE(sc->IsSampled());
  EXPECT_TRUE(sc->IsRemote());
  EXPECT_EQ(ParseTraceparent("00-" + std::string(kTrace) + "-" + std::string(kSpan) + "-00")
                ->trace_flags()
                .value(),
            0u);
}

TEST(ParseTraceparentTest, Version00KeepsUnknownFlags) {
  auto sc = ParseTraceparent("00-" + std::string(kTrace) + "-" + std::string(kSpan) + "-ff");
  ASSERT_TRUE(sc);
  EXPECT_EQ(sc->trace_flags().value(), 0xff);
}

TEST(ParseTraceparentTest, Version00WithTrailingContentInvalid) {
  EXPECT_FALSE(Accepted(kValid + "-"));
  EXPECT_FALSE(Accepted(kValid + "-extra"));
  EXPECT_FALSE(Accepted(kValid + "0"));
  EXPECT_FALSE(Accepted(kValid + "."));
}

TEST(ParseTraceparentTest, FutureVersionMayAppendFields) {
  std::string cc = "cc-" + std::string(kTrace) + "-" + std::string(kSpan) + "-01";
  EXPECT_TRUE(Accepted(cc));
  EXPECT_TRUE(Accepted(cc + "-what-the-future-will-be-like"));
  EXPECT_FALSE(Accepted(cc + ".what-the-future-will-not-be-like"));
  EXPECT_FALSE(Accepted(cc + "what"));
  auto sc = ParseTraceparent("01-" + std::string(kTrace) + "-" + std::string(kSpan) + "-07-x");
  ASSERT_TRUE(sc);
  EXPECT_EQ(sc->trace_flags().value(), 0x03);  // sampled and random are understood, 0x04 not
  EXPECT_EQ(sc->trace_id().ToHex(), kTrace);
}

// The flags of a parsed traceparent under Level 2, beside what Level 1 kept.
TEST(ParseTraceparentTest, FlagsByVersion) {
  struct Case {
    std::string version, flags, tail;
    uint8_t level1;  // for the record
    uint8_t level2;  // expected now
  } cases[] = {
      // Version 00: the byte as received (unchanged; 0x02 is now the random-trace-id flag).
      {"00", "00", "", 0x00, 0x00},
      {"00", "01", "", 0x01, 0x01},
      {"00", "02", "", 0x02, 0x02},
      {"00", "03", "", 0x03, 0x03},
      {"00", "09", "", 0x09, 0x09},
      {"00", "ff", "", 0xff, 0xff},
      // Later versions: the bits this level defines. Level 1 knew only "sampled".
      {"cc", "01", "", 0x01, 0x01},
      {"cc", "00", "-x", 0x00, 0x00},
      {"cc", "02", "", 0x00, 0x02},
      {"cc", "03", "-what-the-future-will-be-like", 0x01, 0x03},
      {"01", "ff", "-x", 0x01, 0x03},
      {"fe", "06", "", 0x00, 0x02},
      {"fe", "fd", "", 0x01, 0x01},
  };
  for (const Case& c : cases) {
    const std::string tp = c.version + "-" + std::string(kTrace) + "-" + std::string(kSpan) + "-" +
                           c.flags + c.tail;
    auto sc = ParseTraceparent(tp);
    ASSERT_TRUE(sc) << tp;
    EXPECT_EQ(sc->trace_flags().value(), c.level2) << tp;
    EXPECT_EQ(sc->IsRandom(), (c.level2 & trace::TraceFlags::kRandom) != 0) << tp;
    EXPECT_EQ(sc->IsSampled(), (c.level2 & trace::TraceFlags::kSampled) != 0) << tp;
  }
}

TEST(ParseTraceparentTest, FutureVersionStillChecksFields) {
  EXPECT_FALSE(Accepted("cc-" + std::string(kTrace) + "-" + std::string(kSpan) + "-0g-x"));
  EXPECT_FALSE(Accepted("cc-" + std::string(32, '0') + "-" + std::string(kSpan) + "-01"));
  EXPECT_FALSE(Accepted("cc-" + std::string(kTrace) + "-" + std::string(kSpan) + "-1"));
}

TEST(ParseTraceparentTest, VersionFfInvalid) {
  EXPECT_FALSE(Accepted("ff-" + std::string(kTrace) + "-" + std::string(kSpan) + "-01"));
  EXPECT_FALSE(Accepted("ff-" + std::string(kTrace) + "-" + std::string(kSpan) + "-01-x"));
}

TEST(ParseTraceparentTest, VersionIllegalCharactersOrLength) {
  const std::string rest = "-" + std::string(kTrace) + "-" + std::string(kSpan) + "-01";
  EXPECT_FALSE(Accepted(".0" + rest));
  EXPECT_FALSE(Accepted("0." + rest));
  EXPECT_FALSE(Accepted("0A" + rest));  // uppercase
  EXPECT_FALSE(Accepted("0" + rest));
  EXPECT_FALSE(Accepted("000" + rest));
  EXPECT_FALSE(Accepted("0000" + rest));
}

TEST(ParseTraceparentTest, UppercaseHexInvalid) {
  std::string upper_trace = "00-4BF92F3577B34DA6A3CE929D0E0E4736-" + std::string(kSpan) + "-01";
  std::string upper_span = "00-" + std::string(kTrace) + "-00F067AA0BA902B7-01";
  std::string upper_flags = "00-" + std::string(kTrace) + "-" + std::string(kSpan) + "-0A";
  EXPECT_FALSE(Accepted(upper_trace));
  EXPECT_FALSE(Accepted(upper_span));
  EXPECT_FALSE(Accepted(upper_flags));
}

TEST(ParseTraceparentTest, TraceIdChecks) {
  const std::string tail = "-" + std::string(kSpan) + "-01";
  EXPECT_FALSE(Accepted("00-" + std::string(32, '0') + tail));
  EXPECT_FALSE(Accepted("00-." + std::string(kTrace.substr(1)) + tail));
  EXPECT_FALSE(Accepted("00-" + std::string(kTrace.substr(1)) + tail));  // 31
  EXPECT_FALSE(Accepted("00-" + std::string(kTrace) + "0" + tail));      // 33
}

TEST(ParseTraceparentTest, SpanIdChecks) {
  const std::string head = "00-" + std::string(kTrace) + "-";
  EXPECT_FALSE(Accepted(head + std::string(16, '0') + "-01"));
  EXPECT_FALSE(Accepted(head + "." + std::string(kSpan.substr(1)) + "-01"));
  EXPECT_FALSE(Accepted(head + std::string(kSpan.substr(1)) + "-01"));
  EXPECT_FALSE(Accepted(head + std::string(kSpan) + "0-01"));
}

TEST(ParseTraceparentTest, FlagsChecks) {
  const std::string head = "00-" + std::string(kTrace) + "-" + std::string(kSpan) + "-";
  EXPECT_FALSE(Accepted(head + "0g"));
  EXPECT_FALSE(Accepted(head + ".0"));
  EXPECT_FALSE(Accepted(head + "0"));
  EXPECT_FALSE(Accepted(head + "010"));
  EXPECT_FALSE(Accepted(head + "-1"));
  EXPECT_TRUE(Accepted(head + "09"));
}

TEST(ParseTraceparentTest, DelimitersAndGarbage) {
  std::string no_dash = kValid;
  no_dash[35] = '_';
  EXPECT_FALSE(Accepted(no_dash));
  EXPECT_FALSE(Accepted(""));
  EXPECT_FALSE(Accepted("garbage"));
  EXPECT_FALSE(Accepted(std::string(55, '-')));
}

TEST(ParseTraceparentTest, SurroundingOwsTolerated) {
  EXPECT_TRUE(Accepted(" \t " + kValid + " \t "));
}

TEST(ParseTraceparentTest, DuplicatedHeaderInvalid) {
  std::string other = "00-" + std::string(32, '1') + "-" + std::string(16, '2') + "-00";
  EXPECT_FALSE(Accepted(kValid + "," + other));
  std::vector<std::pair<std::string, std::string>> headers = {{"traceparent", kValid},
                                                              {"TraceParent", other}};
  EXPECT_FALSE(
      TraceContextPropagator().Extract(HeaderVectorCarrier(headers)).span_context().IsValid());
  std::string cc = "cc" + kValid.substr(2);
  EXPECT_FALSE(Accepted(cc + "-x," + cc));
}

TEST(TraceContextPropagatorTest, ExtractReadsTracestate) {
  Context ctx = ExtractFrom(kValid, "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
  EXPECT_TRUE(ctx.span_context().IsRemote());
  EXPECT_EQ(ctx.span_context().trace_state().Get("congo"), "t61rcWkgMzE");
}

TEST(TraceContextPropagatorTest, InvalidTracestateIsDroppedButTraceparentKept) {
  Context ctx = ExtractFrom(kValid, "foo=1,FOO=2");
  EXPECT_TRUE(ctx.span_context().IsValid());
  EXPECT_TRUE(ctx.span_context().trace_state().empty());
}

TEST(TraceContextPropagatorTest, RepeatedTracestateKeyIsForwardedAsReceived) {
  Context ctx = ExtractFrom(kValid, "foo=1,bar=2,foo=3");
  EXPECT_EQ(ctx.span_context().trace_state().header(), "foo=1,bar=2,foo=3");
  MapCarrier out;
  TraceContextPropagator().Inject(ctx, out);  // traceparent unchanged: tracestate too (§3.4)
  EXPECT_EQ(out.Get("traceparent"), kValid);
  EXPECT_EQ(out.Get("tracestate"), "foo=1,bar=2,foo=3");
}

TEST(TraceContextPropagatorTest, Level2KeysAreExtracted) {
  Context ctx = ExtractFrom(kValid, "0vendor=1,t@x@y=2,sys@=3");
  EXPECT_EQ(ctx.span_context().trace_state().size(), 3u);
  EXPECT_EQ(ctx.span_context().trace_state().Get("t@x@y"), "2");
}

TEST(TraceContextPropagatorTest, InvalidTraceparentIgnoresTracestate) {
  trace::Baggage bag = trace::Baggage().Set("k", "v");
  Context base(SpanContext(), bag);
  MapCarrier c{{"traceparent", "00-xyz"}, {"tracestate", "foo=1"}};
  Context ctx = TraceContextPropagator().Extract(c, base);
  EXPECT_FALSE(ctx.span_context().IsValid());
  EXPECT_TRUE(ctx.span_context().trace_state().empty());
  EXPECT_EQ(ctx.baggage().Get("k"), "v");  // the rest of the context is untouched
}

TEST(TraceContextPropagatorTest, MissingHeaderLeavesContextUnchanged) {
  auto parent = *ParseTraceparent(kValid);
  Context base(parent);
  MapCarrier empty;
  EXPECT_EQ(TraceContextPropagator().Extract(empty, base).span_context(), parent);
}

TEST(TraceContextPropagatorTest, CombinedTracestateHeaders) {
  std::vector<std::pair<std::string, std::string>> headers = {{"traceparent", kValid},
                                                              {"tracestate", "foo=1"},
                                                              {"tracestate", ""},
                                                              {"Tracestate", "bar=2"}};
  Context ctx = TraceContextPropagator().Extract(HeaderVectorCarrier(headers));
  EXPECT_EQ(ctx.span_context().trace_state().header(), "foo=1,bar=2");

  headers.push_back({"tracestate", "foo=3"});  // a key repeated across headers is kept
  ctx = TraceContextPropagator().Extract(HeaderVectorCarrier(headers));
  EXPECT_TRUE(ctx.span_context().IsValid());
  EXPECT_EQ(ctx.span_context().trace_state().header(), "foo=1,bar=2,foo=3");
  EXPECT_EQ(ctx.span_context().trace_state().Get("foo"), "1");

  headers.push_back({"tracestate", "Bad=1"});  // one member that cannot be parsed: all goes
  ctx = TraceContextPropagator().Extract(HeaderVectorCarrier(headers));
  EXPECT_TRUE(ctx.span_context().IsValid());
  EXPECT_TRUE(ctx.span_context().trace_state().empty());
}

TEST(TraceContextPropagatorTest, TracestateMemberLimit) {
  std::string ts32, ts33;
  for (int i = 0; i < 33; ++i) {
    std::string m = "k" + std::to_string(i) + "=" + std::to_string(i);
    if (i < 32) ts32 += (i ? "," : "") + m;
    ts33 += (i ? "," : "") + m;
  }
  EXPECT_EQ(ExtractFrom(kValid, ts32).span_context().trace_state().size(), 32u);
  EXPECT_TRUE(ExtractFrom(kValid, ts33).span_context().trace_state().empty());
}

TEST(TraceContextPropagatorTest, InjectWritesVersion00Lowercase) {
  auto sc = ParseTraceparent("cc-" + std::string(kTrace) + "-" + std::string(kSpan) + "-01-x");
  MapCarrier out;
  TraceContextPropagator().Inject(Context(*sc), out);
  EXPECT_EQ(out.Get("traceparent"), kValid);
  EXPECT_EQ(out.Get("tracestate"), "");  // empty tracestate is not written
  EXPECT_EQ(out.values().count("tracestate"), 0u);
}

TEST(TraceContextPropagatorTest, InjectNothingForInvalidContext) {
  MapCarrier out;
  TraceContextPropagator().Inject(Context(), out);
  EXPECT_TRUE(out.values().empty());
}

TEST(TraceContextPropagatorTest, RoundTrip) {
  auto tid = trace::TraceId::FromHex("0af7651916cd43dd8448eb211c80319c");
  auto sid = trace::SpanId::FromHex("b7ad6b7169203331");
  SpanContext sc(*tid, *sid, trace::TraceFlags(0x03), /*is_remote=*/false,
                 trace::TraceState().Set("b", "2").Set("a", "1"));
  MapCarrier carrier;
  TraceContextPropagator p;
  p.Inject(Context(sc), carrier);
  EXPECT_EQ(carrier.Get("traceparent"), "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03");
  EXPECT_EQ(carrier.Get("tracestate"), "a=1,b=2");
  SpanContext back = p.Extract(carrier).span_context();
  EXPECT_EQ(back, SpanContext(*tid, *sid, trace::TraceFlags(0x03), true, sc.trace_state()));
}

TEST(TraceContextPropagatorTest, RandomFlagRoundTrips) {
  for (uint8_t flags : {0x00, 0x01, 0x02, 0x03}) {
    SpanContext sc(*trace::TraceId::FromHex(kTrace), *trace::SpanId::FromHex(kSpan),
                   trace::TraceFlags(flags), /*is_remote=*/false);
    MapCarrier carrier;
    TraceContextPropagator().Inject(Context(sc), carrier);
    const std::string want_tail = flags & trace::TraceFlags::kRandom
                                      ? (flags & 1 ? "-03" : "-02")
                                      : (flags & 1 ? "-01" : "-00");
    EXPECT_EQ(carrier.Get("traceparent").substr(52), want_tail);
    SpanContext back = TraceContextPropagator().Extract(carrier).span_context();
    EXPECT_EQ(back.trace_flags().value(), flags);
    EXPECT_EQ(back.IsRandom(), sc.IsRandom());
  }
}

// A service between two hops: extract, start a span under the incoming context, inject for the
// outgoing request. The random-trace-id flag goes on with the trace id, set or unset
// (§3.2.2.5.2); a trace this SDK starts has it set.
TEST(TraceContextPropagatorTest, RandomFlagFollowsTheTraceIdThroughASpan) {
  auto provider = trace::TracerProvider::Create({.resource = trace::Resource()});
  trace::Tracer tracer = provider->GetTracer("propagation-test");
  TraceContextPropagator w3c;
  struct Case {
    std::string in_flags, out_flags;
  } cases[] = {{"03", "03"}, {"01", "01"}, {"02", "02"}, {"00", "00"}, {"ff", "03"}};
  for (const Case& c : cases) {
    const std::string in = "00-" + std::string(kTrace) + "-" + std::string(kSpan) + "-" + c.in_flags;
    MapCarrier incoming{{"traceparent", in}, {"tracestate", "foo=1,foo=2"}};
    Context parent = w3c.Extract(incoming);
    trace::Span server = tracer.StartSpan("server", {.parent = parent});
    MapCarrier outgoing;
    w3c.Inject(Context(server.GetContext()), outgoing);
    const std::string out(outgoing.Get("traceparent"));
    EXPECT_EQ(out.substr(3, 32), kTrace) << in;
    EXPECT_NE(out.substr(36, 16), kSpan) << in;  // a new parent-id
    EXPECT_EQ(out.substr(53), c.out_flags) << in;
    EXPECT_EQ(outgoing.Get("tracestate"), "foo=1,foo=2") << in;
  }
  trace::Span root = tracer.StartSpan("root", {.root = true});
  MapCarrier outgoing;
  w3c.Inject(Context(root.GetContext()), outgoing);
  EXPECT_EQ(outgoing.Get("traceparent").substr(53), "03");
}

TEST(TraceContextPropagatorTest, Fields) {
  auto f = TraceContextPropagator().Fields();
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0], "traceparent");
  EXPECT_EQ(f[1], "tracestate");
}

}  // namespace
}  // namespace otlp::propagation
