// Fault injection for the OTLP/HTTP exporter against an in-process HTTP receiver whose answers
// are scripted per request: throttling, gateway errors, bad data, slow and absent receivers,
// partial success, compression, headers and connection reuse.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "otlp/core/config.h"
#include "otlp/core/log.h"
#include "otlp/core/version.h"
#include "otlp/exporter/otlp_http_exporter.h"
#include "otlp/net/http_client.h"
#include "otlp/net/http_server.h"
#include "otlp/trace/batch_processor.h"
#include "otlp/trace/provider.h"
#include "otlp/trace/resource.h"
#include "otlp/trace/span_data.h"
#include "tests/support/raw_tcp_server.h"
#include "tests/support/log_capture.h"
#include "tests/support/scripted_http_server.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"

namespace otlp::exporter {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using test::ScriptedHttpServer;
using test::ScriptedReply;
using ::testing::HasSubstr;
using test::LogCapture;
using Env = std::map<std::string, std::string, std::less<>>;

// Generous upper bounds: only there so that a broken build fails instead of hanging.
constexpr auto kHangGuard = seconds(30);

// Fast retries so that tests stay short; the export timeout bounds everything anyway.
constexpr RetryPolicy kFastRetry{.max_attempts = 5,
                                 .initial_backoff = milliseconds(50),
                                 .multiplier = 2.0,
                                 .max_backoff = milliseconds(200),
                                 .jitter = 0.2};

// The receiver, started with a script of replies (then 200 with no body).
std::unique_ptr<ScriptedHttpServer> StartReceiver(std::vector<ScriptedReply> script = {},
                                                  ScriptedHttpServer::Options options = {}) {
  auto server = ScriptedHttpServer::Start(std::move(options));
  EXPECT_OK(server);
  if (!server.ok()) return nullptr;
  (*server)->EnqueueAll(std::move(script));
  return std::move(*server);
}

trace::InstrumentationScope MakeScope() {
  trace::InstrumentationScope scope;
  scope.name = "exporter-fault-test";
  scope.version = "1";
  return scope;
}

// A handful of spans with the pointers the encoder needs.
class TestBatch {
 public:
  explicit TestBatch(size_t n) : spans_(n) {
    for (size_t i = 0; i < n; ++i) {
      trace::TraceId tid;
      tid.mutable_bytes()[0] = 0x4b;
      tid.mutable_bytes()[15] = static_cast<uint8_t>(i + 1);
      trace::SpanId sid;
      sid.mutable_bytes()[7] = static_cast<uint8_t>(i + 1);
      auto& s = spans_[i];
      s.context = trace::SpanContext(tid, sid, trace::TraceFlags(1), false);
      s.name = "fault-test-span";
      s.kind = trace::SpanKind::kClient;
      s.start_unix_nano = 1700000000000000000 + static_cast<int64_t>(i);
      s.end_unix_nano = s.start_unix_nano + 1000;
      s.scope = &scope_;
      s.resource = &resource_;
      ptrs_.push_back(&s);
    }
  }
  std::span<const trace::SpanData* const> span() const { return ptrs_; }
  size_t size() const { return ptrs_.size(); }

 private:
  trace::InstrumentationScope scope_ = MakeScope();
  trace::Resource resource_;
  std::vector<trace::SpanData> spans_;
  std::vector<const trace::SpanData*> ptrs_;
};

std::unique_ptr<OtlpHttpExporter> MakeExporter(OtlpHttpExporterOptions o,
                                               config::Reader* env = nullptr) {
  auto e = OtlpHttpExporter::Create(std::move(o), env);
  EXPECT_OK(e);
  return e.ok() ? std::move(*e) : nullptr;
}

// Synchronous exports: Export() returns the real outcome.
OtlpHttpExporterOptions Sync(const ScriptedHttpServer& r, milliseconds timeout = seconds(3)) {
  return {.endpoint = r.Url("/v1/traces"),
          .timeout = timeout,
          .retry = kFastRetry,
          .synchronous = true};
}

// Protobuf helpers for the collector's answers.
std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}
std::string LengthDelimited(int field, const std::string& payload) {
  return std::string(1, static_cast<char>((field << 3) | 2)) + Varint(payload.size()) + payload;
}
// google.rpc.Status{code = 3, message}
std::string RpcStatus(const std::string& message) {
  return std::string("\x08\x03", 2) + LengthDelimited(2, message);
}
// ExportTraceServiceResponse{partial_success{rejected_spans, error_message}}
std::string PartialSuccessBody(int64_t rejected, const std::string& message) {
  std::string inner =
      "\x08" + Varint(static_cast<uint64_t>(rejected)) + LengthDelimited(2, message);
  return LengthDelimited(1, inner);
}

