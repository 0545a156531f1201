#include "otlp/http/server_tracing.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "otlp/http/internal/server_span.h"
#include "otlp/trace/in_memory_exporter.h"
#include "otlp/trace/processor.h"
#include "otlp/trace/provider.h"

namespace otlp::http {
namespace {

OwnedAttributeValue Str(std::string s) { return s; }
OwnedAttributeValue Int(int64_t v) { return v; }
OwnedAttributeValue AttrOf(const trace::RecordedSpan& s, std::string_view key) {
  const OwnedAttributeValue* v = s.Attribute(key);
  return v ? *v : OwnedAttributeValue(std::string("<missing>"));
}

class TraceIncomingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    provider_ = trace::TracerProvider::Create(
        {.processor = std::make_unique<trace::SimpleSpanProcessor>(
             std::make_unique<trace::InMemorySpanExporter>(store_))});
    trace::SetTracerProvider(provider_);
  }
  void TearDown() override { trace::SetTracerProvider(nullptr); }
  std::shared_ptr<trace::InMemorySpanStore> store_ = std::make_shared<trace::InMemorySpanStore>();
  std::shared_ptr<trace::TracerProvider> provider_;
};

TEST_F(TraceIncomingTest, ServerSpanFromHeadersIsCurrentAndEndsWithTheStatus) {
  const net::Headers headers = {
      {"Host", "api.example.com:8443"},
      {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
      {"baggage", "user=alice"},
      {"User-Agent", "curl/8"}};
  trace::SpanContext inner;
  {
    TracedRequest traced = TraceIncoming(
        "POST", "/orders/17?AWSAccessKeyId=k&x=1", headers,
        {.client_address = "[::1]:5000", .scheme = "https", .protocol_version = "2"});
    EXPECT_EQ(trace::Context::Current().span_context().span_id(),
              traced.context().span_context().span_id());
    EXPECT_EQ(trace::Context::Current().baggage().Get("user"), "alice");
    traced.SetRoute("/orders/{id}");
    auto child = provider_->GetTracer("t").StartSpan("child");
    inner = child.GetContext();
    child.End();
    traced.End(502);
    traced.End(200);  // ignored
  }
  EXPECT_FALSE(trace::Context::Current().span_context().IsValid());
  auto spans = store_->Spans();
  ASSERT_EQ(spans.size(), 2u);
  const trace::RecordedSpan& s = spans[1];
  EXPECT_EQ(s.name, "POST /orders/{id}");
  EXPECT_EQ(s.kind, trace::SpanKind::kServer);
  EXPECT_EQ(s.parent_span_id.ToHex(), "00f067aa0ba902b7");
  EXPECT_EQ(spans[0].parent_span_id, s.context.span_id());  // the child
  EXPECT_EQ(AttrOf(s, "http.route"), Str("/orders/{id}"));
  EXPECT_EQ(AttrOf(s, "url.path"), Str("/orders/17"));
  EXPECT_EQ(AttrOf(s, "url.query"), Str("AWSAccessKeyId=REDACTED&x=1"));
  EXPECT_EQ(AttrOf(s, "url.scheme"), Str("https"));
  EXPECT_EQ(AttrOf(s, "client.address"), Str("::1"));
  EXPECT_EQ(AttrOf(s, "client.port"), Int(5000));
  EXPECT_EQ(AttrOf(s, "server.address"), Str("api.example.com"));
  EXPECT_EQ(AttrOf(s, "server.port"), Int(8443));
  EXPECT_EQ(AttrOf(s, "network.protocol.version"), Str("2"));
  EXPECT_EQ(AttrOf(s, "user_agent.original"), Str("curl/8"));
  EXPECT_EQ(AttrOf(s, "http.response.status_code"), Int(502));
  EXPECT_EQ(AttrOf(s, "error.type"), Str("502"));
  EXPECT_EQ(s.status_code, trace::SpanStatusCode::kError);
}

TEST_F(TraceIncomingTest, DestructorEndsWithoutStatusAndMalformedHeadersAreIgnored) {
  {
    TracedRequest traced = TraceIncoming("GET", "/", {{"traceparent", "garbage"}, {"Host", "["}});
    EXPECT_TRUE(traced.span().IsRecording());
  }
  auto spans = store_->Spans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].name, "GET");
  EXPECT_FALSE(spans[0].parent_span_id.IsValid());
  EXPECT_EQ(spans[0].Attribute("http.response.status_code"), nullptr);
}

TEST_F(TraceIncomingTest, FourHundredsAreNotServerErrors) {
  TraceIncoming("GET", "/x", {}).End(404);
  auto spans = store_->Spans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].status_code, trace::SpanStatusCode::kUnset);
  EXPECT_EQ(spans[0].Attribute("error.type"), nullptr);
}

TEST_F(TraceIncomingTest, SuppressedTracingRecordsNothing) {
  {
    trace::SuppressTracingScope suppress;
    TraceIncoming("GET", "/x", {}).End(200);
  }
  EXPECT_TRUE(store_->Spans().empty());
}

TEST(RedactQueryTest, OnlySensitiveValues) {
  EXPECT_EQ(internal::RedactQuery("sig=a&Signature=b&X-Goog-Signature=c&signature=d&e"),
            "sig=REDACTED&Signature=REDACTED&X-Goog-Signature=REDACTED&signature=d&e");
  EXPECT_EQ(internal::RedactQuery(""), "");
}

}  // namespace
}  // namespace otlp::http
