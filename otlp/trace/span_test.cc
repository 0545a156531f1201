#include "otlp/trace/span.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <chrono>
#include <thread>
#include <vector>

#include "otlp/trace/in_memory_exporter.h"
#include "otlp/trace/internal/fast_clock.h"
#include "otlp/trace/processor.h"
#include "otlp/trace/provider.h"

namespace otlp::trace {
namespace {

struct Fixture : ::testing::Test {
  std::shared_ptr<InMemorySpanStore> store = std::make_shared<InMemorySpanStore>();
  std::shared_ptr<TracerProvider> provider;
  Tracer tracer;

  void Make(SpanLimits limits = {}, std::shared_ptr<Sampler> sampler = Sampler::AlwaysOn()) {
    provider = TracerProvider::Create(
        {.processor = std::make_unique<SimpleSpanProcessor>(
             std::make_unique<InMemorySpanExporter>(store)),
         .sampler = std::move(sampler),
         .resource = Resource(OwnedAttributes{}),
         .limits = limits});
    tracer = provider->GetTracer("test-scope", "1.2.3", "https://opentelemetry.io/schemas/1.24.0");
  }
  void SetUp() override { Make(); }
  RecordedSpan Only() {
    auto spans = store->Spans();
    EXPECT_EQ(spans.size(), 1u);
    return spans.empty() ? RecordedSpan{} : spans[0];
  }
};

using SpanTest = Fixture;

TEST_F(SpanTest, RecordsNameKindScopeAndTimes) {
  {
    Span s = tracer.StartSpan("op", {.kind = SpanKind::kClient});
    EXPECT_TRUE(s.IsRecording());
    EXPECT_TRUE(s.GetContext().IsValid());
    EXPECT_TRUE(s.GetContext().IsSampled());
  }  // ended by the destructor
  RecordedSpan r = Only();
  EXPECT_EQ(r.name, "op");
  EXPECT_EQ(r.kind, SpanKind::kClient);
  EXPECT_EQ(r.scope.name, "test-scope");
  EXPECT_EQ(r.scope.version, "1.2.3");
  EXPECT_EQ(r.scope.schema_url, "https://opentelemetry.io/schemas/1.24.0");
  EXPECT_GT(r.start_unix_nano, 1'600'000'000'000'000'000);
  EXPECT_GE(r.end_unix_nano, r.start_unix_nano);
  EXPECT_FALSE(r.parent_span_id.IsValid());
}

TEST_F(SpanTest, AttributesOfEveryTypeAreCopied) {
  std::string dynamic = "dyn-value";
  const bool bools[] = {true, false};
  const int64_t ints[] = {1, -2, 3};
  const double doubles[] = {1.5, -0.25};
  const std::string_view strs[] = {"a", "bc"};
  {
    Span s = tracer.StartSpan("op");
    s.SetAttribute("s", dynamic)
        .SetAttribute("b", true)
        .SetAttribute("i", 42)
        .SetAttribute("d", 2.5)
        .SetAttribute("ba", std::span<const bool>(bools))
        .SetAttribute("ia", std::span<const int64_t>(ints))
        .SetAttribute("da", std::span<const double>(doubles))
        .SetAttribute("sa", std::span<const std::string_view>(strs));
    dynamic.assign("overwritten!");
  }
  RecordedSpan r = Only();
  EXPECT_EQ(std::get<std::string>(*r.Attribute("s")), "dyn-value");
  EXPECT_EQ(std::get<bool>(*r.Attribute("b")), true);
  EXPECT_EQ(std::get<int64_t>(*r.Attribute("i")), 42);
  EXPECT_EQ(std::get<double>(*r.Attribute("d")), 2.5);
  EXPECT_EQ(std::get<std::vector<bool>>(*r.Attribute("ba")), (std::vector<bool>{true, false}));
  EXPECT_EQ(std::get<std::vector<int64_t>>(*r.Attribute("ia")), (std::vector<int64_t>{1, -2, 3}));
  EXPECT_EQ(std::get<std::vector<double>>(*r.Attribute("da")), (std::vector<double>{1.5, -0.25}));
  EXPECT_EQ(std::get<std::vector<std::string>>(*r.Attribute("sa")),
            (std::vector<std::string>{"a", "bc"}));
}

TEST_F(SpanTest, SettingAnExistingKeyReplacesIt) {
  tracer.StartSpan("op").SetAttribute("k", 1).SetAttribute("k", "two").End();
  RecordedSpan r = Only();
  EXPECT_EQ(r.attributes.size(), 1u);
  EXPECT_EQ(std::get<std::string>(*r.Attribute("k")), "two");
}

TEST_F(SpanTest, KeysOfEqualLengthAreToldApartByEveryByte) {
  // Lengths 1..30, each pair differing in one position (first, middle, last byte).
  Span s = tracer.StartSpan("op");
  size_t expected = 0;
  for (size_t len = 1; len <= 30; ++len) {
    for (size_t pos : {size_t{0}, len / 2, len - 1}) {
      std::string a(len, 'k'), b(len, 'k');
      b[pos] = 'X';
      s.SetAttribute(a, 1).SetAttribute(b, 2).SetAttribute(a, 3);
    }
    expected += len == 1 ? 2 : (len == 2 ? 3 : 4);  // "kk…k" plus the distinct variants
  }
  s.End();
  RecordedSpan r = Only();
  EXPECT_EQ(r.dropped_attributes_count, 0u);
  EXPECT_EQ(expected, 117u);
  EXPECT_EQ(r.attributes.size(), expected);
  EXPECT_EQ(std::get<int64_t>(*r.Attribute(std::string(12, 'k'))), 3);
  std::string mid(12, 'k');
  mid[6] = 'X';
  EXPECT_EQ(std::get<int64_t>(*r.Attribute(mid)), 2);
}

TEST_F(SpanTest, ReplacingWorksWhateverTheKeyLength) {
  // Lengths that share a bit of the key-length filter (3 and 67, 0 mod 64 and 64), values that
  // change size (the entry moves) and values that keep it (rewritten in place).
  const std::string k3 = "abc", k67(67, 'z'), k64(64, 'y');
  tracer.StartSpan("op")
      .SetAttribute(k3, 1)
      .SetAttribute(k67, "short")
      .SetAttribute(k64, true)
      .SetAttribute(k67, "a value long enough to need a bigger entry")
      .SetAttribute(k3, 2)
      .SetAttribute(k64, false)
      .End();
  RecordedSpan r = Only();
  EXPECT_EQ(r.attributes.size(), 3u);
  EXPECT_EQ(std::get<int64_t>(*r.Attribute(k3)), 2);
  EXPECT_EQ(std::get<std::string>(*r.Attribute(k67)), "a value long enough to need a bigger entry");
  EXPECT_EQ(std::get<bool>(*r.Attribute(k64)), false);
}

TEST_F(SpanTest, EmptyKeyIsIgnored) {
  tracer.StartSpan("op").SetAttribute("", 1).End();
  EXPECT_EQ(Only().attributes.size(), 0u);
}

TEST_F(SpanTest, AttributeCountLimitDropsAndCounts) {
  Make(SpanLimits{.attribute_count = 2});
  tracer.StartSpan("op").SetAttribute("a", 1).SetAttribute("b", 2).SetAttribute("c", 3)
      .SetAttribute("a", 10).End();
  RecordedSpan r = Only();
  EXPECT_EQ(r.attributes.size(), 2u);
  EXPECT_EQ(r.dropped_attributes_count, 1u);
  EXPECT_EQ(std::get<int64_t>(*r.Attribute("a")), 10);  // replacing is not a new attribute
}

TEST_F(SpanTest, ValueLengthLimitTruncatesByCharacters) {
  Make(SpanLimits{.attribute_value_length = 3});
  const std::string_view arr[] = {"abcdef", "xy"};
  tracer.StartSpan("op")
      .SetAttribute("ascii", "abcdef")
      .SetAttribute("utf8", "h\xC3\xA9llo")  // "héllo": é is two bytes
      .SetAttribute("arr", std::span<const std::string_view>(arr))
      .SetAttribute("int", 123456)
      .End();
  RecordedSpan r = Only();
  EXPECT_EQ(std::get<std::string>(*r.Attribute("ascii")), "abc");
  EXPECT_EQ(std::get<std::string>(*r.Attribute("utf8")), "h\xC3\xA9l");
  EXPECT_EQ(std::get<std::vector<std::string>>(*r.Attribute("arr")),
            (std::vector<std::string>{"abc", "xy"}));
  EXPECT_EQ(std::get<int64_t>(*r.Attribute("int")), 123456);
}

TEST_F(SpanTest, EventsWithAttributesAndLimits) {
  Make(SpanLimits{.event_count = 2, .event_attribute_count = 1});
  auto t = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  tracer.StartSpan("op")
      .AddEvent("first", {{"x", 1}, {"y", 2}}, t)
      .AddEvent("second")
      .AddEvent("third")
      .End();
  RecordedSpan r = Only();
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[0].name, "first");
  EXPECT_EQ(r.events[0].time_unix_nano, 1'700'000'000'000'000'000);
  EXPECT_EQ(r.events[0].attributes.size(), 1u);
  EXPECT_EQ(r.events[0].dropped_attributes_count, 1u);
  EXPECT_EQ(r.events[1].name, "second");
  EXPECT_GT(r.events[1].time_unix_nano, 0);
  EXPECT_EQ(r.dropped_events_count, 1u);
}

TEST_F(SpanTest, RecordExceptionAddsTheConventionalEvent) {
  tracer.StartSpan("op").RecordException(std::runtime_error("boom")).End();
  RecordedSpan r = Only();
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].name, "exception");
  EXPECT_EQ(std::get<std::string>(*r.events[0].attributes.Find("exception.type")),
            "std::runtime_error");
  EXPECT_EQ(std::get<std::string>(*r.events[0].attributes.Find("exception.message")), "boom");
}