ScriptedReply Reply(int code, net::Headers headers = {}, std::string body = {}) {
  return {.status = code, .headers = std::move(headers), .body = std::move(body)};
}

// ---------------------------------------------------------------------------------------------

TEST(ExporterFault, RetriesServiceUnavailableThenDelivers) {
  auto receiver = StartReceiver({Reply(503), Reply(200)});
  ASSERT_NE(receiver, nullptr);
  auto exporter = MakeExporter(Sync(*receiver));
  ASSERT_NE(exporter, nullptr);
  TestBatch batch(3);

  EXPECT_EQ(exporter->Export(batch.span()), trace::ExportResult::kSuccess);

  auto reqs = receiver->requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].body, reqs[1].body);  // the same batch again
  ExporterStats s = exporter->stats();
  EXPECT_EQ(s.requests, 2u);
  EXPECT_EQ(s.retries, 1u);
  EXPECT_EQ(s.spans_exported, 3u);
  EXPECT_EQ(s.spans_failed, 0u);
  EXPECT_EQ(s.bytes_sent, reqs[0].wire_body_size + reqs[1].wire_body_size);
}

TEST(ExporterFault, RetriesGatewayErrorsAndLostConnections) {
  // The 502 closes its connection, so the dropped request is the first on a fresh connection
  // (the HTTP client itself retries once when a *reused* connection turns out to be dead).
  auto receiver = StartReceiver(
      {Reply(502, {{"Connection", "close"}}), ScriptedReply::Drop(), Reply(504), Reply(200)});
  ASSERT_NE(receiver, nullptr);
  auto exporter = MakeExporter(Sync(*receiver));
  ASSERT_NE(exporter, nullptr);
  TestBatch batch(2);

  EXPECT_EQ(exporter->Export(batch.span()), trace::ExportResult::kSuccess);
  EXPECT_EQ(receiver->request_count(), 4u);
  EXPECT_EQ(exporter->stats().requests, 4u);
  EXPECT_EQ(exporter->stats().retries, 3u);
  EXPECT_EQ(exporter->stats().spans_exported, 2u);
}

TEST(ExporterFault, HonoursRetryAfterOnTooManyRequests) {
  // The computed backoff (20 s) would pass the 10 s export timeout, so the export only succeeds
  // if the server's Retry-After: 1 replaces it.
  auto receiver = StartReceiver({Reply(429, {{"Retry-After", "1"}}), Reply(200)});
  ASSERT_NE(receiver, nullptr);
  OtlpHttpExporterOptions o = Sync(*receiver, seconds(10));
  o.retry.initial_backoff = seconds(20);
  o.retry.max_backoff = seconds(20);
  auto exporter = MakeExporter(std::move(o));
  ASSERT_NE(exporter, nullptr);
  TestBatch batch(1);

  EXPECT_EQ(exporter->Export(batch.span()), trace::ExportResult::kSuccess);
  auto reqs = receiver->requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].body, reqs[1].body);
  EXPECT_EQ(exporter->stats().retries, 1u);
  EXPECT_EQ(exporter->stats().spans_exported, 1u);
}

TEST(ExporterFault, RetryAfterBeyondTheTimeoutGivesUpWithoutWaiting) {
  LogCapture logs;
  auto receiver = StartReceiver({Reply(503, {{"Retry-After", "25"}})});
  ASSERT_NE(receiver, nullptr);
  auto exporter = MakeExporter(Sync(*receiver, seconds(2)));
  ASSERT_NE(exporter, nullptr);
  TestBatch batch(4);

  EXPECT_EQ(exporter->Export(batch.span()), trace::ExportResult::kFailure);
  EXPECT_EQ(receiver->request_count(), 1u);
  ExporterStats s = exporter->stats();
  EXPECT_EQ(s.spans_failed, 4u);
  EXPECT_EQ(s.batches_failed, 1u);
  EXPECT_EQ(s.retries, 0u);
  EXPECT_THAT(logs.text(), HasSubstr("would pass the export timeout"));
}

