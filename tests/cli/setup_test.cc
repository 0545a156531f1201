// Tests of otlp::Setup(): environment and code options, precedence, warnings and errors, the
// disabled SDK, global installation. The environment comes from a map (SetupOptions::env); no
// span is exported (no network).
#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

#include "otlp/core/log.h"
#include "otlp/otlp.h"
#include "otlp/propagation/carriers.h"
#include "otlp/propagation/global_propagator.h"
#include "otlp/trace/resource.h"
#include "tests/support/status_matchers.h"

namespace otlp {
namespace {

using Env = std::map<std::string, std::string, std::less<>>;

// Captures otlp-cpp's log for the test's lifetime.
class LogCapture {
 public:
  LogCapture() {
    SetLogHandler([this](LogLevel, std::string_view msg) {
      std::lock_guard<std::mutex> lock(mu_);
      lines_.emplace_back(msg);
    });
  }
  ~LogCapture() { SetLogHandler(nullptr); }
  bool Contains(std::string_view needle) const {
    std::lock_guard<std::mutex> lock(mu_);
    return std::any_of(lines_.begin(), lines_.end(),
                       [&](const std::string& l) { return l.find(needle) != std::string::npos; });
  }
  std::string All() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::string s;
    for (const auto& l : lines_) s += l + "\n";
    return s;
  }
  size_t Count(std::string_view needle) const {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<size_t>(std::count_if(lines_.begin(), lines_.end(), [&](const auto& l) {
      return l.find(needle) != std::string::npos;
    }));
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

std::string ServiceName(const Sdk& sdk) {
  const auto* v = sdk.provider()->resource().attributes().Find("service.name");
  return v != nullptr && std::holds_alternative<std::string>(*v) ? std::get<std::string>(*v) : "";
}

TEST(SetupTest, DefaultsBuildTheOtlpPipeline) {
  config::Reader env(Env{});
  ASSERT_OK_AND_ASSIGN(auto sdk, otlp::Setup({.install_global = false, .env = &env}));
  EXPECT_TRUE(sdk->provider()->enabled());
  ASSERT_NE(sdk->otlp_exporter(), nullptr);
  ASSERT_NE(sdk->batch_processor(), nullptr);
  EXPECT_EQ(sdk->otlp_exporter()->config().endpoint, "http://localhost:4318/v1/traces");
  EXPECT_EQ(sdk->shutdown_timeout(), std::chrono::milliseconds(10000));
  EXPECT_EQ(sdk->batch_processor()->max_queue_size(), 2048u);
}

TEST(SetupTest, CodeWinsOverEnvironment) {
  config::Reader env(Env{{"OTEL_SERVICE_NAME", "from-env"},
                         {"OTEL_RESOURCE_ATTRIBUTES", "team=env,region=eu"},
                         {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://env.example:4318"},
                         {"OTEL_EXPORTER_OTLP_TIMEOUT", "1234"},
                         {"OTEL_BSP_MAX_QUEUE_SIZE", "100"},
                         {"OTEL_TRACES_SAMPLER", "always_off"}});
  OwnedAttributes extra;
  extra.Set("team", "code");
  ASSERT_OK_AND_ASSIGN(auto sdk,
                       otlp::Setup({.service_name = "from-code",
                                    .otlp = {.endpoint = "http://127.0.0.1:4999/v1/traces"},
                                    .batch = {.max_queue_size = 4096},
                                    .sampler = trace::Sampler::AlwaysOn(),
                                    .resource_attributes = std::move(extra),
                                    .install_global = false,
                                    .env = &env}));
  const Sdk& s = *sdk;
  EXPECT_EQ(ServiceName(s), "from-code");
  const auto& attrs = s.provider()->resource().attributes();
  ASSERT_NE(attrs.Find("team"), nullptr);
  EXPECT_EQ(std::get<std::string>(*attrs.Find("team")), "code");
  ASSERT_NE(attrs.Find("region"), nullptr);  // the environment's others stay
  EXPECT_EQ(s.otlp_exporter()->config().endpoint, "http://127.0.0.1:4999/v1/traces");
  EXPECT_EQ(s.shutdown_timeout(), std::chrono::milliseconds(1234));  // env, not overridden
  EXPECT_EQ(s.batch_processor()->max_queue_size(), 4096u);
  EXPECT_EQ(s.provider()->sampler().Description(), "AlwaysOnSampler");
}

TEST(SetupTest, EnvironmentConfiguresSamplerLimitsAndService) {
  config::Reader env(Env{{"OTEL_SERVICE_NAME", "svc"},
                         {"OTEL_TRACES_SAMPLER", "always_off"},
                         {"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "7"},
                         {"OTEL_TRACES_EXPORTER", "none"}});
  ASSERT_OK_AND_ASSIGN(auto sdk, otlp::Setup({.install_global = false, .env = &env}));
  EXPECT_EQ(ServiceName(*sdk), "svc");
  EXPECT_EQ(sdk->provider()->sampler().Description(), "AlwaysOffSampler");
  EXPECT_EQ(sdk->provider()->limits().attribute_count, 7u);
  EXPECT_EQ(sdk->otlp_exporter(), nullptr);  // exporter "none"
  EXPECT_EQ(sdk->batch_processor(), nullptr);
  EXPECT_TRUE(sdk->provider()->enabled());
}

TEST(SetupTest, ConsoleExporterUsesBatchTimeoutAsBound) {
  config::Reader env(Env{{"OTEL_BSP_EXPORT_TIMEOUT", "2500"}});
  ASSERT_OK_AND_ASSIGN(
      auto sdk, otlp::Setup({.traces_exporter = "CONSOLE", .install_global = false, .env = &env}));
  EXPECT_EQ(sdk->otlp_exporter(), nullptr);
  EXPECT_NE(sdk->batch_processor(), nullptr);
  EXPECT_EQ(sdk->shutdown_timeout(), std::chrono::milliseconds(2500));
}

TEST(SetupTest, BadCodeOptionsAreErrors) {
  config::Reader env(Env{});
  EXPECT_THAT(otlp::Setup({.traces_exporter = "zipkin", .install_global = false, .env = &env}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_FALSE(otlp::Setup({.service_name = "", .install_global = false, .env = &env}).ok());
  EXPECT_FALSE(
      otlp::Setup({.batch = {.max_queue_size = 0}, .install_global = false, .env = &env}).ok());
  EXPECT_FALSE(
      otlp::Setup({.batch = {.max_export_batch_size = 0}, .install_global = false, .env = &env})
          .ok());
  EXPECT_THAT(
      otlp::Setup({.otlp = {.endpoint = "ftp://nope"}, .install_global = false, .env = &env}),
      StatusIs(StatusCode::kInvalidArgument));
  // gRPC is an exporter like the others (it connects on the first export).
  ASSERT_OK_AND_ASSIGN(auto grpc, otlp::Setup({.otlp = {.protocol = exporter::OtlpProtocol::kGrpc},
                                               .install_global = false, .env = &env}));
  ASSERT_NE(grpc->otlp_exporter(), nullptr);
  EXPECT_EQ(grpc->otlp_exporter()->config().endpoint, "http://localhost:4317/");
}

TEST(SetupTest, EnvironmentProblemsAreLoggedWarnings) {
  LogCapture log;
  config::Reader env(Env{{"OTEL_TRACES_EXPORTER", "zipkin"},
                         {"OTEL_BSP_MAX_QUEUE_SIZE", "lots"},
                         {"OTEL_TRACES_SAMPLER", "sometimes"}});
  ASSERT_OK_AND_ASSIGN(auto sdk, otlp::Setup({.install_global = false, .env = &env}));
  EXPECT_NE(sdk->otlp_exporter(), nullptr);  // the default exporter applies
  EXPECT_EQ(sdk->batch_processor()->max_queue_size(), 2048u);
  EXPECT_TRUE(log.Contains("OTEL_TRACES_EXPORTER=zipkin")) << log.All();
  EXPECT_TRUE(log.Contains("OTEL_BSP_MAX_QUEUE_SIZE=lots")) << log.All();
  EXPECT_TRUE(log.Contains("OTEL_TRACES_SAMPLER=sometimes")) << log.All();
  EXPECT_EQ(log.Count("OTEL_BSP_MAX_QUEUE_SIZE=lots"), 1u) << log.All();
}

TEST(SetupTest, UnusableExporterFromEnvironmentIsAWarning) {
  // What docs/CONFIGURATION.md says: these values disable span export, the default does not
  // apply.
  const std::pair<const char*, const char*> unusable[] = {
      {"OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://collector:4318"},
      {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://[::1"},
      {"OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ca.pem"},
  };
  for (const auto& [name, value] : unusable) {
    SCOPED_TRACE(std::string(name) + "=" + value);
    LogCapture log;
    config::Reader env(Env{{name, value}});
    ASSERT_OK_AND_ASSIGN(auto sdk, otlp::Setup({.install_global = false, .env = &env}));
    EXPECT_EQ(sdk->otlp_exporter(), nullptr);
    EXPECT_TRUE(log.Contains("spans will not be exported")) << log.All();
    // Spans are still created and carry a context.
    auto span = sdk->GetTracer("t").StartSpan("s");
    EXPECT_TRUE(span.GetContext().IsValid());
  }
}

TEST(SetupTest, DisabledSdkIsNoopButPropagates) {
  config::Reader env(Env{{"OTEL_SDK_DISABLED", "TRUE"}, {"OTEL_PROPAGATORS", "b3"}});
  ASSERT_OK_AND_ASSIGN(auto sdk, otlp::Setup({.traces_exporter = "console", .env = &env}));
  EXPECT_FALSE(sdk->provider()->enabled());
  EXPECT_EQ(sdk->batch_processor(), nullptr);
  EXPECT_EQ(trace::GetTracerProvider(), sdk->provider());

  // The propagator from OTEL_PROPAGATORS is installed.
  auto fields = propagation::GlobalPropagator().Fields();
  EXPECT_NE(std::find(fields.begin(), fields.end(), "b3"), fields.end());

  // A span of a disabled SDK carries its parent's context.
  propagation::MapCarrier in{{"b3", "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1"}};
  trace::SpanContext parent = propagation::GlobalPropagator().Extract(in).span_context();
  ASSERT_TRUE(parent.IsValid());
  auto span = sdk->GetTracer("t").StartSpan("s", {.parent = parent});
  EXPECT_FALSE(span.IsRecording());
  EXPECT_EQ(span.GetContext().span_id(), parent.span_id());
  sdk.reset();
  propagation::SetGlobalPropagator(propagation::DefaultPropagator());
}

TEST(SetupTest, InstallsAndUninstallsTheGlobalProvider) {
  config::Reader env(Env{{"OTEL_TRACES_EXPORTER", "none"}});
  auto before = trace::GetTracerProvider();
  {
    ASSERT_OK_AND_ASSIGN(auto sdk, otlp::Setup({.env = &env}));
    EXPECT_EQ(trace::GetTracerProvider(), sdk->provider());
    EXPECT_TRUE(trace::GetTracer("lib").Enabled());
  }
  EXPECT_FALSE(trace::GetTracerProvider()->enabled());
  EXPECT_FALSE(trace::GetTracer("lib").Enabled());

  config::Reader env2(Env{{"OTEL_TRACES_EXPORTER", "none"}});
  ASSERT_OK_AND_ASSIGN(auto local, otlp::Setup({.install_global = false, .env = &env2}));
  EXPECT_NE(trace::GetTracerProvider(), local->provider());
}

TEST(SetupTest, ShutdownIsIdempotentAndStopsRecording) {
  config::Reader env(Env{{"OTEL_TRACES_EXPORTER", "console"}});
  ASSERT_OK_AND_ASSIGN(auto sdk, otlp::Setup({.install_global = false, .env = &env}));
  EXPECT_TRUE(sdk->ForceFlush(std::chrono::seconds(5)));
  EXPECT_TRUE(sdk->Shutdown());
  EXPECT_TRUE(sdk->Shutdown());
  EXPECT_FALSE(sdk->GetTracer("t").StartSpan("late").IsRecording());
}

}  // namespace
}  // namespace otlp
