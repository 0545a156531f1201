#include "otlp/trace/sampler.h"

#include <gtest/gtest.h>
#include "tests/support/status_matchers.h"

#include "otlp/core/config.h"
#include "otlp/trace/internal/id_generator.h"

namespace otlp::trace {
namespace {

SamplingDecision D(const Sampler& s, const SpanContext* parent, const TraceId& id) {
  return s.Decide(parent, id, "n", SpanKind::kInternal, {}).decision;
}

TraceId IdWithLow(uint64_t low) {
  TraceId id;
  auto& b = id.mutable_bytes();
  b[0] = 1;
  for (int i = 0; i < 8; ++i) b[15 - i] = static_cast<uint8_t>(low >> (8 * i));
  return id;
}

TEST(SamplerTest, AlwaysOnAndOff) {
  TraceId id = internal::NewTraceId();
  EXPECT_EQ(D(*Sampler::AlwaysOn(), nullptr, id), SamplingDecision::kRecordAndSample);
  EXPECT_EQ(D(*Sampler::AlwaysOff(), nullptr, id), SamplingDecision::kDrop);
  EXPECT_EQ(Sampler::AlwaysOn()->Description(), "AlwaysOnSampler");
}

TEST(SamplerTest, RatioUsesTheLowBitsOfTheTraceId) {
  auto half = Sampler::TraceIdRatio(0.5);
  EXPECT_EQ(D(*half, nullptr, IdWithLow(0)), SamplingDecision::kRecordAndSample);
  EXPECT_EQ(D(*half, nullptr, IdWithLow(0x7FFFFFFFFFFFFFFEull)), SamplingDecision::kRecordAndSample);
  EXPECT_EQ(D(*half, nullptr, IdWithLow(0x8000000000000000ull)), SamplingDecision::kDrop);
  EXPECT_EQ(D(*half, nullptr, IdWithLow(~0ull)), SamplingDecision::kDrop);
  EXPECT_EQ(D(*Sampler::TraceIdRatio(0), nullptr, IdWithLow(0)), SamplingDecision::kDrop);
  EXPECT_EQ(D(*Sampler::TraceIdRatio(1), nullptr, IdWithLow(~0ull)),
            SamplingDecision::kRecordAndSample);
  EXPECT_EQ(half->Description(), "TraceIdRatioBased{0.500000}");
}

TEST(SamplerTest, RatioIsRoughlyProportional) {
  auto s = Sampler::TraceIdRatio(0.25);
  int sampled = 0;
  for (int i = 0; i < 20000; ++i)
    sampled += D(*s, nullptr, internal::NewTraceId()) == SamplingDecision::kRecordAndSample;
  EXPECT_GT(sampled, 4000);
  EXPECT_LT(sampled, 6000);
}

TEST(SamplerTest, ParentBasedFollowsTheParent) {
  auto pb = Sampler::ParentBased(Sampler::AlwaysOff());
  TraceId id = internal::NewTraceId();
  SpanId sid = internal::NewSpanId();
  SpanContext remote_sampled(id, sid, TraceFlags(1), true);
  SpanContext remote_unsampled(id, sid, TraceFlags(0), true);
  SpanContext local_sampled(id, sid, TraceFlags(1), false);
  SpanContext local_unsampled(id, sid, TraceFlags(0), false);
  EXPECT_EQ(D(*pb, nullptr, id), SamplingDecision::kDrop);  // root → AlwaysOff
  EXPECT_EQ(D(*pb, &remote_sampled, id), SamplingDecision::kRecordAndSample);
  EXPECT_EQ(D(*pb, &remote_unsampled, id), SamplingDecision::kDrop);
  EXPECT_EQ(D(*pb, &local_sampled, id), SamplingDecision::kRecordAndSample);
  EXPECT_EQ(D(*pb, &local_unsampled, id), SamplingDecision::kDrop);

  auto custom = Sampler::ParentBased(Sampler::AlwaysOn(), Sampler::AlwaysOff(),
                                     Sampler::AlwaysOn(), Sampler::AlwaysOff(),
                                     Sampler::AlwaysOn());
  EXPECT_EQ(D(*custom, &remote_sampled, id), SamplingDecision::kDrop);
  EXPECT_EQ(D(*custom, &remote_unsampled, id), SamplingDecision::kRecordAndSample);
  EXPECT_EQ(D(*custom, &local_sampled, id), SamplingDecision::kDrop);
  EXPECT_EQ(D(*custom, &local_unsampled, id), SamplingDecision::kRecordAndSample);
  EXPECT_NE(pb->Description().find("ParentBased{root:AlwaysOffSampler"), std::string::npos);
}

TEST(SamplerTest, CustomSamplerIsCalled) {
  struct ByName : Sampler {
    SamplingResult ShouldSample(const SpanContext*, const TraceId&, std::string_view name,
                                SpanKind, std::span<const KeyValue> attrs) const noexcept override {
      bool keep = name == "keep" || (!attrs.empty() && attrs[0].key == "force");
      return {keep ? SamplingDecision::kRecordAndSample : SamplingDecision::kDrop, std::nullopt};
    }
    std::string Description() const override { return "ByName"; }
  } s;
  TraceId id = internal::NewTraceId();
  EXPECT_EQ(s.Decide(nullptr, id, "keep", SpanKind::kInternal, {}).decision,
            SamplingDecision::kRecordAndSample);
  EXPECT_EQ(s.Decide(nullptr, id, "drop", SpanKind::kInternal, {}).decision,
            SamplingDecision::kDrop);
  const KeyValue kv[] = {{"force", true}};
  EXPECT_EQ(s.Decide(nullptr, id, "drop", SpanKind::kInternal, kv).decision,
            SamplingDecision::kRecordAndSample);
}

TEST(SamplerTest, FromEnvironment) {
  config::Reader env({{"OTEL_TRACES_SAMPLER", "TraceIdRatio"}, {"OTEL_TRACES_SAMPLER_ARG", "0.25"}});
  EXPECT_EQ(Sampler::FromEnvironment(env)->Description(), "TraceIdRatioBased{0.250000}");

  config::Reader def(std::map<std::string, std::string, std::less<>>{});
  EXPECT_NE(Sampler::FromEnvironment(def)->Description().find("ParentBased{root:AlwaysOnSampler"),
            std::string::npos);

  config::Reader bad_arg({{"OTEL_TRACES_SAMPLER", "parentbased_traceidratio"},
                          {"OTEL_TRACES_SAMPLER_ARG", "2"}});
  // An out-of-range argument is ignored with a warning: the ratio defaults to 1.
  EXPECT_NE(Sampler::FromEnvironment(bad_arg)->Description().find("TraceIdRatioBased{1.000000}"),
            std::string::npos);
  EXPECT_FALSE(bad_arg.warnings().empty());

  config::Reader unknown(std::map<std::string, std::string, std::less<>>{{"OTEL_TRACES_SAMPLER", "jaeger_remote"}});
  EXPECT_NE(Sampler::FromEnvironment(unknown)->Description().find("ParentBased"),
            std::string::npos);
  EXPECT_FALSE(unknown.warnings().empty());
}

// The SDK's fast path (DecideFast) must agree with ShouldSample for every built-in chain, and
// must not be taken when any delegate is custom.
TEST(SamplerTest, FastPathAgreesWithShouldSample) {
  struct Custom : Sampler {
    SamplingResult ShouldSample(const SpanContext*, const TraceId&, std::string_view, SpanKind,
                                std::span<const KeyValue>) const noexcept override {
      return {SamplingDecision::kRecordAndSample, TraceState::FromHeader("custom=1")};
    }
  };
  std::shared_ptr<Sampler> builtins[] = {
      Sampler::AlwaysOn(), Sampler::AlwaysOff(), Sampler::TraceIdRatio(0.5),
      Sampler::ParentBased(Sampler::AlwaysOn()), Sampler::ParentBased(Sampler::TraceIdRatio(0.25)),
      Sampler::ParentBased(Sampler::AlwaysOff(), Sampler::AlwaysOff(), Sampler::AlwaysOn(),
                           Sampler::TraceIdRatio(0.5), Sampler::AlwaysOn())};
  const TraceId tid = IdWithLow(0x1234);
  SpanContext parents[] = {
      SpanContext(tid, SpanId::FromHex("00f067aa0ba902b7").value(), TraceFlags(1), true),
      SpanContext(tid, SpanId::FromHex("00f067aa0ba902b7").value(), TraceFlags(0), true),
      SpanContext(tid, SpanId::FromHex("00f067aa0ba902b7").value(), TraceFlags(1), false),
      SpanContext(tid, SpanId::FromHex("00f067aa0ba902b7").value(), TraceFlags(0), false)};
  for (const auto& s : builtins) {
    EXPECT_TRUE(s->IsBuiltinChain()) << s->Description();
    for (uint64_t low : {uint64_t{0}, uint64_t{1} << 61, ~uint64_t{0}}) {
      TraceId id = IdWithLow(low);
      EXPECT_EQ(s->DecideFast(nullptr, id), D(*s, nullptr, id)) << s->Description();
      for (const SpanContext& p : parents) {
        EXPECT_EQ(s->DecideFast(&p, id), D(*s, &p, id)) << s->Description();
      }
    }
  }
  auto custom = std::make_shared<Custom>();
  EXPECT_FALSE(custom->IsBuiltinChain());
  EXPECT_FALSE(Sampler::ParentBased(custom)->IsBuiltinChain());
  EXPECT_FALSE(Sampler::ParentBased(Sampler::AlwaysOn(), custom)->IsBuiltinChain());
}

TEST(SamplerTest, FromNameRejectsBadInput) {
  EXPECT_THAT(Sampler::FromName("nope"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Sampler::FromName("traceidratio", -0.1), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_OK(Sampler::FromName("always_off"));
}

}  // namespace
}  // namespace otlp::trace