TEST(ExporterFault, BadRequestIsNotRetriedAndItsMessageLogged) {
  LogCapture logs;
  auto receiver = StartReceiver({Reply(400, {{"Content-Type", "application/x-protobuf"}},
                                       RpcStatus("span name must not be empty"))});
  ASSERT_NE(receiver, nullptr);
  auto exporter = MakeExporter(Sync(*receiver));
  ASSERT_NE(exporter, nullptr);
  TestBatch batch(2);

  EXPECT_EQ(exporter->Export(batch.span()), trace::ExportResult::kFailure);
  EXPECT_EQ(receiver->request_count(), 1u);
  ExporterStats s = exporter->stats();
  EXPECT_EQ(s.requests, 1u);
  EXPECT_EQ(s.retries, 0u);
  EXPECT_EQ(s.spans_failed, 2u);
  EXPECT_EQ(s.batches_failed, 1u);
  EXPECT_EQ(s.spans_exported, 0u);
  EXPECT_THAT(logs.text(), HasSubstr("HTTP 400"));
  EXPECT_THAT(logs.text(), HasSubstr("span name must not be empty"));
}

TEST(ExporterFault, OtherServerErrorsAreFinal) {
  auto receiver = StartReceiver({Reply(500), Reply(200)});
  ASSERT_NE(receiver, nullptr);
  auto exporter = MakeExporter(Sync(*receiver));
  ASSERT_NE(exporter, nullptr);
  TestBatch batch(1);
  EXPECT_EQ(exporter->Export(batch.span()), trace::ExportResult::kFailure);
  EXPECT_EQ(receiver->request_count(), 1u);
}

TEST(ExporterFault, SlowReceiverFailsWithinTheTimeout) {
  auto receiver = StartReceiver({ScriptedReply::Hang(), ScriptedReply::Hang()},
                                {.default_reply = ScriptedReply::Hang()});
  ASSERT_NE(receiver, nullptr);
  auto exporter = MakeExporter(Sync(*receiver, milliseconds(1500)));
  ASSERT_NE(exporter, nullptr);
  TestBatch batch(2);

  // Returns (rather than hanging on the receiver) and counts the loss.
  EXPECT_EQ(exporter->Export(batch.span()), trace::ExportResult::kFailure);
  ExporterStats s = exporter->stats();
  EXPECT_EQ(s.spans_failed, 2u);
  EXPECT_EQ(s.batches_failed, 1u);
  EXPECT_GE(s.requests, 1u);
  EXPECT_EQ(s.spans_exported, 0u);
}

TEST(ExporterFault, AbsentReceiverIsRetriedUntilTheDeadline) {
  std::string url;
  {
    auto gone = StartReceiver();
    ASSERT_NE(gone, nullptr);
    url = gone->Url("/v1/traces");
  }  // stopped: connections to its port are refused
  auto exporter = MakeExporter({.endpoint = url,
                                .timeout = seconds(2),
                                .retry = {.max_attempts = 1000,
                                          .initial_backoff = milliseconds(100),
                                          .max_backoff = milliseconds(400)},
                                .synchronous = true});
  ASSERT_NE(exporter, nullptr);
  TestBatch batch(3);

  EXPECT_EQ(exporter->Export(batch.span()), trace::ExportResult::kFailure);
  ExporterStats s = exporter->stats();
  // It kept retrying (the attempt limit is far away) and stopped at the deadline.
  EXPECT_GE(s.retries, 2u);
  EXPECT_LT(s.retries, 999u);
  EXPECT_EQ(s.requests, s.retries + 1);
  EXPECT_EQ(s.spans_failed, 3u);
  EXPECT_EQ(s.batches_failed, 1u);
}

