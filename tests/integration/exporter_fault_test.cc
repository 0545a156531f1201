// Fault injection for the OTLP/HTTP exporter against an in-process HTTP receiver whose answers
// are scripted per request: throttling, gateway errors, bad data, slow and absent receivers,
// partial success, compression, headers and connection reuse.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <condition_variable>
#include <deque>
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
#include "otlp/trace/resource.h"
#include "otlp/trace/span_data.h"

namespace otlp::exporter {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

// Generous upper bounds: only there so that a broken build fails instead of hanging.
constexpr auto kHangGuard = seconds(30);

// Fast retries so that tests stay short; the export timeout bounds everything anyway.
constexpr RetryPolicy kFastRetry{.max_attempts = 5,
                                 .initial_backoff = milliseconds(50),
                                 .multiplier = 2.0,
                                 .max_backoff = milliseconds(200),
                                 .jitter = 0.2};

struct Reply {
  int status = 200;
  net::Headers headers{};
  std::string body{};
  bool drop_connection = false;  // close without answering
  bool hang = false;             // never answer (until the receiver stops)
};

struct Received {
  std::string method;
  std::string target;
  net::Headers headers;
  std::string body;
  std::string remote_address;
  std::optional<std::string> Header(std::string_view name) const {
    auto h = net::FindHeader(headers, name);
    return h ? std::optional<std::string>(std::string(*h)) : std::nullopt;
  }
};

// An OTLP receiver on 127.0.0.1 that answers requests from a script (then 200 with no body).
class ScriptedReceiver {
 public:
  explicit ScriptedReceiver(std::vector<Reply> script = {})
      : script_(script.begin(), script.end()) {
    runtime_ = net::Runtime::Create();
    net::HttpServer::Options options;
    options.host = "127.0.0.1";
    options.port = 0;
    auto server = net::HttpServer::Start(
        runtime_, std::move(options),
        [this](const net::ServerRequest& req, net::ServerResponse& res) { Handle(req, res); });
    if (!server.ok()) {
      ADD_FAILURE() << "receiver did not start: " << server.status().ToString();
      return;
    }
    server_ = std::move(*server);
  }
  ~ScriptedReceiver() { Stop(); }

  void Stop() {
    if (server_) server_->Stop();
    std::lock_guard<std::mutex> lock(mu_);
    hanging_.clear();  // closes the connections of requests never answered
  }

  std::string url() const { return server_ ? server_->base_url() + "/v1/traces" : ""; }
  std::string base_url() const { return server_ ? server_->base_url() : ""; }
  uint64_t connections() const { return server_ ? server_->connections_accepted() : 0; }

  std::vector<Received> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }
  // Waits until at least `n` requests arrived.
  bool WaitForRequests(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kHangGuard, [&] { return received_.size() >= n; });
  }

 private:
  void Handle(const net::ServerRequest& req, net::ServerResponse& res) {
    Reply reply;
    {
      std::lock_guard<std::mutex> lock(mu_);
      received_.push_back({req.method, req.target, req.headers, req.body, req.remote_address});
      if (!script_.empty()) {
        reply = std::move(script_.front());
        script_.pop_front();
      }
      if (reply.hang) hanging_.push_back(res.Defer());
    }
    cv_.notify_all();
    if (reply.hang) return;
    if (reply.drop_connection) {
      res.close_connection = true;
      return;
    }
    res.status = reply.status;
    res.headers = std::move(reply.headers);
    res.body = std::move(reply.body);
  }

  std::shared_ptr<net::Runtime> runtime_;
  std::unique_ptr<net::HttpServer> server_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Reply> script_;
  std::vector<Received> received_;
  std::vector<std::shared_ptr<net::Responder>> hanging_;
};

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

// Captures otlp-cpp's diagnostics for assertions.
class LogCapture {
 public:
  LogCapture() {
    SetLogHandler([this](LogLevel, std::string_view msg) {
      std::lock_guard<std::mutex> lock(mu_);
      text_ += std::string(msg) + "\n";
    });
  }
  ~LogCapture() { SetLogHandler(nullptr); }
  std::string text() const {
    std::lock_guard<std::mutex> lock(mu_);
    return text_;
  }

 private:
  mutable std::mutex mu_;
  std::string text_;
};

std::unique_ptr<OtlpHttpExporter> MakeExporter(OtlpHttpExporterOptions o,
                                               config::Reader* env = nullptr) {
  auto e = OtlpHttpExporter::Create(std::move(o), env);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return e.ok() ? std::move(*e) : nullptr;
}

