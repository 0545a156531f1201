// The W3C trace flags a started span gets (Trace Context Level 2, §3.2.2.5): sampled from the
// sampler's decision; random-trace-id set on every trace the SDK starts (its trace ids are
// random) and inherited from the parent for the parent's trace id, whatever the sampler and
// whichever start path (the common one, with attributes, with a custom sampler) is taken.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "otlp/trace/in_memory_exporter.h"
#include "otlp/trace/processor.h"
#include "otlp/trace/provider.h"
#include "otlp/trace/span_data.h"

namespace otlp::trace {
namespace {

const TraceId kTrace = TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e4736").value();
const SpanId kSpan = SpanId::FromHex("00f067aa0ba902b7").value();

// A custom sampler: every span goes through the general start path.
struct Custom : Sampler {
  SamplingResult ShouldSample(const SpanContext* parent, const TraceId&, std::string_view,
                              SpanKind, std::span<const KeyValue>) const noexcept override {
    const bool sample = parent == nullptr || parent->IsSampled();
    return {sample ? SamplingDecision::kRecordAndSample : SamplingDecision::kRecordOnly, {}};
  }
};

std::vector<std::shared_ptr<Sampler>> Samplers() {
  return {Sampler::AlwaysOn(),
          Sampler::AlwaysOff(),
          Sampler::ParentBased(Sampler::AlwaysOn()),
          Sampler::ParentBased(Sampler::AlwaysOff(), nullptr, nullptr, Sampler::AlwaysOff()),
          Sampler::TraceIdRatio(0.5),
          std::make_shared<Custom>()};
}

struct Started {
  SpanContext context;
  bool recording;
};

// Starts one span under `parent` (null: a root) by each start path.
std::vector<Started> StartAll(Tracer& tracer, const SpanContext* parent) {
  std::vector<Started> out;
  StartOptions options{.root = parent == nullptr};
  if (parent != nullptr) options.parent = *parent;
  Span plain = tracer.StartSpan("plain", options);
  Span with_attributes = tracer.StartSpan("attrs", {{"k", 1}}, options);
  out.push_back({plain.GetContext(), plain.IsRecording()});
  out.push_back({with_attributes.GetContext(), with_attributes.IsRecording()});
  return out;
}

TEST(TraceFlagsTest, NewTracesAreRandomWhateverTheSampler) {
  for (const auto& sampler : Samplers()) {
    auto provider = TracerProvider::Create({.sampler = sampler, .resource = Resource()});
    Tracer tracer = provider->GetTracer("t");
    for (const Started& s : StartAll(tracer, nullptr)) {
      EXPECT_TRUE(s.context.IsValid());
      EXPECT_TRUE(s.context.IsRandom()) << sampler->Description();
      EXPECT_EQ(s.context.IsSampled(), s.recording) << sampler->Description();
      // No other bit is set.
      EXPECT_EQ(s.context.trace_flags().value() & ~(TraceFlags::kSampled | TraceFlags::kRandom),
                0);
    }
  }
}

TEST(TraceFlagsTest, ChildrenInheritTheRandomFlagOfTheirTraceId) {
  const SpanContext parents[] = {
      SpanContext(kTrace, kSpan, TraceFlags(0x03), true),  // remote, sampled, random
      SpanContext(kTrace, kSpan, TraceFlags(0x01), true),  // remote, sampled, not random
      SpanContext(kTrace, kSpan, TraceFlags(0x02), true),  // remote, unsampled, random
      SpanContext(kTrace, kSpan, TraceFlags(0x00), true),
      SpanContext(kTrace, kSpan, TraceFlags(0xff), true),  // unknown bits: not inherited
      SpanContext(kTrace, kSpan, TraceFlags(0xfd), true),
      SpanContext(kTrace, kSpan, TraceFlags(0x03), false),  // local
      SpanContext(kTrace, kSpan, TraceFlags(0x01), false),
      SpanContext(kTrace, kSpan, TraceFlags(0x02), false),
  };
  for (const auto& sampler : Samplers()) {
    auto provider = TracerProvider::Create({.sampler = sampler, .resource = Resource()});
    Tracer tracer = provider->GetTracer("t");
    for (const SpanContext& parent : parents) {
      for (const Started& s : StartAll(tracer, &parent)) {
        EXPECT_EQ(s.context.trace_id(), kTrace);
        EXPECT_EQ(s.context.IsRandom(), parent.IsRandom())
            << sampler->Description() << " parent flags " << int(parent.trace_flags().value());
        EXPECT_EQ(s.context.trace_flags().value() & ~(TraceFlags::kSampled | TraceFlags::kRandom),
                  0);
      }
    }
  }
}

TEST(TraceFlagsTest, ALocalTreeKeepsTheFlagAndCarriesItToTheExporter) {
  auto store = std::make_shared<InMemorySpanStore>();
  auto provider = TracerProvider::Create(
      {.processor = std::make_unique<SimpleSpanProcessor>(
           std::make_unique<InMemorySpanExporter>(store)),
       .resource = Resource()});
  Tracer tracer = provider->GetTracer("t");
  const SpanContext not_random(kTrace, kSpan, TraceFlags(TraceFlags::kSampled), true);
  {
    Span root = tracer.StartSpan("root");
    Span child = tracer.StartSpan("child", {.parent = root.GetContext()});
    Scope scope(child);
    Span grandchild = tracer.StartSpan("grandchild");
    EXPECT_EQ(grandchild.GetContext().trace_flags().value(), 0x03);
    Span remote_child = tracer.StartSpan("remote-child", {.parent = not_random});
    EXPECT_EQ(remote_child.GetContext().trace_flags().value(), 0x01);
  }
  auto spans = store->Spans();
  ASSERT_EQ(spans.size(), 4u);
  for (const RecordedSpan& s : spans) {
    const uint8_t want = s.name == "remote-child" ? 0x01 : 0x03;
    EXPECT_EQ(s.context.trace_flags().value(), want) << s.name;
  }
}

// OTLP Span.flags carries the W3C flags in its low byte, so the random bit reaches the wire.
TEST(TraceFlagsTest, OtlpFlagsCarryTheRandomBit) {
  SpanData d;
  d.context = SpanContext(kTrace, kSpan, TraceFlags(0x03), false);
  EXPECT_EQ(d.OtlpFlags(), 0x103u);
  d.parent_is_remote = true;
  EXPECT_EQ(d.OtlpFlags(), 0x303u);
  d.context = SpanContext(kTrace, kSpan, TraceFlags(0x02), false);
  d.parent_is_remote = false;
  EXPECT_EQ(d.OtlpFlags(), 0x102u);
  EXPECT_EQ(SpanData::OtlpLinkFlags(SpanContext(kTrace, kSpan, TraceFlags(0x03), true)), 0x303u);
}

TEST(TraceFlagsTest, ADisabledProviderPassesTheParentFlagsOn) {
  Tracer tracer = TracerProvider::Noop()->GetTracer("t");
  const SpanContext parent(kTrace, kSpan, TraceFlags(0x02), true);
  Span s = tracer.StartSpan("op", {.parent = parent});
  EXPECT_EQ(s.GetContext(), parent);
}

}  // namespace
}  // namespace otlp::trace