TEST(ExporterFault, GzipBodyInflatesToTheUncompressedBody) {
  auto receiver = StartReceiver();
  ASSERT_NE(receiver, nullptr);
  TestBatch batch(20);
  OtlpHttpExporterOptions gzip = Sync(*receiver);
  gzip.compression = Compression::kGzip;
  auto e1 = MakeExporter(Sync(*receiver));
  auto e2 = MakeExporter(std::move(gzip));
  ASSERT_NE(e1, nullptr);
  ASSERT_NE(e2, nullptr);

  EXPECT_EQ(e1->Export(batch.span()), trace::ExportResult::kSuccess);
  EXPECT_EQ(e2->Export(batch.span()), trace::ExportResult::kSuccess);

  auto reqs = receiver->requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].Header("Content-Encoding"), std::nullopt);
  EXPECT_FALSE(reqs[0].gzip);
  EXPECT_EQ(reqs[1].Header("Content-Encoding"), "gzip");
  ASSERT_TRUE(reqs[1].gzip);
  EXPECT_EQ(reqs[1].decode_error, "");
  ASSERT_FALSE(reqs[0].body.empty());
  EXPECT_EQ(reqs[1].body, reqs[0].body);  // decoded gzip == the uncompressed request
  EXPECT_LT(reqs[1].wire_body_size, reqs[0].wire_body_size);
  EXPECT_EQ(e2->stats().bytes_sent, reqs[1].wire_body_size);
}

TEST(ExporterFault, PartialSuccessIsLoggedCountedAndNotRetried) {
  LogCapture logs;
  auto receiver = StartReceiver({Reply(200, {{"Content-Type", "application/x-protobuf"}},
                                       PartialSuccessBody(2, "spans too old"))});
  ASSERT_NE(receiver, nullptr);
  auto exporter = MakeExporter(Sync(*receiver));
  ASSERT_NE(exporter, nullptr);
  TestBatch batch(5);

  EXPECT_EQ(exporter->Export(batch.span()), trace::ExportResult::kSuccess);
  EXPECT_EQ(receiver->request_count(), 1u);
  ExporterStats s = exporter->stats();
  EXPECT_EQ(s.spans_rejected, 2u);
  EXPECT_EQ(s.spans_exported, 3u);
  EXPECT_EQ(s.retries, 0u);
  EXPECT_THAT(logs.text(), HasSubstr("rejected 2 of 5 spans"));
  EXPECT_THAT(logs.text(), HasSubstr("spans too old"));
}

TEST(ExporterFault, HeadersFromTheEnvironmentArrive) {
  auto receiver = StartReceiver();
  ASSERT_NE(receiver, nullptr);
  config::Reader env(Env{{"OTEL_EXPORTER_OTLP_ENDPOINT", receiver->base_url()},
                         {"OTEL_EXPORTER_OTLP_HEADERS", "api-key=s3cr%3Dt,X-Tenant=acme%20corp"},
                         {"OTEL_EXPORTER_OTLP_TIMEOUT", "3000"}});
  auto exporter = MakeExporter({.synchronous = true}, &env);
  ASSERT_NE(exporter, nullptr);
  EXPECT_TRUE(env.warnings().empty());
  TestBatch batch(1);

  EXPECT_EQ(exporter->Export(batch.span()), trace::ExportResult::kSuccess);
  auto reqs = receiver->requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target, "/v1/traces");
  EXPECT_EQ(reqs[0].Header("api-key"), "s3cr=t");
  EXPECT_EQ(reqs[0].Header("x-tenant"), "acme corp");
}

TEST(ExporterFault, RequestCarriesUserAgentAndContentType) {
  auto receiver = StartReceiver();
  ASSERT_NE(receiver, nullptr);
  OtlpHttpExporterOptions j = Sync(*receiver);
  j.protocol = OtlpProtocol::kHttpJson;
  auto proto = MakeExporter(Sync(*receiver));
  auto json = MakeExporter(std::move(j));
  ASSERT_NE(proto, nullptr);
  ASSERT_NE(json, nullptr);
  TestBatch batch(1);

  EXPECT_EQ(proto->Export(batch.span()), trace::ExportResult::kSuccess);
  EXPECT_EQ(json->Export(batch.span()), trace::ExportResult::kSuccess);
  auto reqs = receiver->requests();
  ASSERT_EQ(reqs.size(), 2u);
  for (const auto& r : reqs) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/v1/traces");
    EXPECT_EQ(r.Header("User-Agent"), std::string_view(kUserAgent));
  }
  EXPECT_THAT(std::string(kUserAgent), ::testing::StartsWith("otlp-cpp/"));
  EXPECT_EQ(reqs[0].Header("Content-Type"), "application/x-protobuf");
  EXPECT_EQ(reqs[1].Header("Content-Type"), "application/json");
  ASSERT_FALSE(reqs[1].body.empty());
  EXPECT_EQ(reqs[1].body.front(), '{');
}