OtlpHttpExporterOptions Sync(const ScriptedReceiver& r, milliseconds timeout = seconds(3)) {
  return {.endpoint = r.url(), .timeout = timeout, .retry = kFastRetry, .synchronous = true};
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

std::string Gunzip(const std::string& in) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return "<inflateInit2 failed>";
  std::string out;
  char buf[16384];
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - zs.avail_out);
  }
  inflateEnd(&zs);
  return rc == Z_STREAM_END ? out : "<corrupt gzip stream>";
}

// ---------------------------------------------------------------------------------------------

TEST(ExporterFault, RetriesServiceUnavailableThenDelivers) {
  ScriptedReceiver receiver(std::vector<Reply>{{.status = 503}, {.status = 200}});
  auto exporter = MakeExporter(Sync(receiver));
  ASSERT_NE(exporter, nullptr);
  TestBatch batch(3);

  EXPECT_EQ(exporter->Export(batch.span()), trace::ExportResult::kSuccess);

  auto reqs = receiver.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].body, reqs[1].body);  // the same batch again
  ExporterStats s = exporter->stats();
  EXPECT_EQ(s.requests, 2u);
  EXPECT_EQ(s.retries, 1u);
  EXPECT_EQ(s.spans_exported, 3u);
  EXPECT_EQ(s.spans_failed, 0u);
  EXPECT_EQ(s.bytes_sent, reqs[0].body.size() * 2);
}

TEST(ExporterFault, RetriesGatewayErrorsAndLostConnections) {
  // The 502 closes its connection, so the dropped request is the first on a fresh connection
  // (the HTTP client itself retries once when a *reused* connection turns out to be dead).
  ScriptedReceiver receiver(
      std::vector<Reply>{{.status = 502, .headers = {{"Connection", "close"}}},
                         {.drop_connection = true},
                         {.status = 504},
                         {.status = 200}});
  auto exporter = MakeExporter(Sync(receiver));
  ASSERT_NE(exporter, nullptr);
  TestBatch batch(2);

  EXPECT_EQ(exporter->Export(batch.span()), trace::ExportResult::kSuccess);
  EXPECT_EQ(receiver.requests().size(), 4u);
  EXPECT_EQ(exporter->stats().requests, 4u);
  EXPECT_EQ(exporter->stats().retries, 3u);
  EXPECT_EQ(exporter->stats().spans_exported, 2u);
}

TEST(ExporterFault, HonoursRetryAfterOnTooManyRequests) {
  // The computed backoff (20 s) would pass the 10 s export timeout, so the export only succeeds
  // if the server's Retry-After: 1 replaces it.
  ScriptedReceiver receiver(
      std::vector<Reply>{{.status = 429, .headers = {{"Retry-After", "1"}}}, {.status = 200}});
  OtlpHttpExporterOptions o = Sync(receiver, seconds(10));
  o.retry.initial_backoff = seconds(20);
  o.retry.max_backoff = seconds(20);
  auto exporter = MakeExporter(std::move(o));
  ASSERT_NE(exporter, nullptr);
  TestBatch batch(1);

  EXPECT_EQ(exporter->Export(batch.span()), trace::ExportResult::kSuccess);
  auto reqs = receiver.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].body, reqs[1].body);
  EXPECT_EQ(exporter->stats().retries, 1u);
  EXPECT_EQ(exporter->stats().spans_exported, 1u);
}

TEST(ExporterFault, RetryAfterBeyondTheTimeoutGivesUpWithoutWaiting) {
  LogCapture logs;
  ScriptedReceiver receiver(
      std::vector<Reply>{{.status = 503, .headers = {{"Retry-After", "25"}}}});
  auto exporter = MakeExporter(Sync(receiver, seconds(2)));
  ASSERT_NE(exporter, nullptr);
  TestBatch batch(4);

  EXPECT_EQ(exporter->Export(batch.span()), trace::ExportResult::kFailure);
  EXPECT_EQ(receiver.requests().size(), 1u);
  ExporterStats s = exporter->stats();
  EXPECT_EQ(s.spans_failed, 4u);
  EXPECT_EQ(s.batches_failed, 1u);
  EXPECT_EQ(s.retries, 0u);
  EXPECT_THAT(logs.text(), HasSubstr("would pass the export timeout"));
}

