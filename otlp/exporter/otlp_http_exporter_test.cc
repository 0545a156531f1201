#include "otlp/exporter/otlp_http_exporter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "otlp/core/version.h"
#include "otlp/exporter/internal/http_exporter_config.h"
#include "tests/support/status_matchers.h"

namespace otlp::exporter {
namespace {

using std::chrono::milliseconds;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using Env = std::map<std::string, std::string, std::less<>>;

std::string Endpoint(std::optional<std::string> code, std::optional<std::string> signal,
                     std::optional<std::string> generic, bool insecure = false) {
  return internal::ResolveTracesEndpoint(code, signal, generic, insecure);
}

// ---- Endpoint rules (exporter spec, "Endpoint URLs for OTLP/HTTP") ----

TEST(ResolveTracesEndpoint, DefaultWhenNothingIsSet) {
  EXPECT_EQ(Endpoint({}, {}, {}), "http://localhost:4318/v1/traces");
}

TEST(ResolveTracesEndpoint, GenericGetsSignalPathAppended) {
  EXPECT_EQ(Endpoint({}, {}, "http://localhost:4318"), "http://localhost:4318/v1/traces");
  EXPECT_EQ(Endpoint({}, {}, "http://localhost:4318/"), "http://localhost:4318/v1/traces");
  EXPECT_EQ(Endpoint({}, {}, "https://collector.example:4318/mycollector"),
            "https://collector.example:4318/mycollector/v1/traces");
  EXPECT_EQ(Endpoint({}, {}, "https://collector.example:4318/mycollector/"),
            "https://collector.example:4318/mycollector/v1/traces");
  EXPECT_EQ(Endpoint({}, {}, "http://[::1]:4318"), "http://[::1]:4318/v1/traces");
}

TEST(ResolveTracesEndpoint, GenericKeepsQueryAfterTheAppendedPath) {
  EXPECT_EQ(Endpoint({}, {}, "http://h:4318/p?tenant=a"), "http://h:4318/p/v1/traces?tenant=a");
  EXPECT_EQ(Endpoint({}, {}, "http://h:4318?tenant=a"), "http://h:4318/v1/traces?tenant=a");
}

TEST(ResolveTracesEndpoint, SignalSpecificIsUsedAsIs) {
  EXPECT_EQ(Endpoint({}, "http://localhost:4318/v1/traces", {}), "http://localhost:4318/v1/traces");
  EXPECT_EQ(Endpoint({}, "https://collector.example:4318/custom/path", {}),
            "https://collector.example:4318/custom/path");
  // No path: root, nothing appended.
  EXPECT_EQ(Endpoint({}, "http://localhost:4318", {}), "http://localhost:4318/");
  EXPECT_EQ(Endpoint({}, "http://localhost:4318/", {}), "http://localhost:4318/");
  EXPECT_EQ(Endpoint({}, "http://h:1?x=1", {}), "http://h:1/?x=1");
}

TEST(ResolveTracesEndpoint, SignalSpecificWinsOverGeneric) {
  EXPECT_EQ(Endpoint({}, "http://traces:1/t", "http://all:2"), "http://traces:1/t");
}

TEST(ResolveTracesEndpoint, CodeWinsOverEnvironment) {
  EXPECT_EQ(Endpoint("http://code:3/v1/traces", "http://traces:1/t", "http://all:2"),
            "http://code:3/v1/traces");
}

TEST(ResolveTracesEndpoint, MissingSchemeFollowsInsecure) {
  EXPECT_EQ(Endpoint({}, {}, "collector:4318", /*insecure=*/true),
            "http://collector:4318/v1/traces");
  EXPECT_EQ(Endpoint({}, {}, "collector:4318", /*insecure=*/false),
            "https://collector:4318/v1/traces");
  // A scheme always wins over insecure.
  EXPECT_EQ(Endpoint({}, "https://c:1/x", {}, /*insecure=*/true), "https://c:1/x");
}

// ---- Headers ----

TEST(ValidateHeader, AcceptsTokensAndPrintableValues) {
  EXPECT_OK(internal::ValidateHeader("api-key", "secret value\twith tab"));
  EXPECT_OK(internal::ValidateHeader("X-Scope-OrgID", "tenant=1,2"));
  EXPECT_OK(internal::ValidateHeader("a!#$%&'*+-.^_`|~z", ""));
}

TEST(ValidateHeader, RejectsBadNamesAndControlCharacters) {
  EXPECT_FALSE(internal::ValidateHeader("", "v").ok());
  EXPECT_FALSE(internal::ValidateHeader("bad name", "v").ok());
  EXPECT_FALSE(internal::ValidateHeader("bad:name", "v").ok());
  Status st = internal::ValidateHeader("x", "a\r\nInjected: 1");
  EXPECT_THAT(st, StatusIs(StatusCode::kInvalidArgument, HasSubstr("control character")));
  EXPECT_FALSE(internal::ValidateHeader("x", std::string("a\0b", 3)).ok());
}

// ---- Option resolution and precedence ----

Result<OtlpHttpExporterConfig> Resolve(const OtlpHttpExporterOptions& o, Env env,
                                       std::vector<std::string>* warnings = nullptr) {
  config::Reader reader(std::move(env));
  auto r = OtlpHttpExporter::ResolveOptions(o, &reader);
  if (warnings) *warnings = reader.warnings();
  return r;
}

TEST(ResolveOptions, DefaultsWithoutEnvironment) {
  ASSERT_OK_AND_ASSIGN(auto c, OtlpHttpExporter::ResolveOptions({}));
  EXPECT_EQ(c.endpoint, "http://localhost:4318/v1/traces");
  EXPECT_EQ(c.protocol, OtlpProtocol::kHttpProtobuf);
  EXPECT_EQ(c.timeout, milliseconds(10000));
  EXPECT_EQ(c.compression, Compression::kNone);
  EXPECT_TRUE(c.headers.empty());
  EXPECT_EQ(c.user_agent, std::string("otlp-cpp/") + kVersion);
  EXPECT_TRUE(c.tls.ca_file.empty());
  EXPECT_EQ(c.max_concurrent_requests, 1u);
}

TEST(ResolveOptions, EnvironmentIgnoredWithoutReader) {
  // Create(options) without a Reader never reads OTEL_*: only code and defaults.
  ::setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "1234", 1);
  auto c = OtlpHttpExporter::ResolveOptions({}, nullptr);
  ::unsetenv("OTEL_EXPORTER_OTLP_TIMEOUT");
  ASSERT_OK(c);
  EXPECT_EQ(c->timeout, milliseconds(10000));
}

TEST(ResolveOptions, ProcessEnvironmentThroughDefaultReader) {
  ::setenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "4321", 1);
  config::Reader reader;
  auto c = OtlpHttpExporter::ResolveOptions({}, &reader);
  ::unsetenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT");
  ASSERT_OK(c);
  EXPECT_EQ(c->timeout, milliseconds(4321));
}