TEST_F(SpanTest, LinksAtStartAndLater) {
  Make(SpanLimits{.link_count = 2, .link_attribute_count = 1});
  SpanContext a(TraceId::FromHex("0af7651916cd43dd8448eb211c80319c").value(),
                SpanId::FromHex("b7ad6b7169203331").value(), TraceFlags(1), true,
                TraceState::FromHeader("k=v"));
  SpanContext b(TraceId::FromHex("1af7651916cd43dd8448eb211c80319c").value(),
                SpanId::FromHex("c7ad6b7169203331").value(), TraceFlags(0), false);
  const SpanContext at_start[] = {a};
  tracer.StartSpan("op", {.links = at_start})
      .AddLink(b, {{"p", 1}, {"q", 2}})
      .AddLink(a)
      .End();
  RecordedSpan r = Only();
  ASSERT_EQ(r.links.size(), 2u);
  EXPECT_EQ(r.links[0].context, a);
  EXPECT_EQ(r.links[1].context.span_id(), b.span_id());
  EXPECT_EQ(r.links[1].attributes.size(), 1u);
  EXPECT_EQ(r.links[1].dropped_attributes_count, 1u);
  EXPECT_EQ(r.dropped_links_count, 1u);
}

TEST_F(SpanTest, StatusRules) {
  tracer.StartSpan("a").SetStatus(SpanStatusCode::kError, "bad").End();
  tracer.StartSpan("b").SetStatus(SpanStatusCode::kOk, "ignored").SetStatus(
      SpanStatusCode::kError, "too late").End();
  tracer.StartSpan("c").SetStatus(SpanStatusCode::kError, "x").SetStatus(SpanStatusCode::kUnset)
      .End();
  auto spans = store->Spans();
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(spans[0].status_code, SpanStatusCode::kError);
  EXPECT_EQ(spans[0].status_message, "bad");
  EXPECT_EQ(spans[1].status_code, SpanStatusCode::kOk);
  EXPECT_EQ(spans[1].status_message, "");
  EXPECT_EQ(spans[2].status_code, SpanStatusCode::kError);
}

