// Client spans and context injection by the HTTP semantic conventions, recorded with the
// in-memory exporter; the server (scripted, loopback) shows what was injected.
#include "otlp/http/tracing.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "otlp/http/client.h"
#include "otlp/trace/context.h"
#include "otlp/trace/in_memory_exporter.h"
#include "otlp/trace/processor.h"
#include "otlp/trace/provider.h"
#include "tests/support/scripted_http_server.h"
#include "tests/support/status_matchers.h"

namespace otlp::http {
namespace {

using std::chrono::milliseconds;
using test::ScriptedHttpServer;
using trace::RecordedSpan;

std::string Str(const RecordedSpan& span, std::string_view key) {
  const OwnedAttributeValue* v = span.Attribute(key);
  return v && std::holds_alternative<std::string>(*v) ? std::get<std::string>(*v) : "<absent>";
}
int64_t Int(const RecordedSpan& span, std::string_view key) {
  const OwnedAttributeValue* v = span.Attribute(key);
  return v && std::holds_alternative<int64_t>(*v) ? std::get<int64_t>(*v) : -1;
}

class TracingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::make_shared<trace::InMemorySpanStore>();
    provider_ = trace::TracerProvider::Create(
        {.processor = std::make_unique<trace::SimpleSpanProcessor>(
             std::make_unique<trace::InMemorySpanExporter>(store_))});
    tracer_ = provider_->GetTracer("tracing-test");
    auto server = ScriptedHttpServer::Start();
    ASSERT_OK(server);
    server_ = std::move(*server);
  }
  void TearDown() override { provider_->Shutdown(); }

  std::unique_ptr<Client> MakeClient(ClientOptions options = {}) {
    options.tracing.tracer = provider_->GetTracer("otlp.http");
    options.retry.initial_backoff = milliseconds(1);
    auto client = Client::Create(std::move(options));
    EXPECT_OK(client);
    return client.ok() ? std::move(*client) : nullptr;
  }

  std::shared_ptr<trace::InMemorySpanStore> store_;
  std::shared_ptr<trace::TracerProvider> provider_;
  trace::Tracer tracer_;
  std::unique_ptr<ScriptedHttpServer> server_;
};

TEST_F(TracingTest, ClientSpanAttributesAndInjectedParent) {
  server_->Enqueue({.status = 200, .headers = {{"Server", "scripted"}}});
  ClientOptions options;
  options.tracing.request_headers = {"X-Request-Id"};
  options.tracing.response_headers = {"server"};
  auto client = MakeClient(std::move(options));
  auto parent = tracer_.StartSpan("parent");
  trace::SpanContext span_context;
  {
    trace::Scope scope(parent);
    const std::string url = "http://ada:pw@127.0.0.1:" + std::to_string(server_->port()) +
                            "/users/7?sig=abc&x=1&Signature=s";
    ASSERT_OK_AND_ASSIGN(Response r, client->Get(url, UrlTemplate{"/users/{id}"},
                                                 Header{"X-Request-Id", "r1"},
                                                 Header{"X-Request-Id", "r2"}));
    span_context = r.trace_context;
  }
  parent.End();
  const auto spans = store_->Spans();
  ASSERT_EQ(spans.size(), 2u);
  const RecordedSpan& s = spans[0];
  EXPECT_EQ(s.name, "GET /users/{id}");
  EXPECT_EQ(span_context.span_id(), s.context.span_id());  // Response::trace_context
  EXPECT_EQ(s.kind, trace::SpanKind::kClient);
  EXPECT_EQ(s.parent_span_id, parent.GetContext().span_id());
  EXPECT_EQ(s.context.trace_id(), parent.GetContext().trace_id());
  EXPECT_EQ(Str(s, "http.request.method"), "GET");
  EXPECT_EQ(Str(s, "url.full"), "http://127.0.0.1:" + std::to_string(server_->port()) +
                                    "/users/7?sig=REDACTED&x=1&Signature=REDACTED");
  EXPECT_EQ(Str(s, "url.template"), "/users/{id}");
  EXPECT_EQ(Str(s, "server.address"), "127.0.0.1");
  EXPECT_EQ(Int(s, "server.port"), server_->port());
  EXPECT_EQ(Int(s, "http.response.status_code"), 200);
  EXPECT_EQ(Str(s, "network.protocol.version"), "1.1");
  EXPECT_EQ(s.Attribute("error.type"), nullptr);
  EXPECT_EQ(s.Attribute("http.request.resend_count"), nullptr);
  EXPECT_EQ(s.status_code, trace::SpanStatusCode::kUnset);
  const OwnedAttributeValue* ids = s.Attribute("http.request.header.x-request-id");
  ASSERT_NE(ids, nullptr);
  EXPECT_EQ(std::get<std::vector<std::string>>(*ids), (std::vector<std::string>{"r1", "r2"}));
  const OwnedAttributeValue* srv = s.Attribute("http.response.header.server");
  ASSERT_NE(srv, nullptr);
  EXPECT_EQ(std::get<std::vector<std::string>>(*srv), std::vector<std::string>{"scripted"});
  // The server saw this span as the parent.
  const auto req = server_->requests()[0];
  ASSERT_TRUE(req.Header("traceparent").has_value());
  EXPECT_THAT(std::string(*req.Header("traceparent")),
              ::testing::StartsWith("00-" + s.context.trace_id().ToHex() + "-" +
                                    s.context.span_id().ToHex() + "-"));
}