TEST(ResolveOptions, EnvironmentFillsUnsetFields) {
  ASSERT_OK_AND_ASSIGN(auto c,
                       Resolve({}, {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"},
                                    {"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"},
                                    {"OTEL_EXPORTER_OTLP_TIMEOUT", "2500"},
                                    {"OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"},
                                    {"OTEL_EXPORTER_OTLP_HEADERS", "api-key=abc,tenant=t%201"}}));
  EXPECT_EQ(c.endpoint, "http://collector:4318/v1/traces");
  EXPECT_EQ(c.protocol, OtlpProtocol::kHttpJson);
  EXPECT_EQ(c.timeout, milliseconds(2500));
  EXPECT_EQ(c.compression, Compression::kGzip);
  EXPECT_EQ(c.headers, (net::Headers{{"api-key", "abc"}, {"tenant", "t 1"}}));
}

TEST(ResolveOptions, CodeWinsOverEnvironment) {
  OtlpHttpExporterOptions o{.endpoint = "http://code:1/traces",
                            .protocol = OtlpProtocol::kHttpProtobuf,
                            .headers = net::Headers{{"from", "code"}},
                            .timeout = milliseconds(700),
                            .compression = Compression::kNone};
  ASSERT_OK_AND_ASSIGN(auto c, Resolve(o, {{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://env:2/t"},
                                           {"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"},
                                           {"OTEL_EXPORTER_OTLP_TIMEOUT", "2500"},
                                           {"OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"},
                                           {"OTEL_EXPORTER_OTLP_HEADERS", "from=env"}}));
  EXPECT_EQ(c.endpoint, "http://code:1/traces");
  EXPECT_EQ(c.protocol, OtlpProtocol::kHttpProtobuf);
  EXPECT_EQ(c.timeout, milliseconds(700));
  EXPECT_EQ(c.compression, Compression::kNone);
  EXPECT_EQ(c.headers, (net::Headers{{"from", "code"}}));
}

TEST(ResolveOptions, SignalSpecificVariablesWinOverGeneric) {
  ASSERT_OK_AND_ASSIGN(auto c,
                       Resolve({}, {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://all:4318"},
                                    {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://traces:4318"},
                                    {"OTEL_EXPORTER_OTLP_TIMEOUT", "2500"},
                                    {"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "1500"},
                                    {"OTEL_EXPORTER_OTLP_HEADERS", "a=1"},
                                    {"OTEL_EXPORTER_OTLP_TRACES_HEADERS", "b=2"},
                                    {"OTEL_EXPORTER_OTLP_COMPRESSION", "none"},
                                    {"OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "GZIP"}}));
  EXPECT_EQ(c.endpoint, "http://traces:4318/");
  EXPECT_EQ(c.timeout, milliseconds(1500));
  EXPECT_EQ(c.headers, (net::Headers{{"b", "2"}}));
  EXPECT_EQ(c.compression, Compression::kGzip);
}

TEST(ResolveOptions, ZeroTimeoutMeansNoLimit) {
  ASSERT_OK_AND_ASSIGN(auto c, Resolve({}, {{"OTEL_EXPORTER_OTLP_TIMEOUT", "0"}}));
  EXPECT_EQ(c.timeout, milliseconds(0));
}

TEST(ResolveOptions, BadEnvironmentValuesWarnAndUseDefaults) {
  std::vector<std::string> warnings;
  ASSERT_OK_AND_ASSIGN(auto c, Resolve({},
                                       {{"OTEL_EXPORTER_OTLP_TIMEOUT", "ten seconds"},
                                        {"OTEL_EXPORTER_OTLP_COMPRESSION", "brotli"},
                                        {"OTEL_EXPORTER_OTLP_PROTOCOL", "carrier-pigeon"}},
                                       &warnings));
  EXPECT_EQ(c.timeout, milliseconds(10000));
  EXPECT_EQ(c.compression, Compression::kNone);
  EXPECT_EQ(c.protocol, OtlpProtocol::kHttpProtobuf);
  ASSERT_EQ(warnings.size(), 3u);
  EXPECT_THAT(warnings[0], HasSubstr("OTEL_EXPORTER_OTLP_PROTOCOL"));
}

TEST(ResolveOptions, GrpcUsesTheBaseEndpointAndPort4317) {
  ASSERT_OK_AND_ASSIGN(auto d, Resolve({}, {{"OTEL_EXPORTER_OTLP_PROTOCOL", "GRPC"}}));
  EXPECT_EQ(d.protocol, OtlpProtocol::kGrpc);
  EXPECT_EQ(d.endpoint, "http://localhost:4317/");
  ASSERT_OK_AND_ASSIGN(auto g, Resolve({}, {{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc"},
                                            {"OTEL_EXPORTER_OTLP_ENDPOINT", "https://c:4317"}}));
  EXPECT_EQ(g.endpoint, "https://c:4317/");  // no v1/traces for gRPC
  ASSERT_OK_AND_ASSIGN(auto code, OtlpHttpExporter::ResolveOptions(
                                      {.endpoint = "collector:4317",
                                       .protocol = OtlpProtocol::kGrpc, .insecure = true}));
  EXPECT_EQ(code.endpoint, "http://collector:4317/");
  // gRPC's own metadata cannot be overridden.
  EXPECT_THAT(OtlpHttpExporter::ResolveOptions(
                  {.protocol = OtlpProtocol::kGrpc, .headers = net::Headers{{"grpc-timeout", "1S"}}}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("set by the exporter")));
  std::vector<std::string> warnings;
  ASSERT_OK_AND_ASSIGN(auto w, Resolve({}, {{"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"},
                                            {"OTEL_EXPORTER_OTLP_HEADERS", "te=x,a=1"}},
                                       &warnings));
  EXPECT_EQ(w.headers, (net::Headers{{"a", "1"}}));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], HasSubstr("'te'"));
}

TEST(ResolveOptions, InvalidEndpointFailsNamingTheSource) {
  auto c = Resolve({}, {{"OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://collector:21"}});
  EXPECT_THAT(c,
              StatusIs(StatusCode::kInvalidArgument, AllOf(HasSubstr("OTEL_EXPORTER_OTLP_ENDPOINT"),
                                                           HasSubstr("ftp://collector:21"))));

  for (const char* bad : {"http://collector:99999/v1/traces", "http:///v1/traces",
                          "http://user:pw@/v1/traces"}) {
    EXPECT_THAT(OtlpHttpExporter::ResolveOptions({.endpoint = bad}),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("invalid OTLP endpoint")))
        << bad;
  }
  // Other schemes the URL parser knows are not OTLP/HTTP; credentials stay out of the message.
  auto nats = OtlpHttpExporter::ResolveOptions({.endpoint = "nats://user:hunter2@127.0.0.1:4222"});
  EXPECT_THAT(nats, StatusIs(StatusCode::kInvalidArgument,
                             AllOf(HasSubstr("http:// or https://"), Not(HasSubstr("hunter2")))));
  // Credentials in an http URL are sent as Basic auth; the endpoint is valid.
  EXPECT_OK(OtlpHttpExporter::ResolveOptions({.endpoint = "http://user:pw@127.0.0.1:4318/v1/traces"}));
}

TEST(ResolveOptions, InsecureDecidesSchemeOnlyWithoutOne) {
  ASSERT_OK_AND_ASSIGN(auto c, Resolve({}, {{"OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"},
                                            {"OTEL_EXPORTER_OTLP_INSECURE", "true"}}));
  EXPECT_EQ(c.endpoint, "http://collector:4318/v1/traces");
  ASSERT_OK_AND_ASSIGN(
      auto d, Resolve({.insecure = false}, {{"OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"},
                                            {"OTEL_EXPORTER_OTLP_INSECURE", "true"}}));
  EXPECT_EQ(d.endpoint, "https://collector:4318/v1/traces");
}

TEST(ResolveOptions, BadEnvironmentHeadersAreDroppedWithAWarning) {
  std::vector<std::string> warnings;
  ASSERT_OK_AND_ASSIGN(
      auto c,
      Resolve({}, {{"OTEL_EXPORTER_OTLP_HEADERS", "ok=1,evil=a%0D%0AX-Injected: 1,bad name=2"}},
              &warnings));
  EXPECT_EQ(c.headers, (net::Headers{{"ok", "1"}}));
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_THAT(warnings[0], HasSubstr("OTEL_EXPORTER_OTLP_HEADERS"));
  EXPECT_THAT(warnings[0], HasSubstr("ignored"));
}

TEST(ResolveOptions, MalformedHeaderListIsIgnoredWholly) {
  std::vector<std::string> warnings;
  ASSERT_OK_AND_ASSIGN(auto c,
                       Resolve({}, {{"OTEL_EXPORTER_OTLP_HEADERS", "a=1,novalue"}}, &warnings));
  EXPECT_TRUE(c.headers.empty());
  EXPECT_EQ(warnings.size(), 1u);
}

TEST(ResolveOptions, BadCodeHeadersFailCreate) {
  EXPECT_THAT(OtlpHttpExporter::ResolveOptions({.headers = net::Headers{{"x", "a\nb"}}}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(
      OtlpHttpExporter::ResolveOptions({.headers = net::Headers{{"Content-Type", "text/plain"}}}),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("cannot be overridden")));
}

TEST(ResolveOptions, UserAgentHeaderReplacesTheDefault) {
  ASSERT_OK_AND_ASSIGN(auto c,
                       OtlpHttpExporter::ResolveOptions(
                           {.headers = net::Headers{{"User-Agent", "my-app/2"}, {"a", "b"}}}));
  EXPECT_EQ(c.user_agent, "my-app/2");
  EXPECT_EQ(c.headers, (net::Headers{{"a", "b"}}));
}

class TempFile {
 public:
  TempFile() {
    path_ = (std::filesystem::temp_directory_path() /
             ("otlp_exporter_test_" + std::to_string(::getpid()) + "_" +
              std::to_string(counter_++) + ".pem"))
                .string();
    std::ofstream(path_) << "-----BEGIN CERTIFICATE-----\n";
  }
  ~TempFile() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

TEST(ResolveOptions, TlsFilesFromEnvironmentWithFallback) {
  TempFile ca, key, cert;
  ASSERT_OK_AND_ASSIGN(auto c,
                       Resolve({}, {{"OTEL_EXPORTER_OTLP_ENDPOINT", "https://c:4318"},
                                    {"OTEL_EXPORTER_OTLP_CERTIFICATE", ca.path()},
                                    {"OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", key.path()},
                                    {"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", cert.path()}}));
  EXPECT_EQ(c.tls.ca_file, ca.path());
  EXPECT_EQ(c.tls.client_key_file, key.path());
  EXPECT_EQ(c.tls.client_certificate_file, cert.path());
  EXPECT_TRUE(c.tls.verify_peer);
}

TEST(ResolveOptions, UnreadableTlsFileFailsNamingTheVariable) {
  auto c = Resolve({}, {{"OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "/nonexistent/ca.pem"}});
  EXPECT_THAT(c, StatusIs(StatusCode::kInvalidArgument,
                          AllOf(HasSubstr("/nonexistent/ca.pem"),
                                HasSubstr("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE"))));
}

TEST(ResolveOptions, ClientKeyWithoutCertificateFails) {
  TempFile key;
  EXPECT_THAT(OtlpHttpExporter::ResolveOptions({.client_key_file = key.path()}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("mutual TLS")));
}

TEST(ResolveOptions, InvalidRetryPolicyAndConcurrencyFail) {
  EXPECT_FALSE(OtlpHttpExporter::ResolveOptions({.retry = {.max_attempts = 0}}).ok());
  EXPECT_FALSE(OtlpHttpExporter::ResolveOptions({.retry = {.multiplier = 0.5}}).ok());
  EXPECT_FALSE(OtlpHttpExporter::ResolveOptions({.retry = {.jitter = 1.5}}).ok());
  EXPECT_FALSE(
      OtlpHttpExporter::ResolveOptions({.retry = {.initial_backoff = milliseconds(-1)}}).ok());
  EXPECT_FALSE(OtlpHttpExporter::ResolveOptions({.max_concurrent_requests = 0}).ok());
  EXPECT_FALSE(OtlpHttpExporter::ResolveOptions({.timeout = milliseconds(-5)}).ok());
  EXPECT_OK(OtlpHttpExporter::ResolveOptions({.retry = {.max_attempts = 1}}));
}

// ---- Lifecycle without a receiver ----

TEST(OtlpHttpExporter, CreatesAGrpcExporterWithoutConnecting) {
  ASSERT_OK_AND_ASSIGN(auto e, OtlpHttpExporter::Create({.protocol = OtlpProtocol::kGrpc}));
  EXPECT_EQ(e->config().endpoint, "http://localhost:4317/");
  EXPECT_TRUE(e->Shutdown(std::chrono::seconds(1)));
}

TEST(OtlpHttpExporter, ExportAfterShutdownFailsFastWithoutARequest) {
  ASSERT_OK_AND_ASSIGN(auto e,
                       OtlpHttpExporter::Create({.endpoint = "http://127.0.0.1:9/v1/traces"}));
  EXPECT_TRUE(e->Shutdown(std::chrono::seconds(5)));
  trace::SpanData span;
  const trace::SpanData* batch[] = {&span, &span};
  EXPECT_EQ(e->Export(batch), trace::ExportResult::kFailure);
  ExporterStats s = e->stats();
  EXPECT_EQ(s.requests, 0u);
  EXPECT_EQ(s.spans_failed, 2u);
  EXPECT_EQ(s.batches_failed, 1u);
  EXPECT_TRUE(e->ForceFlush(std::chrono::seconds(1)));
  EXPECT_TRUE(e->Shutdown(std::chrono::seconds(1)));  // idempotent
}

TEST(OtlpHttpExporter, EmptyBatchIsASuccessWithoutARequest) {
  ASSERT_OK_AND_ASSIGN(auto e,
                       OtlpHttpExporter::Create({.endpoint = "http://127.0.0.1:9/v1/traces"}));
  EXPECT_EQ(e->Export({}), trace::ExportResult::kSuccess);
  EXPECT_EQ(e->stats().requests, 0u);
}

TEST(OtlpHttpExporter, ConfigReflectsResolvedOptions) {
  Env env{{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9"}};
  config::Reader reader(env);
  ASSERT_OK_AND_ASSIGN(auto e, OtlpHttpExporter::Create({.timeout = milliseconds(1234)}, &reader));
  EXPECT_EQ(e->config().endpoint, "http://127.0.0.1:9/v1/traces");
  EXPECT_EQ(e->config().timeout, milliseconds(1234));
}

}  // namespace
}  // namespace otlp::exporter