TEST_F(SpanTest, UpdateNameAndExplicitTimes) {
  auto start = std::chrono::system_clock::time_point(std::chrono::seconds(1'000));
  auto end = start + std::chrono::milliseconds(5);
  Span s = tracer.StartSpan("old", {.start_time = start});
  s.UpdateName("new");
  s.End(end);
  s.End();  // second End is ignored
  s.SetAttribute("after", 1);
  RecordedSpan r = Only();
  EXPECT_EQ(r.name, "new");
  EXPECT_EQ(r.start_unix_nano, 1'000'000'000'000);
  EXPECT_EQ(r.end_unix_nano, 1'000'005'000'000);
  EXPECT_EQ(r.attributes.size(), 0u);
  EXPECT_FALSE(s.IsRecording());
  EXPECT_TRUE(s.GetContext().IsValid());  // the context outlives End
}

TEST_F(SpanTest, EndBeforeStartIsClampedToStart) {
  auto start = std::chrono::system_clock::time_point(std::chrono::seconds(2'000));
  tracer.StartSpan("op", {.start_time = start}).End(start - std::chrono::seconds(1));
  RecordedSpan r = Only();
  EXPECT_EQ(r.end_unix_nano, r.start_unix_nano);
}

TEST_F(SpanTest, ChildUsesExplicitParentOrCurrentContext) {
  Span parent = tracer.StartSpan("parent");
  Span child = tracer.StartSpan("child", {.parent = parent.GetContext()});
  EXPECT_EQ(child.GetContext().trace_id(), parent.GetContext().trace_id());
  Span implicit_child;
  {
    Scope scope(parent);
    implicit_child = tracer.StartSpan("implicit");
    Span root = tracer.StartSpan("root", {.root = true});
    EXPECT_NE(root.GetContext().trace_id(), parent.GetContext().trace_id());
  }
  EXPECT_EQ(implicit_child.GetContext().trace_id(), parent.GetContext().trace_id());
  child.End();
  implicit_child.End();
  parent.End();
  auto spans = store->Spans();
  ASSERT_EQ(spans.size(), 4u);
  for (const auto& s : spans) {
    if (s.name == "child" || s.name == "implicit") {
      EXPECT_EQ(s.parent_span_id, parent.GetContext().span_id());
      EXPECT_FALSE(s.parent_is_remote);
    }
  }
}

TEST_F(SpanTest, RemoteParentKeepsTraceStateAndMarksRemote) {
  SpanContext remote(TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e4736").value(),
                     SpanId::FromHex("00f067aa0ba902b7").value(), TraceFlags(1), true,
                     TraceState::FromHeader("vendor=value"));
  tracer.StartSpan("server", {.kind = SpanKind::kServer, .parent = remote}).End();
  RecordedSpan r = Only();
  EXPECT_EQ(r.context.trace_id(), remote.trace_id());
  EXPECT_EQ(r.parent_span_id, remote.span_id());
  EXPECT_TRUE(r.parent_is_remote);
  EXPECT_EQ(r.context.trace_state().header(), "vendor=value");
}

TEST_F(SpanTest, CustomSamplerSetsTheTraceState) {
  struct Stamping : Sampler {
    SamplingResult ShouldSample(const SpanContext*, const TraceId&, std::string_view name,
                                SpanKind, std::span<const KeyValue>) const noexcept override {
      return {name == "drop" ? SamplingDecision::kDrop : SamplingDecision::kRecordAndSample,
              TraceState::FromHeader("sampler=stamped")};
    }
  };
  Make({}, Sampler::ParentBased(std::make_shared<Stamping>()));  // custom root delegate
  Span s = tracer.StartSpan("keep");
  EXPECT_EQ(s.GetContext().trace_state().header(), "sampler=stamped");
  s.End();
  EXPECT_FALSE(tracer.StartSpan("drop").IsRecording());
  EXPECT_EQ(Only().context.trace_state().header(), "sampler=stamped");
}

TEST_F(SpanTest, UnsampledSpanIsNotRecordedButHasContext) {
  Make({}, Sampler::AlwaysOff());
  Span s = tracer.StartSpan("op");
  EXPECT_FALSE(s.IsRecording());
  EXPECT_TRUE(s.GetContext().IsValid());
  EXPECT_FALSE(s.GetContext().IsSampled());
  s.SetAttribute("a", 1).AddEvent("e").End();
  EXPECT_EQ(store->size(), 0u);
}

TEST_F(SpanTest, SpanMovedToAnotherThreadEndsThere) {
  Span s = tracer.StartSpan("moved");
  std::thread t([s = std::move(s)]() mutable { s.SetAttribute("thread", "other").End(); });
  t.join();
  RecordedSpan r = Only();
  EXPECT_EQ(std::get<std::string>(*r.Attribute("thread")), "other");
}

TEST_F(SpanTest, DefaultSpanIsInertNoop) {
  Span s;
  EXPECT_FALSE(s.IsRecording());
  EXPECT_FALSE(s.GetContext().IsValid());
  s.SetAttribute("a", 1).AddEvent("x").SetStatus(SpanStatusCode::kError).UpdateName("n").End();
  EXPECT_EQ(store->size(), 0u);
}

TEST_F(SpanTest, ManySpansReuseRecordsWithoutLeakingData) {
  for (int i = 0; i < 1000; ++i) {
    Span s = tracer.StartSpan("s" + std::to_string(i));
    if (i % 2 == 0) s.SetAttribute("even", i).AddEvent("e");
  }
  auto spans = store->Spans();
  ASSERT_EQ(spans.size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(spans[i].name, "s" + std::to_string(i));
    EXPECT_EQ(spans[i].attributes.size(), i % 2 == 0 ? 1u : 0u);
    EXPECT_EQ(spans[i].events.size(), i % 2 == 0 ? 1u : 0u);
  }
}

TEST_F(SpanTest, LargeValuesGrowTheRecordBuffers) {
  std::string big(10000, 'x');
  tracer.StartSpan("op").SetAttribute("big", big).End();
  EXPECT_EQ(std::get<std::string>(*Only().Attribute("big")), big);
}

// While tracing is suppressed, every way of starting a span gives a non-recording span that
// carries its parent's context (ids, flags, tracestate), and nothing reaches the exporter.
// Prepares this thread for the lean start (tracer.cc), so a test covers it where the host allows:
// records in the thread's pool, and the fast clock calibrated (10 ms after its first use, where
// the kernel uses the TSC; elsewhere every start takes the general path).
void PrepareLeanStart() {
  auto spare = TracerProvider::Create({.sampler = Sampler::AlwaysOn(), .resource = Resource()});
  Tracer t = spare->GetTracer("warm-up");
  { Span a = t.StartSpan("a"), b = t.StartSpan("b"), c = t.StartSpan("c"), d = t.StartSpan("d"); }
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  for (int64_t now; !internal::TryNowUnixNanos(now) && std::chrono::steady_clock::now() < until;) {
    internal::NowUnixNanos();
  }
}

TEST_F(SpanTest, SuppressedTracingRecordsNothingAndKeepsTheParentsContext) {
  PrepareLeanStart();
  Span parent = tracer.StartSpan("parent");
  const SpanContext pc = parent.GetContext();
  SpanContext remote(TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e4736").value(),
                     SpanId::FromHex("00f067aa0ba902b7").value(), TraceFlags(1), true,
                     TraceState::FromHeader("vendor=value"));
  {
    Scope scope(parent);
    SuppressTracingScope suppress;
    Span child = tracer.StartSpan("child");  // the lean start
    EXPECT_FALSE(child.IsRecording());
    EXPECT_EQ(child.GetContext().trace_id(), pc.trace_id());
    EXPECT_EQ(child.GetContext().span_id(), pc.span_id());
    EXPECT_TRUE(child.GetContext().IsSampled());
    Span with_attributes = tracer.StartSpan("attrs", {{"k", 1}});  // the general start
    EXPECT_FALSE(with_attributes.IsRecording());
    EXPECT_EQ(with_attributes.GetContext(), pc);
    Span explicit_parent = tracer.StartSpan("explicit", {.parent = remote});
    EXPECT_FALSE(explicit_parent.IsRecording());
    EXPECT_EQ(explicit_parent.GetContext(), remote);
    EXPECT_FALSE(tracer.StartSpan("root", {.root = true}).GetContext().IsValid());
    {
      Scope inner(child);  // a child context of the suppressed one stays suppressed
      Span grandchild = tracer.StartSpan("grandchild");
      EXPECT_FALSE(grandchild.IsRecording());
      EXPECT_EQ(grandchild.GetContext().span_id(), pc.span_id());
    }
    child.SetAttribute("ignored", true).End();
  }
  // A suppressed context entered with a Scope does the same.
  {
    Scope quiet(Context(pc).WithTracingSuppressed());
    Span s = tracer.StartSpan("quiet");
    EXPECT_FALSE(s.IsRecording());
    EXPECT_EQ(s.GetContext(), pc);
  }
  Span after = tracer.StartSpan("after", {.parent = pc});
  EXPECT_TRUE(after.IsRecording());
  after.End();
  parent.End();
  auto spans = store->Spans();
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].name, "after");
  EXPECT_EQ(spans[1].name, "parent");
}

// A SimpleSpanProcessor exports on the thread that ends the span, with tracing suppressed: a
// span the exporter starts is not recorded (else it would come back to the processor, which
// holds its lock).
TEST(SimpleSpanProcessorTest, ExporterRunsWithTracingSuppressed) {
  struct State {
    Tracer tracer;
    std::vector<Span> started;  // ended by the test, outside the export
    int exports = 0;
    int suppressed = 0;
  };
  class TracingExporter final : public SpanExporter {
   public:
    explicit TracingExporter(State* s) : s_(s) {}
    ExportResult Export(std::span<const SpanData* const>) noexcept override {
      ++s_->exports;
      if (IsTracingSuppressed()) ++s_->suppressed;
      s_->started.push_back(s_->tracer.StartSpan("inside-export"));
      return ExportResult::kSuccess;
    }

   private:
    State* s_;
  };
  State state;
  auto provider = TracerProvider::Create(
      {.processor = std::make_unique<SimpleSpanProcessor>(std::make_unique<TracingExporter>(&state)),
       .sampler = Sampler::AlwaysOn(),
       .resource = Resource()});
  state.tracer = provider->GetTracer("t");
  state.tracer.StartSpan("app").End();
  state.tracer.StartSpan("app").End();
  EXPECT_EQ(state.exports, 2);
  EXPECT_EQ(state.suppressed, 2);
  ASSERT_EQ(state.started.size(), 2u);
  for (Span& s : state.started) EXPECT_FALSE(s.IsRecording());
  state.started.clear();  // ends them: nothing is exported
  EXPECT_EQ(state.exports, 2);
  EXPECT_FALSE(IsTracingSuppressed());
}

}  // namespace
}  // namespace otlp::trace