TEST_F(TracingTest, SpanPerAttemptWithResendCountAndErrorStatus) {
  server_->EnqueueAll({{.status = 503}, {.status = 404}});
  auto client = MakeClient();
  ASSERT_OK_AND_ASSIGN(Response r, client->Get(server_->Url("/x")));
  EXPECT_EQ(r.status, 404);
  const auto spans = store_->Spans();
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(Str(spans[0], "error.type"), "503");
  EXPECT_EQ(spans[0].status_code, trace::SpanStatusCode::kError);
  EXPECT_EQ(spans[0].status_message, "");
  EXPECT_EQ(spans[0].Attribute("http.request.resend_count"), nullptr);
  EXPECT_EQ(Str(spans[1], "error.type"), "404");
  EXPECT_EQ(Int(spans[1], "http.request.resend_count"), 1);
  // Each attempt carried its own span as the parent.
  const auto reqs = server_->requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_THAT(std::string(*reqs[1].Header("traceparent")),
              ::testing::HasSubstr(spans[1].context.span_id().ToHex()));
}

TEST_F(TracingTest, UnknownMethodAndTransportError) {
  uint16_t closed_port = 0;
  {
    ASSERT_OK_AND_ASSIGN(auto gone, ScriptedHttpServer::Start());
    closed_port = gone->port();
  }
  auto client = MakeClient({.retry = RetryPolicy::Disabled()});
  ASSERT_OK(client->Send(Request::Make("PURGE", server_->Url("/cache"))));
  EXPECT_FALSE(
      client->Get("http://127.0.0.1:" + std::to_string(closed_port) + "/").ok());
  const auto spans = store_->Spans();
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].name, "HTTP");
  EXPECT_EQ(Str(spans[0], "http.request.method"), "_OTHER");
  EXPECT_EQ(Str(spans[0], "http.request.method_original"), "PURGE");
  EXPECT_EQ(Str(spans[1], "error.type"), "connection_refused");
  EXPECT_EQ(spans[1].status_code, trace::SpanStatusCode::kError);
  EXPECT_EQ(spans[1].Attribute("http.response.status_code"), nullptr);
}

TEST_F(TracingTest, RedirectHopsAreAttempts) {
  auto client = MakeClient();
  server_->EnqueueAll({{.status = 302, .headers = {{"Location", "/next"}}}, {.status = 200}});
  ASSERT_OK(client->Get(server_->Url("/first")));
  const auto spans = store_->Spans();
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(Int(spans[0], "http.response.status_code"), 302);
  EXPECT_EQ(Str(spans[1], "url.full"), server_->Url("/next"));
  EXPECT_EQ(Int(spans[1], "http.request.resend_count"), 1);
}

TEST_F(TracingTest, SuppressedContextHasNoSpanAndNoInjection) {
  auto client = MakeClient();
  auto parent = tracer_.StartSpan("parent");
  {
    trace::Scope scope(parent);
    trace::SuppressTracingScope suppress;
    ASSERT_OK(client->Get(server_->Url("/quiet")));
  }
  parent.End();
  ASSERT_EQ(store_->Spans().size(), 1u);  // the parent only
  EXPECT_FALSE(server_->requests()[0].Header("traceparent").has_value());
}

TEST_F(TracingTest, PropagatesWithoutSpansWhenTracingIsOff) {
  ClientOptions options;
  options.tracing.enabled = false;
  auto client = MakeClient(std::move(options));
  auto parent = tracer_.StartSpan("parent");
  {
    trace::Scope scope(parent);
    ASSERT_OK(client->Get(server_->Url("/off")));
  }
  parent.End();
  ASSERT_EQ(store_->Spans().size(), 1u);
  ASSERT_TRUE(server_->requests()[0].Header("traceparent").has_value());
  EXPECT_THAT(std::string(*server_->requests()[0].Header("traceparent")),
              ::testing::HasSubstr(parent.GetContext().span_id().ToHex()));
}

TEST_F(TracingTest, DurationMetricPerAttempt) {
  auto histogram = std::make_shared<RequestDurationHistogram>();
  auto client = MakeClient({.duration_histogram = histogram});
  server_->EnqueueAll({{.status = 502}, {.status = 200}});
  ASSERT_OK(client->Get(server_->Url("/m")));
  const auto points = histogram->Snapshot();
  ASSERT_EQ(points.size(), 2u);
  for (const DurationPoint& p : points) {
    EXPECT_EQ(p.count, 1u);
    EXPECT_EQ(p.attributes.method, "GET");
    EXPECT_EQ(p.attributes.server_address, "127.0.0.1");
    EXPECT_EQ(p.attributes.server_port, server_->port());
    EXPECT_EQ(p.attributes.protocol_version, "1.1");
  }
  EXPECT_EQ(points[0].attributes.status_code, 200);
  EXPECT_EQ(points[0].attributes.error_type, "");
  EXPECT_EQ(points[1].attributes.status_code, 502);
  EXPECT_EQ(points[1].attributes.error_type, "502");
}

}  // namespace
}  // namespace otlp::http
