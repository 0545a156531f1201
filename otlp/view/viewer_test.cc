#include "otlp/view/viewer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>

#include "otlp/core/internal/gzip.h"
#include "otlp/exporter/otlp_http_exporter.h"
#include "otlp/net/http_client.h"
#include "otlp/net/runtime.h"
#include "otlp/view/view_test_data.h"
#include "tests/support/span_fixtures.h"
#include "tests/support/status_matchers.h"

namespace otlp::view {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;
using testing::kTraceA;
using testing::OtlpJson;
using testing::ThreeServiceTrace;

class ViewerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ViewerOptions options;
    options.http_port = 0;
    options.grpc_port = 0;
    options.ui_port = 0;
    options.max_body_bytes = 1 << 20;
    options.quiet_period = std::chrono::milliseconds(100);
    options.on_trace_complete = [this](const std::string& id, const std::vector<StoredSpan>& s) {
      std::lock_guard lock(mu_);
      completed_.emplace_back(id, s.size());
      completed_cv_.notify_all();
    };
    auto v = Viewer::Start(options);
    ASSERT_OK(v);
    viewer_ = std::move(*v);
    runtime_ = net::Runtime::Create();
    auto c = net::HttpClient::Create(runtime_, {});
    ASSERT_OK(c);
    client_ = std::move(*c);
  }

  net::HttpResponse Post(const std::string& path, std::string body, net::Headers headers) {
    net::HttpRequest req;
    req.method = "POST";
    req.url = viewer_->otlp_http_url() + path;
    req.headers = std::move(headers);
    req.body = std::move(body);
    auto r = client_->Send(std::move(req));
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? std::move(*r) : net::HttpResponse{};
  }

  net::HttpResponse Get(const std::string& path) {
    net::HttpRequest req;
    req.method = "GET";
    req.url = viewer_->ui_url() + path.substr(1);
    auto r = client_->Send(std::move(req));
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? std::move(*r) : net::HttpResponse{};
  }

  std::unique_ptr<Viewer> viewer_;
  std::shared_ptr<net::Runtime> runtime_;
  std::unique_ptr<net::HttpClient> client_;
  std::mutex mu_;
  std::condition_variable completed_cv_;
  std::vector<std::pair<std::string, size_t>> completed_;
};

