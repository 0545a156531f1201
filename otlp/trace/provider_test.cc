#include "otlp/trace/provider.h"

#include <gtest/gtest.h>

#include "otlp/core/config.h"
#include "otlp/trace/in_memory_exporter.h"

namespace otlp::trace {
namespace {

std::shared_ptr<TracerProvider> MakeProvider(std::shared_ptr<InMemorySpanStore> store) {
  return TracerProvider::Create(
      {.processor = std::make_unique<SimpleSpanProcessor>(
           std::make_unique<InMemorySpanExporter>(std::move(store))),
       .sampler = Sampler::AlwaysOn(),
       .resource = Resource()});
}

TEST(ProviderTest, GlobalTracerFollowsTheGlobalProvider) {
  // Taken before any provider is configured, as libraries do at static-init time.
  Tracer early = GetTracer("early-lib", "0.1");
  EXPECT_FALSE(early.Enabled());
  Span before = early.StartSpan("before");
  EXPECT_FALSE(before.IsRecording());

  auto store = std::make_shared<InMemorySpanStore>();
  SetTracerProvider(MakeProvider(store));
  EXPECT_TRUE(early.Enabled());
  early.StartSpan("after").End();
  ASSERT_EQ(store->size(), 1u);
  EXPECT_EQ(store->Spans()[0].scope.name, "early-lib");
  EXPECT_EQ(store->Spans()[0].scope.version, "0.1");

  auto store2 = std::make_shared<InMemorySpanStore>();
  SetTracerProvider(MakeProvider(store2));
  early.StartSpan("moved").End();
  EXPECT_EQ(store->size(), 1u);
  EXPECT_EQ(store2->size(), 1u);
  SetTracerProvider(nullptr);  // back to no-op
  EXPECT_FALSE(early.Enabled());
  EXPECT_FALSE(GetTracerProvider()->enabled());
}

TEST(ProviderTest, SameScopeSameTracer) {
  auto store = std::make_shared<InMemorySpanStore>();
  auto p = MakeProvider(store);
  p->GetTracer("a", "1").StartSpan("x").End();
  p->GetTracer("a", "1").StartSpan("y").End();
  p->GetTracer("a", "2").StartSpan("z").End();
  auto spans = store->Spans();
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(spans[0].scope.version, "1");
  EXPECT_EQ(spans[2].scope.version, "2");
}

TEST(ProviderTest, ShutdownStopsRecording) {
  auto store = std::make_shared<InMemorySpanStore>();
  auto p = MakeProvider(store);
  Tracer t = p->GetTracer("t");
  EXPECT_TRUE(p->Shutdown());
  EXPECT_TRUE(p->Shutdown());  // idempotent
  EXPECT_FALSE(t.StartSpan("x").IsRecording());
  EXPECT_FALSE(p->enabled());
}

TEST(ProviderTest, DisabledProviderPropagatesTheParent) {
  auto p = TracerProvider::Noop();
  Tracer t = p->GetTracer("t");
  SpanContext parent(TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e4736").value(),
                     SpanId::FromHex("00f067aa0ba902b7").value(), TraceFlags(1), true);
  Span s = t.StartSpan("x", {.parent = parent});
  EXPECT_FALSE(s.IsRecording());
  EXPECT_EQ(s.GetContext(), parent);
  Scope scope{Context(parent)};
  EXPECT_EQ(t.StartSpan("y").GetContext(), parent);
  EXPECT_FALSE(t.StartSpan("z", {.root = true}).GetContext().IsValid());
}

TEST(ProviderTest, LimitsAndSamplerFromEnvironment) {
  config::Reader env({{"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "3"},
                      {"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "10"},
                      {"OTEL_SPAN_EVENT_COUNT_LIMIT", "4"},
                      {"OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", "-5"},
                      {"OTEL_TRACES_SAMPLER", "always_off"}});
  auto p = TracerProvider::Create({.resource = Resource()}, &env);
  EXPECT_EQ(p->limits().attribute_count, 3u);
  EXPECT_EQ(p->limits().attribute_value_length, 10u);  // generic fallback
  EXPECT_EQ(p->limits().event_count, 4u);
  EXPECT_EQ(p->limits().link_attribute_count, 128u);   // negative: warned, default kept
  EXPECT_FALSE(env.warnings().empty());
  EXPECT_EQ(p->sampler().Description(), "AlwaysOffSampler");
}

TEST(ProviderTest, SpansWithoutProcessorAreRecordedThenDiscarded) {
  auto p = TracerProvider::Create({.sampler = Sampler::AlwaysOn(), .resource = Resource()});
  Span s = p->GetTracer("t").StartSpan("x");
  EXPECT_TRUE(s.IsRecording());
  s.End();
  EXPECT_FALSE(s.IsRecording());
}

}  // namespace
}  // namespace otlp::trace

namespace otlp::trace {
namespace {

// The provider decides AlwaysOn and the default ParentBased(AlwaysOn) without asking the
// sampler; every shape of sampler must still decide exactly as its ShouldSample does.
TEST(ProviderTest, StartSpanDecidesAsTheSamplerDoes) {
  const TraceId id = TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e4736").value();
  const SpanId sid = SpanId::FromHex("00f067aa0ba902b7").value();
  const SpanContext parents[] = {
      SpanContext(id, sid, TraceFlags(1), true), SpanContext(id, sid, TraceFlags(0), true),
      SpanContext(id, sid, TraceFlags(1), false), SpanContext(id, sid, TraceFlags(0), false)};
  const std::shared_ptr<Sampler> samplers[] = {
      Sampler::AlwaysOn(),
      Sampler::AlwaysOff(),
      Sampler::ParentBased(Sampler::AlwaysOn()),
      Sampler::ParentBased(Sampler::AlwaysOff()),
      Sampler::ParentBased(Sampler::AlwaysOn(), Sampler::AlwaysOff()),
      Sampler::ParentBased(Sampler::AlwaysOn(), nullptr, nullptr, nullptr, Sampler::AlwaysOn()),
      Sampler::TraceIdRatio(0.5)};
  EXPECT_TRUE(samplers[2]->IsDefaultParentBased());
  EXPECT_FALSE(samplers[3]->IsDefaultParentBased());
  EXPECT_FALSE(samplers[4]->IsDefaultParentBased());
  EXPECT_FALSE(samplers[5]->IsDefaultParentBased());
  for (const auto& sampler : samplers) {
    auto provider = TracerProvider::Create({.sampler = sampler, .resource = Resource()});
    Tracer tracer = provider->GetTracer("t");
    for (const SpanContext& parent : parents) {
      Span s = tracer.StartSpan("child", {.parent = parent});
      const bool want = sampler->ShouldSample(&parent, id, "child", SpanKind::kInternal, {})
                            .decision == SamplingDecision::kRecordAndSample;
      EXPECT_EQ(s.IsRecording(), want) << sampler->Description() << " parent flags "
                                       << int(parent.trace_flags().value()) << " remote "
                                       << parent.IsRemote();
      EXPECT_EQ(s.GetContext().IsSampled(), want);
    }
    Span root = tracer.StartSpan("root", {.root = true});
    const bool want_root =
        sampler->ShouldSample(nullptr, root.GetContext().trace_id(), "root", SpanKind::kInternal,
                              {})
            .decision == SamplingDecision::kRecordAndSample;
    EXPECT_EQ(root.IsRecording(), want_root) << sampler->Description();
  }
}

}  // namespace
}  // namespace otlp::trace