TEST(ExporterFault, BadRequestIsNotRetriedAndItsMessageLogged) {
  LogCapture logs;
  ScriptedReceiver receiver(
      std::vector<Reply>{{.status = 400,
                          .headers = {{"Content-Type", "application/x-protobuf"}},
                          .body = RpcStatus("span name must not be empty")}});
  auto exporter = MakeExporter(Sync(receiver));
  ASSERT_NE(exporter, nullptr);
  TestBatch batch(2);

  EXPECT_EQ(exporter->Export(batch.span()), trace::ExportResult::kFailure);
  EXPECT_EQ(receiver.requests().size(), 1u);
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
  ScriptedReceiver receiver(std::vector<Reply>{{.status = 500}, {.status = 200}});
  auto exporter = MakeExporter(Sync(receiver));
  ASSERT_NE(exporter, nullptr);
  TestBatch batch(1);
  EXPECT_EQ(exporter->Export(batch.span()), trace::ExportResult::kFailure);
  EXPECT_EQ(receiver.requests().size(), 1u);
}

TEST(ExporterFault, SlowReceiverFailsWithinTheTimeout) {
  ScriptedReceiver receiver(std::vector<Reply>{{.hang = true}, {.hang = true}, {.hang = true}});
  auto exporter = MakeExporter(Sync(receiver, milliseconds(1500)));
  ASSERT_NE(exporter, nullptr);
  TestBatch batch(2);

  // Returns (rather than hanging on the receiver) and counts the loss.
  EXPECT_EQ(exporter->Export(batch.span()), trace::ExportResult::kFailure);
  ExporterStats s = exporter->stats();
  EXPECT_EQ(s.spans_failed, 2u);
  EXPECT_GE(s.requests, 1u);
  EXPECT_EQ(s.spans_exported, 0u);
  receiver.Stop();
}

TEST(ExporterFault, AbsentReceiverIsRetriedUntilTheDeadline) {
  std::string url;
  {
    ScriptedReceiver gone;
    url = gone.url();
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
  ScriptedReceiver receiver;
  TestBatch batch(20);
  OtlpHttpExporterOptions plain = Sync(receiver);
  OtlpHttpExporterOptions gzip = Sync(receiver);
  gzip.compression = Compression::kGzip;
  auto e1 = MakeExporter(std::move(plain));
  auto e2 = MakeExporter(std::move(gzip));
  ASSERT_NE(e1, nullptr);
  ASSERT_NE(e2, nullptr);

  EXPECT_EQ(e1->Export(batch.span()), trace::ExportResult::kSuccess);
  EXPECT_EQ(e2->Export(batch.span()), trace::ExportResult::kSuccess);

  auto reqs = receiver.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].Header("Content-Encoding"), std::nullopt);
  EXPECT_EQ(reqs[1].Header("Content-Encoding"), "gzip");
  ASSERT_FALSE(reqs[0].body.empty());
  EXPECT_NE(reqs[1].body, reqs[0].body);
  EXPECT_EQ(Gunzip(reqs[1].body), reqs[0].body);
  EXPECT_EQ(e2->stats().bytes_sent, reqs[1].body.size());
}

TEST(ExporterFault, PartialSuccessIsLoggedCountedAndNotRetried) {
  LogCapture logs;
  ScriptedReceiver receiver(
      std::vector<Reply>{{.status = 200,
                          .headers = {{"Content-Type", "application/x-protobuf"}},
                          .body = PartialSuccessBody(2, "spans too old")}});
  auto exporter = MakeExporter(Sync(receiver));
  ASSERT_NE(exporter, nullptr);
  TestBatch batch(5);

  EXPECT_EQ(exporter->Export(batch.span()), trace::ExportResult::kSuccess);
  EXPECT_EQ(receiver.requests().size(), 1u);
  ExporterStats s = exporter->stats();
  EXPECT_EQ(s.spans_rejected, 2u);
  EXPECT_EQ(s.spans_exported, 3u);
  EXPECT_EQ(s.retries, 0u);
  EXPECT_THAT(logs.text(), HasSubstr("rejected 2 of 5 spans"));
  EXPECT_THAT(logs.text(), HasSubstr("spans too old"));
}