TEST_F(ViewerTest, JsonAndGzipProtobufAreStoredAndServedByTheApi) {
  auto r = Post("/v1/traces", OtlpJson(ThreeServiceTrace()), {{"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{}");
  viewer_->store().Flush();
  auto list = Get("/api/traces?service=orders&attr=http.response.status_code%3D503");
  EXPECT_EQ(list.status, 200);
  EXPECT_THAT(r.headers.Find("Content-Type").value_or(""), HasSubstr("application/json"));
  const json traces = json::parse(list.body);
  ASSERT_EQ(traces["traces"].size(), 1u) << list.body;
  EXPECT_EQ(traces["traces"][0]["trace_id"], kTraceA);
  auto trace = Get(std::string("/api/traces/") + kTraceA);
  EXPECT_EQ(trace.status, 200);
  EXPECT_EQ(json::parse(trace.body)["spans"].size(), 4u);
  EXPECT_EQ(Get("/api/traces/0af7651916cd43dd8448eb211c80319c").status, 404);
  EXPECT_EQ(Get("/api/traces/nothex").status, 400);
  EXPECT_EQ(Get("/api/traces?min_duration_ms=abc").status, 400);
  EXPECT_EQ(Get("/api/nothing").status, 404);
  EXPECT_EQ(json::parse(Get("/api/services").body)["services"].size(), 3u);
  EXPECT_EQ(json::parse(Get("/api/service-map").body)["edges"].size(), 2u);
  EXPECT_EQ(json::parse(Get("/api/stats").body)["spans"], 4);
  // The UI's page comes from the binary.
  auto page = Get("/");
  EXPECT_EQ(page.status, 200);
  EXPECT_THAT(page.body, HasSubstr("<html"));
  // The trace was reported complete once it went quiet (a generous bound: not a timing check).
  std::unique_lock lock(mu_);
  completed_cv_.wait_for(lock, std::chrono::seconds(30), [&] { return !completed_.empty(); });
  ASSERT_EQ(completed_.size(), 1u);
  EXPECT_EQ(completed_[0], std::make_pair(std::string(kTraceA), size_t{4}));
}

TEST_F(ViewerTest, AnswersAsACollectorDoes) {
  // Protobuf: an empty request is a valid one.
  auto ok = Post("/v1/traces", "", {{"Content-Type", "application/x-protobuf"}});
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "");
  // gzip.
  std::string gz;
  ASSERT_OK(otlp::internal::GzipCompress(OtlpJson(ThreeServiceTrace()), gz));
  auto zipped = Post("/v1/traces", gz,
                     {{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}});
  EXPECT_EQ(zipped.status, 200);
  // Undecodable: 400 with the decoder's message.
  auto bad = Post("/v1/traces", "{\"resourceSpans\": [", {{"Content-Type", "application/json"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.body, HasSubstr("\"code\":3"));
  auto truncated = Post("/v1/traces", std::string("\x0a\x10\x0a", 3),
                        {{"Content-Type", "application/x-protobuf"}});
  EXPECT_EQ(truncated.status, 400);
  // Unknown content type / encoding: 415.
  EXPECT_EQ(Post("/v1/traces", "x", {{"Content-Type", "text/plain"}}).status, 415);
  EXPECT_EQ(Post("/v1/traces", "x", {{"Content-Type", "application/json"},
                                     {"Content-Encoding", "br"}})
                .status,
            415);
  // Over the body limit: 413.
  EXPECT_EQ(Post("/v1/traces", std::string(2 << 20, ' '), {{"Content-Type", "application/json"}})
                .status,
            413);
  EXPECT_EQ(Post("/v1/nothing", "", {{"Content-Type", "application/json"}}).status, 404);
  // Invalid span ids: partial success naming the rejected span; the valid ones are kept.
  auto spans = ThreeServiceTrace();
  spans[1].span_id = "0000000000000000";
  auto partial = Post("/v1/traces", OtlpJson(spans), {{"Content-Type", "application/json"}});
  EXPECT_EQ(partial.status, 200);
  const json p = json::parse(partial.body);
  EXPECT_EQ(p["partialSuccess"]["rejectedSpans"], "1");
  EXPECT_THAT(p["partialSuccess"]["errorMessage"].get<std::string>(), HasSubstr("spanId"));
  // Nothing stored so far was lost, and the viewer still serves.
  viewer_->store().Flush();
  EXPECT_EQ(viewer_->store().Stats().spans, 4u);
  EXPECT_EQ(Get("/api/stats").status, 200);
}

TEST_F(ViewerTest, OtlpGrpcFromOurExporterPlainAndGzip) {
  for (const auto compression : {exporter::Compression::kNone, exporter::Compression::kGzip}) {
    exporter::OtlpHttpExporterOptions o;
    o.endpoint = "http://" + viewer_->otlp_grpc_address();
    o.protocol = exporter::OtlpProtocol::kGrpc;
    o.compression = compression;
    auto exp = exporter::OtlpHttpExporter::Create(o);
    ASSERT_OK(exp);
    trace::SpanData span = test::MinimalSpan();
    span.name = compression == exporter::Compression::kNone ? "over grpc" : "over grpc+gzip";
    const trace::SpanData* batch[] = {&span};
    EXPECT_EQ((*exp)->Export(batch), trace::ExportResult::kSuccess);
    ASSERT_TRUE((*exp)->ForceFlush(std::chrono::seconds(10)));
    EXPECT_EQ((*exp)->stats().spans_exported, 1u);
    (*exp)->Shutdown(std::chrono::seconds(1));
  }
  viewer_->store().Flush();
  const json trace = json::parse(*viewer_->store().TraceJson(test::MinimalSpan().context.trace_id().ToHex()));
  ASSERT_EQ(trace["spans"].size(), 1u);  // the same span ids: stored once
  EXPECT_EQ(trace["spans"][0]["name"], "over grpc");
  // Not gRPC on the gRPC port: a clear answer, not a hang.
  net::HttpRequest req;
  req.method = "POST";
  req.url = "http://" + viewer_->otlp_grpc_address() + "/v1/traces";
  auto r = client_->Send(std::move(req));
  ASSERT_OK(r);
  EXPECT_EQ(r->status, 415);
}

TEST_F(ViewerTest, ForwardsEverythingReceivedToACollectorUnchanged) {
  // A second viewer plays the collector; the first forwards to it.
  ViewerOptions o;
  o.http_port = 0;
  o.grpc_port = 0;
  o.ui_port = std::nullopt;
  o.forward_url = viewer_->otlp_http_url() + "/";
  auto front = Viewer::Start(o);
  ASSERT_OK(front);
  net::HttpRequest req;
  req.method = "POST";
  req.url = (*front)->otlp_http_url() + "/v1/traces";
  req.headers = {{"Content-Type", "application/json"}};
  req.body = OtlpJson(ThreeServiceTrace());
  auto r = client_->Send(std::move(req));
  ASSERT_OK(r);
  EXPECT_EQ(r->status, 200);
  // And over gRPC, gzip-compressed, from our exporter.
  exporter::OtlpHttpExporterOptions eo;
  eo.endpoint = "http://" + (*front)->otlp_grpc_address();
  eo.protocol = exporter::OtlpProtocol::kGrpc;
  eo.compression = exporter::Compression::kGzip;
  auto exp = exporter::OtlpHttpExporter::Create(eo);
  ASSERT_OK(exp);
  trace::SpanData span = test::MinimalSpan();
  const trace::SpanData* batch[] = {&span};
  EXPECT_EQ((*exp)->Export(batch), trace::ExportResult::kSuccess);
  ASSERT_TRUE((*exp)->ForceFlush(std::chrono::seconds(10)));
  (*exp)->Shutdown(std::chrono::seconds(1));
  (*front)->Stop();  // lets the forwards in flight finish
  EXPECT_EQ((*front)->forwarded(), 2u);
  EXPECT_EQ((*front)->forward_failures(), 0u);
  viewer_->store().Flush();
  (*front)->store().Flush();
  EXPECT_EQ(viewer_->store().Stats().spans, 5u);
  EXPECT_EQ((*front)->store().Stats().spans, 5u);
  EXPECT_EQ(viewer_->store().TraceJson(kTraceA), (*front)->store().TraceJson(kTraceA));

  o.forward_url = "ftp://example";
  EXPECT_THAT(Viewer::Start(o), StatusIs(StatusCode::kInvalidArgument, HasSubstr("forward URL")));
}

TEST_F(ViewerTest, LogsAreListedWithTheirTraceAndMetricsKeepTheLatestPointPerSeries) {
  auto r = Post("/v1/traces", OtlpJson(ThreeServiceTrace()), {{"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 200);
  const std::string logs = R"({"resourceLogs":[{"resource":{"attributes":[
      {"key":"service.name","value":{"stringValue":"orders"}}]},
    "scopeLogs":[{"scope":{"name":"orders.log"},"logRecords":[
      {"timeUnixNano":"1765100000020000000","severityNumber":17,"severityText":"ERROR",
       "body":{"stringValue":"card declined"},"traceId":"4bf92f3577b34da6a3ce929d0e0e4736",
       "spanId":"4444444444444444","attributes":[{"key":"order.id","value":{"intValue":"42"}}]},
      {"timeUnixNano":"1765100000030000000","body":{"stringValue":"no trace"}},
      {"traceId":"4bf92f35","body":{"stringValue":"bad id"}}]}]}]})";
  r = Post("/v1/logs", logs, {{"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["partialSuccess"]["rejectedLogRecords"], "1") << r.body;
  auto metrics = [](const std::string& time, double value) {
    return R"({"resourceMetrics":[{"resource":{"attributes":[
        {"key":"service.name","value":{"stringValue":"orders"}}]},
      "scopeMetrics":[{"metrics":[
        {"name":"queue.depth","unit":"1","gauge":{"dataPoints":[
          {"timeUnixNano":")" + time + R"(","asDouble":)" + std::to_string(value) + R"(,
           "attributes":[{"key":"queue","value":{"stringValue":"a"}}]}]}},
        {"name":"http.server.request.duration","unit":"s","histogram":{"aggregationTemporality":2,
          "dataPoints":[{"timeUnixNano":")" + time + R"(","count":"3","sum":0.5,
            "bucketCounts":["1","2"],"explicitBounds":[0.1]}]}}]}]}]})";
  };
  EXPECT_EQ(Post("/v1/metrics", metrics("2000", 7), {{"Content-Type", "application/json"}}).status, 200);
  EXPECT_EQ(Post("/v1/metrics", metrics("1000", 3), {{"Content-Type", "application/json"}}).status, 200);
  EXPECT_EQ(Post("/v1/metrics", "{\"resourceMetrics\":[{", {{"Content-Type", "application/json"}}).status,
            400);
  viewer_->store().Flush();

  const json trace = json::parse(Get(std::string("/api/traces/") + kTraceA).body);
  ASSERT_EQ(trace["logs"].size(), 1u);
  EXPECT_EQ(trace["logs"][0]["body"], "card declined");
  EXPECT_EQ(trace["logs"][0]["span_id"], "4444444444444444");
  EXPECT_EQ(trace["logs"][0]["service"], "orders");
  EXPECT_EQ(trace["logs"][0]["severity_number"], 17);
  EXPECT_EQ(json::parse(Get("/api/stats").body)["logs"], 2);

  const json m = json::parse(Get("/api/metrics").body)["metrics"];
  ASSERT_EQ(m.size(), 2u) << m.dump();
  EXPECT_EQ(m[0]["name"], "http.server.request.duration");
  EXPECT_EQ(m[0]["type"], "histogram");
  EXPECT_EQ(m[0]["count"], 3);
  EXPECT_EQ(m[1]["name"], "queue.depth");
  EXPECT_EQ(m[1]["value"], 7.0);  // the older point sent later did not replace it
  EXPECT_EQ(m[1]["service"], "orders");
  EXPECT_EQ(m[1]["attributes"][0]["value"], "a");
}

}  // namespace
}  // namespace otlp::view
