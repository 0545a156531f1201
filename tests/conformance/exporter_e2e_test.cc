// End-to-end conformance of the whole pipeline: spans made with the public SDK API go through the
// BatchSpanProcessor and the real OtlpHttpExporter, over loopback HTTP, to receiver.js, which
// decodes every request with the official OpenTelemetry JS protobuf definitions
// (@opentelemetry/otlp-transformer). Each combination of http/protobuf or http/json, with or
// without gzip, must deliver every field exactly as the test set it: ids, parents, kinds, times,
// attributes of every type, events, links, statuses, tracestate, flags, dropped counts (small
// SpanLimits), resource and scope. The request headers (Content-Type, Content-Encoding,
// User-Agent) are checked too. OTLP/gRPC goes to grpc_receiver.js, an independent gRPC server
// (@grpc/grpc-js), over h2c and over TLS with a certificate from a test CA (and a server the
// exporter does not trust gets nothing).
//
// Needs node and `npm ci` in tests/conformance; skipped with a message otherwise.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "otlp/core/attributes.h"
#include "otlp/core/version.h"
#include "otlp/exporter/otlp_http_exporter.h"
#include "otlp/propagation/carriers.h"
#include "otlp/propagation/trace_context_propagator.h"
#include "otlp/trace/batch_processor.h"
#include "otlp/trace/context.h"
#include "otlp/trace/provider.h"
#include "otlp/trace/resource.h"
#include "otlp/trace/sampler.h"
#include "otlp/trace/span.h"
#include "otlp/trace/tracer.h"
#include "tests/conformance/conformance_support.h"
#include "tests/support/span_fixtures.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"