TEST(ExporterFault, KeepAliveReusesOneConnection) {
  auto receiver = StartReceiver();
  ASSERT_NE(receiver, nullptr);
  auto exporter = MakeExporter(Sync(*receiver));
  ASSERT_NE(exporter, nullptr);
  TestBatch batch(2);
  constexpr int kExports = 25;
  for (int i = 0; i < kExports; ++i) {
    ASSERT_EQ(exporter->Export(batch.span()), trace::ExportResult::kSuccess) << i;
  }
  EXPECT_EQ(receiver->request_count(), static_cast<size_t>(kExports));
  EXPECT_EQ(receiver->connections_accepted(), 1u);
  EXPECT_EQ(exporter->stats().spans_exported, 2u * kExports);
}

TEST(ExporterFault, PipelinedExportsAllArriveAfterForceFlush) {
  auto receiver = StartReceiver({Reply(503)});  // the first batch needs a retry
  ASSERT_NE(receiver, nullptr);
  auto exporter = MakeExporter({.endpoint = receiver->Url("/v1/traces"),
                                .timeout = seconds(3),
                                .retry = kFastRetry,
                                .max_concurrent_requests = 2});
  ASSERT_NE(exporter, nullptr);
  constexpr int kBatches = 6;
  std::vector<std::unique_ptr<TestBatch>> batches;
  for (int i = 0; i < kBatches; ++i) {
    batches.push_back(std::make_unique<TestBatch>(3));
    EXPECT_EQ(exporter->Export(batches.back()->span()), trace::ExportResult::kSuccess);
  }
  batches.clear();  // the exporter must not need the spans after Export returns

  ASSERT_TRUE(exporter->ForceFlush(kHangGuard));
  ExporterStats s = exporter->stats();
  EXPECT_EQ(s.spans_exported, 3u * kBatches);
  EXPECT_EQ(s.requests, kBatches + 1u);
  EXPECT_EQ(s.retries, 1u);
  EXPECT_EQ(receiver->request_count(), kBatches + 1u);
  EXPECT_TRUE(exporter->Shutdown(kHangGuard));
}

TEST(ExporterFault, ShutdownInterruptsABackoffWait) {
  // Retry-After asks for 25 s within a 60 s export timeout; Shutdown must not wait for it.
  auto receiver = StartReceiver({Reply(503, {{"Retry-After", "25"}})});
  ASSERT_NE(receiver, nullptr);
  auto exporter = MakeExporter({.endpoint = receiver->Url("/v1/traces"), .timeout = seconds(60)});
  ASSERT_NE(exporter, nullptr);
  TestBatch batch(2);

  EXPECT_EQ(exporter->Export(batch.span()), trace::ExportResult::kSuccess);  // accepted
  ASSERT_TRUE(receiver->WaitForRequests(1, kHangGuard));
  EXPECT_TRUE(exporter->Shutdown(seconds(10)));
  ExporterStats s = exporter->stats();
  EXPECT_EQ(s.requests, 1u);
  EXPECT_EQ(s.spans_failed, 2u);
  EXPECT_EQ(s.batches_failed, 1u);
  // Later exports fail fast, without a request.
  EXPECT_EQ(exporter->Export(batch.span()), trace::ExportResult::kFailure);
  EXPECT_EQ(receiver->request_count(), 1u);
}

// ---- Shutdown within its bound while an export is in flight ----

// A request the collector never answers used to hold Shutdown (or the destructor after it)
// until the attempt's own timeout: 30 s when the export timeout is 0 ("no limit"), forever in a
// loop of retries. These tests wait at most this long for a 300 ms shutdown, well below that.
constexpr auto kWellBeforeTheAttemptTimeout = seconds(20);

// Runs `f` on another thread; true when it finished within `limit`.
template <typename F>
bool FinishesWithin(std::chrono::seconds limit, F&& f) {
  auto done = std::async(std::launch::async, std::forward<F>(f));
  if (done.wait_for(limit) == std::future_status::ready) return true;
  ADD_FAILURE() << "still running after " << limit.count() << " s";
  done.wait();  // the future's destructor would wait anyway
  return false;
}

