#include "otlp/propagation/global_propagator.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "otlp/propagation/b3_propagator.h"
#include "otlp/propagation/baggage_propagator.h"
#include "otlp/propagation/carriers.h"
#include "otlp/propagation/composite_propagator.h"
#include "otlp/propagation/trace_context_propagator.h"
#include "tests/support/status_matchers.h"

namespace otlp::propagation {
namespace {

using ::testing::HasSubstr;
using Fields = std::vector<std::string_view>;

Fields FieldsOf(const std::vector<std::string>& names) {
  auto p = PropagatorFromNames(names);
  EXPECT_OK(p);
  return p.ok() ? (*p)->Fields() : Fields{"<error>"};
}

Fields FromEnv(std::map<std::string, std::string, std::less<>> env,
               std::vector<std::string>* warnings = nullptr) {
  config::Reader reader(std::move(env));
  auto p = PropagatorFromEnvironment(reader);
  EXPECT_OK(p);
  if (warnings) *warnings = reader.warnings();
  return p.ok() ? (*p)->Fields() : Fields{"<error>"};
}

TEST(PropagatorFromNamesTest, KnownNames) {
  EXPECT_EQ(FieldsOf({"tracecontext"}), (Fields{"traceparent", "tracestate"}));
  EXPECT_EQ(FieldsOf({"baggage"}), (Fields{"baggage"}));
  EXPECT_EQ(FieldsOf({"b3"}), (Fields{"b3"}));
  EXPECT_EQ(FieldsOf({"b3multi"}), (Fields{"x-b3-traceid", "x-b3-spanid", "x-b3-sampled"}));
  EXPECT_EQ(FieldsOf({"baggage", " TraceContext "}),
            (Fields{"baggage", "traceparent", "tracestate"}));
}

TEST(PropagatorFromNamesTest, DuplicatesRemovedOrderKept) {
  ASSERT_OK_AND_ASSIGN(auto p, PropagatorFromNames({"b3", "tracecontext", "B3", "b3"}));
  auto* composite = dynamic_cast<CompositePropagator*>(p.get());
  ASSERT_NE(composite, nullptr);
  EXPECT_EQ(composite->propagators().size(), 2u);
  EXPECT_EQ(p->Fields(), (Fields{"b3", "traceparent", "tracestate"}));
}

TEST(PropagatorFromNamesTest, NoneAndEmpty) {
  for (const auto& names :
       std::vector<std::vector<std::string>>{{"none"}, {}, {"", " "}, {"tracecontext", "none"}}) {
    ASSERT_OK_AND_ASSIGN(auto p, PropagatorFromNames(names));
    EXPECT_NE(dynamic_cast<NoopPropagator*>(p.get()), nullptr);
  }
}

TEST(PropagatorFromNamesTest, UnknownNameIsAnError) {
  EXPECT_THAT(PropagatorFromNames({"tracecontext", "jaeger"}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("jaeger")));
}

TEST(PropagatorFromEnvironmentTest, DefaultWhenUnset) {
  EXPECT_EQ(FromEnv({}), (Fields{"traceparent", "tracestate", "baggage"}));
  EXPECT_EQ(FromEnv({{"OTEL_PROPAGATORS", "  "}}),
            (Fields{"traceparent", "tracestate", "baggage"}));
}

TEST(PropagatorFromEnvironmentTest, ParsesList) {
  EXPECT_EQ(FromEnv({{"OTEL_PROPAGATORS", "b3multi, BAGGAGE,b3multi"}}),
            (Fields{"x-b3-traceid", "x-b3-spanid", "x-b3-sampled", "baggage"}));
  EXPECT_EQ(FromEnv({{"OTEL_PROPAGATORS", "none"}}), Fields{});
}

TEST(PropagatorFromEnvironmentTest, UnknownNamesWarnedAndIgnored) {
  std::vector<std::string> warnings;
  EXPECT_EQ(FromEnv({{"OTEL_PROPAGATORS", "xray,b3"}}, &warnings), (Fields{"b3"}));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("xray"), std::string::npos);
  // Nothing usable left: the default applies.
  EXPECT_EQ(FromEnv({{"OTEL_PROPAGATORS", "ottrace"}}, &warnings),
            (Fields{"traceparent", "tracestate", "baggage"}));
  EXPECT_FALSE(warnings.empty());
}

// The tests below change the process-wide propagator; they restore the default at the end.
class GlobalPropagatorTest : public ::testing::Test {
 protected:
  void TearDown() override { SetGlobalPropagator(DefaultPropagator()); }
};

TEST_F(GlobalPropagatorTest, DefaultIsTraceContextAndBaggage) {
  EXPECT_EQ(GlobalPropagator().Fields(), (Fields{"traceparent", "tracestate", "baggage"}));
}

TEST_F(GlobalPropagatorTest, SetReplacesAndNullInstallsNoop) {
  SetGlobalPropagator(std::make_shared<B3Propagator>());
  EXPECT_EQ(GlobalPropagator().Fields(), Fields{"b3"});
  SetGlobalPropagator(nullptr);
  EXPECT_TRUE(GlobalPropagator().Fields().empty());
}

TEST_F(GlobalPropagatorTest, ReferenceStaysValidAfterReplacement) {
  SetGlobalPropagator(std::make_shared<B3Propagator>());
  const TextMapPropagator& old = GlobalPropagator();
  SetGlobalPropagator(std::make_shared<BaggagePropagator>());
  EXPECT_EQ(old.Fields(), Fields{"b3"});  // still alive (ASan would catch a dangling use)
}

TEST_F(GlobalPropagatorTest, ConcurrentGetAndSet) {
  std::atomic<bool> stop{false};
  std::atomic<int> uses{0};
  std::thread reader([&] {
    trace::SpanContext sc(*trace::TraceId::FromHex("0af7651916cd43dd8448eb211c80319c"),
                          *trace::SpanId::FromHex("b7ad6b7169203331"), trace::TraceFlags(1), false);
    while (!stop.load()) {
      const TextMapPropagator& p = GlobalPropagator();
      MapCarrier c;
      p.Inject(trace::Context(sc), c);
      EXPECT_EQ(p.Extract(c).span_context().trace_id(), sc.trace_id());
      uses.fetch_add(1);
    }
  });
  std::shared_ptr<TextMapPropagator> b3 = std::make_shared<B3Propagator>();
  std::shared_ptr<TextMapPropagator> w3c = std::make_shared<TraceContextPropagator>();
  for (int i = 0; i < 2000; ++i) SetGlobalPropagator(i % 2 ? b3 : w3c);
  // Let the reader make progress before stopping it (bounded by the loop above finishing).
  while (uses.load() < 10) std::this_thread::yield();
  stop = true;
  reader.join();
  EXPECT_GE(uses.load(), 10);
}

}  // namespace
}  // namespace otlp::propagation