namespace otlp::exporter {
namespace {

using namespace std::chrono_literals;
using test::ExpectedFields;
using test::Q;
using test::ReadAll;
using trace::SpanContext;
using trace::SpanKind;
using trace::SpanStatusCode;
using trace::SystemTime;

namespace fs = std::filesystem;

// A generous upper bound so that a stuck exporter fails the test instead of hanging it.
constexpr auto kFlushLimit = 60s;

// Runs e2e_spans.js on the receiver's output: "path=value" lines keyed by span name. A repeated
// path means two spans of the same name: each span must arrive exactly once.
std::map<std::string, std::string> FlatSpans(const std::string& receiver_out) {
  return test::ParseFlatOutput(test::RunNodeScript("e2e_spans.js", "'" + receiver_out + "'"),
                               "e2e_spans.js");
}

// ---- the scenario ----

constexpr int64_t kT0 = 1700000000123456789;  // start of the server span, in ns since the epoch

SystemTime At(int64_t offset_ns) {
  return SystemTime(
      std::chrono::duration_cast<SystemTime::duration>(std::chrono::nanoseconds(kT0 + offset_ns)));
}
std::string Ns(int64_t offset_ns) {
  return Q(std::to_string(kT0 + offset_ns));
}

constexpr std::string_view kRemoteTrace = "0af7651916cd43dd8448eb211c80319c";
constexpr std::string_view kRemoteParent = "b7ad6b7169203331";
constexpr std::string_view kTraceState = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";
constexpr std::string_view kLinkTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr std::string_view kLinkSpan = "00f067aa0ba902b7";
constexpr std::string_view kLinkTraceState = "vendor=abc,other=x";
constexpr std::string_view kResourceSchema = "https://opentelemetry.io/schemas/1.24.0";
constexpr std::string_view kScopeSchema = "https://example.com/e2e-scope";

trace::SpanLimits SmallLimits() {
  trace::SpanLimits l;
  l.attribute_count = 10;
  l.attribute_value_length = 16;
  l.event_count = 3;
  l.link_count = 2;
  l.event_attribute_count = 2;
  l.link_attribute_count = 2;
  return l;
}

trace::Resource MakeResource() {
  OwnedAttributes a;
  a.Set("service.name", "e2e-service");
  a.Set("deployment.environment.name", "test");
  a.Set("res.count", 3);
  a.Set("res.ratio", 0.5);
  a.Set("res.enabled", true);
  a.Set("res.tags", OwnedAttributeValue(std::vector<std::string>{"x", "y"}));
  return trace::Resource(std::move(a), std::string(kResourceSchema));
}

// Span ids the SDK generated, for the expectations.
struct Ids {
  std::string server, client, producer, grandchild, root, root_trace;
};

// Creates the spans through the public API (see Expect() for what each must look like).
Ids MakeSpans(trace::TracerProvider& provider) {
  trace::Tracer lib = provider.GetTracer("e2e.lib", "1.2.3", kScopeSchema);
  trace::Tracer other = provider.GetTracer("e2e.other");
  Ids ids;

  // The incoming request: W3C headers of a remote, sampled parent with a tracestate.
  const std::string traceparent =
      "00-" + std::string(kRemoteTrace) + "-" + std::string(kRemoteParent) + "-01";
  propagation::MapCarrier headers{{"traceparent", traceparent}, {"tracestate", kTraceState}};
  const trace::Context incoming = propagation::TraceContextPropagator().Extract(headers);
  EXPECT_TRUE(incoming.span_context().IsValid());
  EXPECT_TRUE(incoming.span_context().IsRemote());

  // A new trace, unrelated to the request; the server span links to it.
  trace::Span root = other.StartSpan(
      "root-consumer", {.kind = SpanKind::kConsumer, .root = true, .start_time = At(0)});
  ids.root = root.GetContext().span_id().ToHex();
  ids.root_trace = root.GetContext().trace_id().ToHex();

  const SpanContext start_links[] = {root.GetContext()};
  trace::Span server =
      lib.StartSpan("server", {{"http.request.method", "GET"}, {"http.response.status_code", 200}},
                    {.kind = SpanKind::kServer,
                     .parent = incoming.span_context(),
                     .start_time = At(0),
                     .links = start_links});
  ids.server = server.GetContext().span_id().ToHex();

  const std::string_view tags[] = {"a", "b\xc3\xa9ta", "", "abcdefghijklmnopqrstuvwxyz"};
  const bool flags[] = {true, false, true};
  const int64_t codes[] = {1, -2, int64_t{1} << 40};
  const double weights[] = {0.5, -1.25, 1e300};
  // 20 two-byte characters: the limit of 16 counts characters, not bytes.
  std::string long_value;
  for (int i = 0; i < 20; ++i) long_value += "\xc3\xa9";
  server.SetAttribute("ok", true)
      .SetAttribute("ratio", -2.5)
      .SetAttribute("big", std::numeric_limits<int64_t>::max())
      .SetAttribute("tags", std::span<const std::string_view>(tags))
      .SetAttribute("flags", std::span<const bool>(flags))
      .SetAttribute("codes", std::span<const int64_t>(codes))
      .SetAttribute("weights", std::span<const double>(weights))
      .SetAttribute("long", long_value)
      // Past the count limit of 10: dropped and counted.
      .SetAttribute("dropped.1", 1)
      .SetAttribute("dropped.2", "x")
      // Replacing an existing key is not an addition: kept in place even at the limit.
      .SetAttribute("ok", false);

  server.AddEvent("request.received", {{"bytes", 512}, {"peer", "10.0.0.1"}}, At(1000));
  server.AddEvent("cache.miss", std::span<const KeyValue>(), At(2000));
  server.AddEvent("retry", {{"attempt", 2}, {"backoff_ms", 1.5}, {"final", false}}, At(3000));
  server.AddEvent("one.too.many", {{"x", 1}}, At(4000));  // past the event limit of 3

  const SpanContext remote_link(*trace::TraceId::FromHex(kLinkTrace),
                                *trace::SpanId::FromHex(kLinkSpan), trace::TraceFlags(0), true,
                                trace::TraceState::FromHeader(kLinkTraceState));
  server.AddLink(remote_link, {{"link.kind", "follows"}, {"n", 1}, {"over", true}});
  server.AddLink(remote_link, {{"past", "limit"}});  // past the link limit of 2

  {
    trace::Span client = lib.StartSpan(
        "child-client",
        {.kind = SpanKind::kClient, .parent = server.GetContext(), .start_time = At(10)});
    ids.client = client.GetContext().span_id().ToHex();
    trace::Span grandchild =
        lib.StartSpan("grandchild", {.parent = client.GetContext(), .start_time = At(12)});
    ids.grandchild = grandchild.GetContext().span_id().ToHex();
    grandchild.End(At(15));
    client.SetStatus(SpanStatusCode::kOk, "description ignored for ok");
    client.SetStatus(SpanStatusCode::kError, "ok is final");
    client.End(At(20));
  }
  {
    trace::Scope scope(server);  // implicit parent
    trace::Span producer = other.StartSpan("child-producer", {{"messaging.system", "kafka"}},
                                           {.kind = SpanKind::kProducer, .start_time = At(30)});
    ids.producer = producer.GetContext().span_id().ToHex();
    producer.End(At(40));
  }
  server.SetStatus(SpanStatusCode::kError, "upstream timeout");
  server.End(At(100000000));
  root.End(At(5));
  return ids;
}

void AddResourceAndScope(ExpectedFields& x, const std::string& span, bool lib_scope) {
  const std::string r = span + ".resource.attributes";
  x.Attr(r, 0, "service.name", "stringValue", Q("e2e-service"));
  x.Attr(r, 1, "deployment.environment.name", "stringValue", Q("test"));
  x.Attr(r, 2, "res.count", "intValue", Q("3"));
  x.Attr(r, 3, "res.ratio", "doubleValue", "0.5");
  x.Attr(r, 4, "res.enabled", "boolValue", "true");
  x.ArrayAttr(r, 5, "res.tags", "stringValue", {Q("x"), Q("y")});
  x.Add(span + ".resourceSchemaUrl", Q(kResourceSchema));
  if (lib_scope) {
    x.Add(span + ".scope.name", Q("e2e.lib"));
    x.Add(span + ".scope.version", Q("1.2.3"));
    x.Add(span + ".scopeSchemaUrl", Q(kScopeSchema));
  } else {
    x.Add(span + ".scope.name", Q("e2e.other"));
  }
}

ExpectedFields Expect(const Ids& ids) {
  ExpectedFields x;
  const std::string sampled_local = "257";  // sampled | 0x100 (is-remote known), local parent
  // A trace this SDK started also has the W3C random-trace-id flag (0x02); the remote trace
  // above came without it, so its spans do not get it.
  const std::string sampled_random_local = "259";

  // server: remote parent from traceparent/tracestate; everything set.
  {
    const std::string s = "span[server]";
    x.Add(s + ".traceId", Q(kRemoteTrace));
    x.Add(s + ".spanId", Q(ids.server));
    x.Add(s + ".parentSpanId", Q(kRemoteParent));
    x.Add(s + ".traceState", Q(kTraceState));
    x.Add(s + ".flags", "769");  // sampled | 0x100 | 0x200 (parent is remote)
    x.Add(s + ".kind", "2");
    x.Add(s + ".startTimeUnixNano", Ns(0));
    x.Add(s + ".endTimeUnixNano", Ns(100000000));
    const std::string a = s + ".attributes";
    x.Attr(a, 0, "http.request.method", "stringValue", Q("GET"));
    x.Attr(a, 1, "http.response.status_code", "intValue", Q("200"));
    x.Attr(a, 2, "ok", "boolValue", "false");
    x.Attr(a, 3, "ratio", "doubleValue", "-2.5");
    x.Attr(a, 4, "big", "intValue", Q("9223372036854775807"));
    x.ArrayAttr(a, 5, "tags", "stringValue",
                {Q("a"), Q("b\xc3\xa9ta"), Q(""), Q("abcdefghijklmnop")});
    x.ArrayAttr(a, 6, "flags", "boolValue", {"true", "false", "true"});
    x.ArrayAttr(a, 7, "codes", "intValue", {Q("1"), Q("-2"), Q("1099511627776")});
    x.ArrayAttr(a, 8, "weights", "doubleValue", {"0.5", "-1.25", "1e+300"});
    std::string truncated;
    for (int i = 0; i < 16; ++i) truncated += "\xc3\xa9";
    x.Attr(a, 9, "long", "stringValue", Q(truncated));
    x.Add(s + ".droppedAttributesCount", "2");

    const std::string e = s + ".events";
    x.Add(e + "[0].name", Q("request.received"));
    x.Add(e + "[0].timeUnixNano", Ns(1000));
    x.Attr(e + "[0].attributes", 0, "bytes", "intValue", Q("512"));
    x.Attr(e + "[0].attributes", 1, "peer", "stringValue", Q("10.0.0.1"));
    x.Add(e + "[1].name", Q("cache.miss"));
    x.Add(e + "[1].timeUnixNano", Ns(2000));
    x.Add(e + "[2].name", Q("retry"));
    x.Add(e + "[2].timeUnixNano", Ns(3000));
    x.Attr(e + "[2].attributes", 0, "attempt", "intValue", Q("2"));
    x.Attr(e + "[2].attributes", 1, "backoff_ms", "doubleValue", "1.5");
    x.Add(e + "[2].droppedAttributesCount", "1");
    x.Add(s + ".droppedEventsCount", "1");

    const std::string l = s + ".links";
    x.Add(l + "[0].traceId", Q(ids.root_trace));  // given at start, local, no tracestate
    x.Add(l + "[0].spanId", Q(ids.root));
    x.Add(l + "[0].flags", sampled_random_local);
    x.Add(l + "[1].traceId", Q(kLinkTrace));
    x.Add(l + "[1].spanId", Q(kLinkSpan));
    x.Add(l + "[1].traceState", Q(kLinkTraceState));
    x.Add(l + "[1].flags", "768");  // not sampled | 0x100 | 0x200 (remote)
    x.Attr(l + "[1].attributes", 0, "link.kind", "stringValue", Q("follows"));
    x.Attr(l + "[1].attributes", 1, "n", "intValue", Q("1"));
    x.Add(l + "[1].droppedAttributesCount", "1");
    x.Add(s + ".droppedLinksCount", "1");

    x.Add(s + ".status.code", "2");
    x.Add(s + ".status.message", Q("upstream timeout"));
    AddResourceAndScope(x, s, true);
  }
  // child-client: explicit local parent, status ok (its description dropped, later error ignored).
  {
    const std::string s = "span[child-client]";
    x.Add(s + ".traceId", Q(kRemoteTrace));
    x.Add(s + ".spanId", Q(ids.client));
    x.Add(s + ".parentSpanId", Q(ids.server));
    x.Add(s + ".traceState", Q(kTraceState));
    x.Add(s + ".flags", sampled_local);
    x.Add(s + ".kind", "3");
    x.Add(s + ".startTimeUnixNano", Ns(10));
    x.Add(s + ".endTimeUnixNano", Ns(20));
    x.Add(s + ".status.code", "1");
    AddResourceAndScope(x, s, true);
  }
  // grandchild: default kind (internal), nothing else.
  {
    const std::string s = "span[grandchild]";
    x.Add(s + ".traceId", Q(kRemoteTrace));
    x.Add(s + ".spanId", Q(ids.grandchild));
    x.Add(s + ".parentSpanId", Q(ids.client));
    x.Add(s + ".traceState", Q(kTraceState));
    x.Add(s + ".flags", sampled_local);
    x.Add(s + ".kind", "1");
    x.Add(s + ".startTimeUnixNano", Ns(12));
    x.Add(s + ".endTimeUnixNano", Ns(15));
    AddResourceAndScope(x, s, true);
  }
  // child-producer: parent from the current Scope, second scope.
  {
    const std::string s = "span[child-producer]";
    x.Add(s + ".traceId", Q(kRemoteTrace));
    x.Add(s + ".spanId", Q(ids.producer));
    x.Add(s + ".parentSpanId", Q(ids.server));
    x.Add(s + ".traceState", Q(kTraceState));
    x.Add(s + ".flags", sampled_local);
    x.Add(s + ".kind", "4");
    x.Add(s + ".startTimeUnixNano", Ns(30));
    x.Add(s + ".endTimeUnixNano", Ns(40));
    x.Attr(s + ".attributes", 0, "messaging.system", "stringValue", Q("kafka"));
    AddResourceAndScope(x, s, false);
  }
  // root-consumer: a new trace, no parent, no tracestate.
  {
    const std::string s = "span[root-consumer]";
    x.Add(s + ".traceId", Q(ids.root_trace));
    x.Add(s + ".spanId", Q(ids.root));
    x.Add(s + ".flags", sampled_random_local);
    x.Add(s + ".kind", "5");
    x.Add(s + ".startTimeUnixNano", Ns(0));
    x.Add(s + ".endTimeUnixNano", Ns(5));
    AddResourceAndScope(x, s, false);
  }
  return x;
}
constexpr size_t kSpanCount = 5;

// ---- the test ----

struct Combination {
  const char* name;
  OtlpProtocol protocol;
  Compression compression;
  const char* content_type;
  const char* content_encoding;
  // OTLP/gRPC to grpc_receiver.js (@grpc/grpc-js) instead of OTLP/HTTP to receiver.js.
  bool grpc = false;
  // https:// (gRPC: TLS with ALPN h2) with a certificate from a test CA the exporter trusts.
  bool tls = false;
};

// Names the combination in test output (ctest would otherwise show the struct's bytes).
void PrintTo(const Combination& c, std::ostream* os) {
  *os << c.name;
}

class ExporterE2e : public testing::TestWithParam<Combination> {
 protected:
  void SetUp() override {
    if (const std::string why = test::NodeSkipReason(); !why.empty()) GTEST_SKIP() << why;
    const std::string base =
        testing::TempDir() + "otlp_e2e_" + std::to_string(getpid()) + "_" + GetParam().name;
    out_file_ = base + ".jsonl";
    err_file_ = base + ".stderr";
    fs::remove(out_file_);
    std::vector<std::string> tls_args;
    if (GetParam().tls) {
      ASSERT_TRUE(pki_dir_.ok()) << pki_dir_.error();
      ASSERT_OK_AND_ASSIGN(pki_, test::GenerateTestPki(pki_dir_.path()));
      tls_args = {"--tls-cert=" + pki_.server_cert_file, "--tls-key=" + pki_.server_key_file};
    }
    const std::string error = receiver_.Start(out_file_, err_file_, tls_args);
    ASSERT_TRUE(error.empty()) << error;
  }
  void TearDown() override {
    receiver_.Stop();
    if (HasFailure() && !err_file_.empty()) {
      std::cerr << "receiver.js stderr:\n"
                << ReadAll(err_file_) << "receiver.js log:\n"
                << ReadAll(out_file_);
    }
    if (!out_file_.empty()) fs::remove(out_file_);
    if (!err_file_.empty()) fs::remove(err_file_);
  }