TEST(ExporterFault, ShutdownCancelsARequestToASilentCollectorAtItsDeadline) {
  auto receiver = StartReceiver({}, {.default_reply = ScriptedReply::Hang()});
  ASSERT_NE(receiver, nullptr);
  // OTEL_EXPORTER_OTLP_TIMEOUT=0: no export timeout at all, as in the report.
  config::Reader env(Env{{"OTEL_EXPORTER_OTLP_ENDPOINT", receiver->base_url()},
                         {"OTEL_EXPORTER_OTLP_TIMEOUT", "0"}});
  auto exporter = MakeExporter({}, &env);
  ASSERT_NE(exporter, nullptr);
  ASSERT_EQ(exporter->config().timeout.count(), 0);
  LogCapture logs;
  TestBatch batch(3);
  ASSERT_EQ(exporter->Export(batch.span()), trace::ExportResult::kSuccess);  // queued
  ASSERT_TRUE(receiver->WaitForRequests(1, kHangGuard));                     // on the wire

  bool in_time = true;
  ASSERT_TRUE(FinishesWithin(kWellBeforeTheAttemptTimeout,
                             [&] { in_time = exporter->Shutdown(milliseconds(300)); }));
  EXPECT_FALSE(in_time);
  const ExporterStats s = exporter->stats();
  EXPECT_EQ(s.spans_dropped_at_shutdown, 3u);
  EXPECT_EQ(s.spans_failed, 3u);
  EXPECT_EQ(s.spans_exported, 0u);
  EXPECT_EQ(s.requests, 1u);
  EXPECT_THAT(logs.text(),
              HasSubstr("3 spans not delivered within the shutdown timeout of 300 ms were "
                        "dropped (requests cancelled in flight: 1, queued batches not sent: 0)"));
  // Nothing starts after the deadline; destroying the exporter does not wait either.
  EXPECT_EQ(exporter->Export(batch.span()), trace::ExportResult::kFailure);
  EXPECT_TRUE(FinishesWithin(kWellBeforeTheAttemptTimeout, [&] { exporter.reset(); }));
  EXPECT_EQ(receiver->request_count(), 1u);
}

TEST(ExporterFault, ShutdownDropsQueuedBatchesAndSendsNothingAfterItsDeadline) {
  // Two senders, each with a request the collector never answers, and a third export waiting
  // for a free sender.
  auto receiver = StartReceiver({}, {.default_reply = ScriptedReply::Hang()});
  ASSERT_NE(receiver, nullptr);
  auto exporter = MakeExporter({.endpoint = receiver->Url("/v1/traces"),
                                .timeout = seconds(60),
                                .retry = kFastRetry,
                                .max_concurrent_requests = 2});
  ASSERT_NE(exporter, nullptr);
  LogCapture logs;
  TestBatch a(1), b(2), c(4);
  ASSERT_EQ(exporter->Export(a.span()), trace::ExportResult::kSuccess);
  ASSERT_EQ(exporter->Export(b.span()), trace::ExportResult::kSuccess);
  ASSERT_TRUE(receiver->WaitForRequests(2, kHangGuard));  // both senders busy
  // The third export waits for a free sender (back-pressure) until Shutdown refuses it.
  auto third = std::async(std::launch::async, [&] { return exporter->Export(c.span()); });

  ASSERT_TRUE(FinishesWithin(kWellBeforeTheAttemptTimeout,
                             [&] { exporter->Shutdown(milliseconds(300)); }));
  EXPECT_EQ(third.get(), trace::ExportResult::kFailure);
  const ExporterStats s = exporter->stats();
  EXPECT_EQ(s.spans_dropped_at_shutdown, 3u);  // the two requests on the wire
  EXPECT_EQ(s.spans_failed, 7u);               // and the refused export
  EXPECT_EQ(s.requests, 2u);
  EXPECT_THAT(logs.text(), HasSubstr("3 spans not delivered"));
  EXPECT_EQ(receiver->request_count(), 2u);
}