TEST(ExporterFault, HeadersFromTheEnvironmentArrive) {
  ScriptedReceiver receiver;
  config::Reader env(std::map<std::string, std::string, std::less<>>{
      {"OTEL_EXPORTER_OTLP_ENDPOINT", receiver.base_url()},
      {"OTEL_EXPORTER_OTLP_HEADERS", "api-key=s3cr%3Dt,X-Tenant=acme%20corp"},
      {"OTEL_EXPORTER_OTLP_TIMEOUT", "3000"}});
  auto exporter = MakeExporter({.synchronous = true}, &env);
  ASSERT_NE(exporter, nullptr);
  EXPECT_TRUE(env.warnings().empty());
  TestBatch batch(1);

  EXPECT_EQ(exporter->Export(batch.span()), trace::ExportResult::kSuccess);
  auto reqs = receiver.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target, "/v1/traces");
  EXPECT_EQ(reqs[0].Header("api-key"), "s3cr=t");
  EXPECT_EQ(reqs[0].Header("x-tenant"), "acme corp");
}

TEST(ExporterFault, RequestCarriesUserAgentAndContentType) {
  ScriptedReceiver receiver;
  auto proto = MakeExporter(Sync(receiver));
  OtlpHttpExporterOptions j = Sync(receiver);
  j.protocol = OtlpProtocol::kHttpJson;
  auto json = MakeExporter(std::move(j));
  ASSERT_NE(proto, nullptr);
  ASSERT_NE(json, nullptr);
  TestBatch batch(1);

  EXPECT_EQ(proto->Export(batch.span()), trace::ExportResult::kSuccess);
  EXPECT_EQ(json->Export(batch.span()), trace::ExportResult::kSuccess);
  auto reqs = receiver.requests();
  ASSERT_EQ(reqs.size(), 2u);
  for (const auto& r : reqs) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/v1/traces");
    EXPECT_EQ(r.Header("User-Agent"), std::string(kUserAgent));
  }
  EXPECT_THAT(std::string(kUserAgent), ::testing::StartsWith("otlp-cpp/"));
  EXPECT_EQ(reqs[0].Header("Content-Type"), "application/x-protobuf");
  EXPECT_EQ(reqs[1].Header("Content-Type"), "application/json");
  ASSERT_FALSE(reqs[1].body.empty());
  EXPECT_EQ(reqs[1].body.front(), '{');
}

TEST(ExporterFault, KeepAliveReusesOneConnection) {
  ScriptedReceiver receiver;
  auto exporter = MakeExporter(Sync(receiver));
  ASSERT_NE(exporter, nullptr);
  TestBatch batch(2);
  constexpr int kExports = 25;
  for (int i = 0; i < kExports; ++i) {
    ASSERT_EQ(exporter->Export(batch.span()), trace::ExportResult::kSuccess) << i;
  }
  auto reqs = receiver.requests();
  ASSERT_EQ(reqs.size(), static_cast<size_t>(kExports));
  EXPECT_EQ(receiver.connections(), 1u);
  for (const auto& r : reqs) EXPECT_EQ(r.remote_address, reqs[0].remote_address);
  EXPECT_EQ(exporter->stats().spans_exported, 2u * kExports);
}

TEST(ExporterFault, PipelinedExportsAllArriveAfterForceFlush) {
  ScriptedReceiver receiver(std::vector<Reply>{{.status = 503}});  // first batch: a retry
  auto exporter = MakeExporter({.endpoint = receiver.url(),
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
  EXPECT_EQ(receiver.requests().size(), kBatches + 1u);
  EXPECT_TRUE(exporter->Shutdown(kHangGuard));
}

TEST(ExporterFault, ShutdownInterruptsABackoffWait) {
  // Retry-After asks for 25 s within a 60 s export timeout; Shutdown must not wait for it.
  ScriptedReceiver receiver(
      std::vector<Reply>{{.status = 503, .headers = {{"Retry-After", "25"}}}});
  auto exporter = MakeExporter({.endpoint = receiver.url(), .timeout = seconds(60)});
  ASSERT_NE(exporter, nullptr);
  TestBatch batch(2);

  EXPECT_EQ(exporter->Export(batch.span()), trace::ExportResult::kSuccess);  // accepted
  ASSERT_TRUE(receiver.WaitForRequests(1));
  EXPECT_TRUE(exporter->Shutdown(seconds(10)));
  ExporterStats s = exporter->stats();
  EXPECT_EQ(s.requests, 1u);
  EXPECT_EQ(s.spans_failed, 2u);
  EXPECT_EQ(s.batches_failed, 1u);
  // Later exports fail fast, without a request.
  EXPECT_EQ(exporter->Export(batch.span()), trace::ExportResult::kFailure);
  EXPECT_EQ(receiver.requests().size(), 1u);
}

}  // namespace
}  // namespace otlp::exporter