  test::ReceiverProcess receiver_{GetParam().grpc ? "grpc_receiver.js" : "receiver.js"};
  std::string out_file_;
  std::string err_file_;
  test::TempDir pki_dir_{"otlp-e2e-pki-"};
  test::TestPki pki_;  // with Combination::tls
};

TEST_P(ExporterE2e, EveryFieldRoundTrips) {
  const Combination& c = GetParam();
  ASSERT_OK_AND_ASSIGN(
      auto created, OtlpHttpExporter::Create({
                        .endpoint = std::string(c.tls ? "https" : "http") + "://localhost:" +
                                    std::to_string(receiver_.port()) + (c.grpc ? "" : "/v1/traces"),
                        .protocol = c.protocol,
                        .timeout = std::chrono::milliseconds(kFlushLimit),
                        .compression = c.compression,
                        .certificate_file = c.tls ? std::optional(pki_.ca_cert_file) : std::nullopt,
                    }));
  OtlpHttpExporter* exporter = created.get();  // owned by the processor from here on
  auto provider = trace::TracerProvider::Create({
      // A long schedule delay: the spans leave on ForceFlush, not on a timer.
      .processor = trace::BatchSpanProcessor::Create(std::move(created),
                                                     {.schedule_delay = std::chrono::hours(1)}),
      .sampler = trace::Sampler::AlwaysOn(),
      .resource = MakeResource(),
      .limits = SmallLimits(),
  });

  const Ids ids = MakeSpans(*provider);
  ASSERT_TRUE(provider->ForceFlush(kFlushLimit));
  // The receiver logs each request before answering it, so after the flush the log is complete.
  const ExporterStats stats = exporter->stats();
  EXPECT_EQ(stats.spans_exported, kSpanCount);
  EXPECT_EQ(stats.spans_failed, 0u);
  EXPECT_EQ(stats.retries, 0u);

  const auto got = FlatSpans(out_file_);
  // Lines about requests (request[…]) are checked below.
  Expect(ids).Check(got, "request[");

  // Every request the exporter sent was decoded and logged, with the right headers.
  size_t requests = 0, spans = 0;
  for (const auto& [path, value] : got) {
    ASSERT_TRUE(!path.starts_with("error[") && !path.starts_with("failed["))
        << path << "=" << value;
    if (!path.starts_with("request[")) continue;
    const std::string field = path.substr(path.find("].") + 2);
    if (field == "contentType") {
      ++requests;
      EXPECT_EQ(value, Q(c.content_type)) << path;
    } else if (field == "contentEncoding") {
      EXPECT_EQ(value, Q(c.content_encoding)) << path;
    } else if (field == "userAgent") {
      EXPECT_EQ(value, Q(otlp::kUserAgent)) << path;
      EXPECT_EQ(value, Q(std::string("otlp-cpp/") + OTLP_VERSION_STRING)) << path;
    } else if (field == "spans") {
      spans += std::stoul(value);
    } else {
      ADD_FAILURE() << "unexpected " << path;
    }
  }
  EXPECT_GE(requests, 1u);
  EXPECT_EQ(requests, stats.requests);
  EXPECT_EQ(spans, kSpanCount);

  EXPECT_TRUE(provider->Shutdown(kFlushLimit));
}

// The other side of grpc_tls: a gRPC server whose certificate the exporter does not trust gets
// nothing, and the export fails (not retried: the certificate would fail again).
TEST(ExporterE2eGrpcTls, UntrustedServerCertificateFailsTheExport) {
  if (const std::string why = test::NodeSkipReason(); !why.empty()) GTEST_SKIP() << why;
  test::TempDir dir("otlp-e2e-untrusted-");
  ASSERT_TRUE(dir.ok()) << dir.error();
  ASSERT_OK_AND_ASSIGN(test::TestPki pki, test::GenerateTestPki(dir.path()));
  test::ReceiverProcess receiver("grpc_receiver.js");
  const std::string out_file = dir.Join("out.jsonl");
  ASSERT_EQ(
      receiver.Start(out_file, dir.Join("stderr"),
                     {"--tls-cert=" + pki.server_cert_file, "--tls-key=" + pki.server_key_file}),
      "");
  ASSERT_OK_AND_ASSIGN(auto exporter,
                       OtlpHttpExporter::Create({
                           .endpoint = "https://localhost:" + std::to_string(receiver.port()),
                           .protocol = OtlpProtocol::kGrpc,
                           .timeout = std::chrono::milliseconds(kFlushLimit),
                           .certificate_file = pki.other_ca_cert_file,
                           .synchronous = true,
                       }));
  trace::SpanData span = test::MinimalSpan();
  const trace::SpanData* batch[] = {&span};
  EXPECT_EQ(exporter->Export(batch), trace::ExportResult::kFailure);
  const ExporterStats stats = exporter->stats();
  EXPECT_EQ(stats.spans_failed, 1u);
  EXPECT_EQ(stats.retries, 0u);
  receiver.Stop();
  EXPECT_EQ(ReadAll(out_file), "");
}

INSTANTIATE_TEST_SUITE_P(
    AllEncodings, ExporterE2e,
    testing::Values(Combination{"proto", OtlpProtocol::kHttpProtobuf, Compression::kNone,
                                "application/x-protobuf", "identity"},
                    Combination{"proto_gzip", OtlpProtocol::kHttpProtobuf, Compression::kGzip,
                                "application/x-protobuf", "gzip"},
                    Combination{"json", OtlpProtocol::kHttpJson, Compression::kNone,
                                "application/json", "identity"},
                    Combination{"json_gzip", OtlpProtocol::kHttpJson, Compression::kGzip,
                                "application/json", "gzip"},
                    // Received by an independent gRPC server over h2c.
                    Combination{"grpc", OtlpProtocol::kGrpc, Compression::kNone, "application/grpc",
                                "identity", true},
                    // grpc-js inflates the message and drops grpc-encoding from the metadata it
                    // hands over, so the log says identity; that the message went compressed
                    // is checked in grpc_transport_test.
                    Combination{"grpc_gzip", OtlpProtocol::kGrpc, Compression::kGzip,
                                "application/grpc", "identity", true},
                    // gRPC over TLS (ALPN h2), the certificate verified against the test CA.
                    Combination{"grpc_tls", OtlpProtocol::kGrpc, Compression::kGzip,
                                "application/grpc", "identity", true, true}),
    [](const testing::TestParamInfo<Combination>& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace otlp::exporter