TEST(ExporterFault, BatchProcessorShutdownCutsAnExportToASilentCollectorShort) {
  // The processor's export thread blocks in Export while the one sender waits for a collector
  // that never answers; the processor's Shutdown gives the exporter what is left of its time.
  auto receiver = StartReceiver({}, {.default_reply = ScriptedReply::Hang()});
  ASSERT_NE(receiver, nullptr);
  ASSERT_OK_AND_ASSIGN(auto created,
                       OtlpHttpExporter::Create({.endpoint = receiver->Url("/v1/traces"),
                                                 .timeout = milliseconds(0),
                                                 .retry = kFastRetry}));
  OtlpHttpExporter* exporter = created.get();  // owned by the processor from here on
  auto provider = trace::TracerProvider::Create({
      .processor = trace::BatchSpanProcessor::Create(
          std::move(created), {.max_export_batch_size = 2, .schedule_delay = milliseconds(5)}),
      .sampler = trace::Sampler::AlwaysOn(),
  });
  LogCapture logs;
  trace::Tracer tracer = provider->GetTracer("fault-test");
  for (int i = 0; i < 2; ++i) tracer.StartSpan("first").End();
  ASSERT_TRUE(receiver->WaitForRequests(1, kHangGuard));  // the first batch hangs on the wire
  for (int i = 0; i < 4; ++i) tracer.StartSpan("later").End();

  ASSERT_TRUE(FinishesWithin(kWellBeforeTheAttemptTimeout,
                             [&] { provider->Shutdown(milliseconds(300)); }));
  const ExporterStats s = exporter->stats();
  EXPECT_EQ(s.spans_exported, 0u);
  EXPECT_EQ(s.spans_dropped_at_shutdown, 2u);  // the batch on the wire, cancelled
  EXPECT_EQ(s.requests, 1u);                   // nothing was sent after the deadline
  EXPECT_THAT(logs.text(), HasSubstr("2 spans not delivered within the shutdown timeout"));
  // Destroying the pipeline (processor, exporter, sender threads) does not wait either.
  EXPECT_TRUE(FinishesWithin(kWellBeforeTheAttemptTimeout, [&] { provider.reset(); }));
  EXPECT_EQ(receiver->request_count(), 1u);
}

// ---- A 2xx whose body is cut short ----

// Reads a whole request (headers, then Content-Length bytes of body), then writes `reply` and
// closes: a collector that acknowledges, then drops the connection inside its answer.
test::RawTcpServer::Behavior ReadRequestThenReply(std::string reply) {
  return [reply = std::move(reply)](int fd) {
    std::string in;
    char buf[4096];
    size_t body_at = std::string::npos, length = 0;
    while (body_at == std::string::npos || in.size() < body_at + length) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      in.append(buf, static_cast<size_t>(n));
      if (body_at == std::string::npos && (body_at = in.find("\r\n\r\n")) != std::string::npos) {
        body_at += 4;
        const size_t cl = in.find("Content-Length: ");
        if (cl != std::string::npos && cl < body_at) length = std::stoul(in.substr(cl + 16));
      }
    }
    ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
  };
}

TEST(ExporterFault, SuccessClosedInsideItsBodyIsDeliveredNotRetried) {
  ASSERT_OK_AND_ASSIGN(
      auto server,
      test::RawTcpServer::Start(ReadRequestThenReply(
          "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 100\r\n\r\n"
          "partial answer")));
  auto exporter =
      MakeExporter({.endpoint = "http://127.0.0.1:" + std::to_string(server->port()) + "/v1/traces",
                    .timeout = seconds(10),
                    .retry = kFastRetry,
                    .synchronous = true});
  ASSERT_NE(exporter, nullptr);
  LogCapture logs;
  TestBatch batch(4);

  EXPECT_EQ(exporter->Export(batch.span()), trace::ExportResult::kSuccess);
  const ExporterStats s = exporter->stats();
  EXPECT_EQ(s.spans_exported, 4u);
  EXPECT_EQ(s.spans_failed, 0u);
  EXPECT_EQ(s.requests, 1u);
  EXPECT_EQ(s.retries, 0u);
  EXPECT_EQ(server->connections(), 1u);  // sent once: the collector stores no duplicate
  EXPECT_THAT(logs.text(), HasSubstr("closed the connection inside its response body; 14 bytes "
                                     "arrived: partial answer"));
}

TEST(ExporterFault, RetryableStatusClosedInsideItsBodyIsStillRetried) {
  ASSERT_OK_AND_ASSIGN(auto server, test::RawTcpServer::Start(ReadRequestThenReply(
                                        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: "
                                        "text/plain\r\nContent-Length: 50\r\n\r\n"
                                        "overloa")));
  auto exporter =
      MakeExporter({.endpoint = "http://127.0.0.1:" + std::to_string(server->port()) + "/v1/traces",
                    .timeout = seconds(10),
                    .retry = RetryPolicy{.max_attempts = 2, .initial_backoff = milliseconds(10)},
                    .synchronous = true});
  ASSERT_NE(exporter, nullptr);
  LogCapture logs;
  TestBatch batch(1);

  EXPECT_EQ(exporter->Export(batch.span()), trace::ExportResult::kFailure);
  EXPECT_EQ(exporter->stats().requests, 2u);
  EXPECT_THAT(logs.text(), HasSubstr("HTTP 503: overloa (response body cut short)"));
}

// ---- TLS: https endpoints with the certificate options ----

class ExporterTls : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok()) << dir_.error();
    ASSERT_OK_AND_ASSIGN(pki_, test::GenerateTestPki(dir_.path()));
  }
  std::unique_ptr<ScriptedHttpServer> StartTls(bool require_client_cert) {
    net::ServerTlsOptions tls{.certificate_file = pki_.server_cert_file,
                              .key_file = pki_.server_key_file,
                              .client_ca_file = require_client_cert ? pki_.ca_cert_file : ""};
    return StartReceiver({}, {.tls = tls});
  }
  test::TempDir dir_;
  test::TestPki pki_;
};

TEST_F(ExporterTls, HttpsWithCaFromTheEnvironment) {
  auto receiver = StartTls(false);
  ASSERT_NE(receiver, nullptr);
  ASSERT_THAT(receiver->base_url(), ::testing::StartsWith("https://"));
  config::Reader env(Env{{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", receiver->Url("/v1/traces")},
                         {"OTEL_EXPORTER_OTLP_CERTIFICATE", pki_.ca_cert_file}});
  auto exporter = MakeExporter({.timeout = seconds(5), .synchronous = true}, &env);
  ASSERT_NE(exporter, nullptr);
  TestBatch batch(2);
  EXPECT_EQ(exporter->Export(batch.span()), trace::ExportResult::kSuccess);
  EXPECT_EQ(receiver->request_count(), 1u);
  EXPECT_EQ(exporter->stats().spans_exported, 2u);
}

TEST_F(ExporterTls, MutualTlsWithClientCertificate) {
  auto receiver = StartTls(true);
  ASSERT_NE(receiver, nullptr);
  auto exporter = MakeExporter({.endpoint = receiver->Url("/v1/traces"),
                                .timeout = seconds(5),
                                .certificate_file = pki_.ca_cert_file,
                                .client_key_file = pki_.client_key_file,
                                .client_certificate_file = pki_.client_cert_file,
                                .synchronous = true});
  ASSERT_NE(exporter, nullptr);
  TestBatch batch(1);
  EXPECT_EQ(exporter->Export(batch.span()), trace::ExportResult::kSuccess);
  EXPECT_EQ(receiver->request_count(), 1u);
}

TEST_F(ExporterTls, UntrustedServerFailsWithoutRetrying) {
  auto receiver = StartTls(false);
  ASSERT_NE(receiver, nullptr);
  auto exporter = MakeExporter({.endpoint = receiver->Url("/v1/traces"),
                                .timeout = seconds(5),
                                .certificate_file = pki_.other_ca_cert_file,
                                .retry = kFastRetry,
                                .synchronous = true});
  ASSERT_NE(exporter, nullptr);
  TestBatch batch(1);
  EXPECT_EQ(exporter->Export(batch.span()), trace::ExportResult::kFailure);
  EXPECT_EQ(receiver->request_count(), 0u);
  ExporterStats s = exporter->stats();
  EXPECT_EQ(s.requests, 1u);  // a verification failure is final
  EXPECT_EQ(s.retries, 0u);
  EXPECT_EQ(s.spans_failed, 1u);
}

}  // namespace
}  // namespace otlp::exporter
