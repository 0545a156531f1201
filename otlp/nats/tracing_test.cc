// Tracing of the NATS client against a real nats-server: PRODUCER spans whose context travels in
// the message headers, CONSUMER "process" spans parented by it (and current in the callback),
// CLIENT spans for requests (with no_responders as error.type), "receive" spans linked to the
// sender for NextMsg, queue groups, and tracing turned off (plain PUB, no spans).
#include <gtest/gtest.h>

#include <future>

#include "otlp/nats/connection.h"
#include "otlp/trace/in_memory_exporter.h"
#include "otlp/trace/processor.h"
#include "otlp/trace/provider.h"
#include "tests/support/nats_server.h"

namespace otlp::nats {
namespace {

using namespace std::chrono_literals;
using trace::RecordedSpan;

std::string Str(const RecordedSpan& span, std::string_view key) {
  const OwnedAttributeValue* v = span.Attribute(key);
  return v && std::holds_alternative<std::string>(*v) ? std::get<std::string>(*v) : "<absent>";
}
int64_t Int(const RecordedSpan& span, std::string_view key) {
  const OwnedAttributeValue* v = span.Attribute(key);
  return v && std::holds_alternative<int64_t>(*v) ? std::get<int64_t>(*v) : -1;
}

class NatsTracingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.ok()) << server_.error();
    store_ = std::make_shared<trace::InMemorySpanStore>();
    provider_ = trace::TracerProvider::Create(
        {.processor = std::make_unique<trace::SimpleSpanProcessor>(
             std::make_unique<trace::InMemorySpanExporter>(store_))});
  }
  void TearDown() override { provider_->Shutdown(); }

  std::shared_ptr<Connection> Connect(bool traced = true) {
    Options o;
    o.servers = {server_.url()};
    o.tracing.tracer = provider_->GetTracer("otlp.nats");
    o.tracing.enabled = traced;
    o.tracing.propagate = traced;
    auto c = Connection::Connect(std::move(o));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : nullptr;
  }

  const RecordedSpan* Find(const std::vector<RecordedSpan>& spans, std::string_view name) {
    for (const auto& s : spans) {
      if (s.name == name) return &s;
    }
    return nullptr;
  }

  test::NatsServer server_;
  std::shared_ptr<trace::InMemorySpanStore> store_;
  std::shared_ptr<trace::TracerProvider> provider_;
};

TEST_F(NatsTracingTest, PublishAndProcessAreLinkedThroughHeaders) {
  auto conn = Connect();
  std::promise<std::string> seen_traceparent;
  std::promise<trace::SpanContext> current_in_callback;
  auto sub = conn->QueueSubscribe("orders.created", "workers", [&](Message& m) {
    seen_traceparent.set_value(std::string(m.header("traceparent")));
    const trace::SpanContext* current = trace::internal_CurrentSpanContext();
    current_in_callback.set_value(current ? *current : trace::SpanContext());
  });
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(conn->Flush().ok());

  trace::Tracer app = provider_->GetTracer("app");
  trace::Span parent = app.StartSpan("checkout");
  {
    trace::Scope scope(parent);
    ASSERT_TRUE(conn->Publish("orders.created", "{\"id\":1}").ok());
  }
  parent.End();
  const std::string traceparent = seen_traceparent.get_future().get();
  const trace::SpanContext in_callback = current_in_callback.get_future().get();
  ASSERT_TRUE(store_->WaitForSpans(3, 10s));
  std::vector<RecordedSpan> spans = store_->Spans();
  const RecordedSpan* send = Find(spans, "send orders.created");
  const RecordedSpan* process = Find(spans, "process orders.created");
  ASSERT_NE(send, nullptr);
  ASSERT_NE(process, nullptr);

  EXPECT_EQ(send->kind, trace::SpanKind::kProducer);
  EXPECT_EQ(send->parent_span_id, parent.GetContext().span_id());
  EXPECT_EQ(Str(*send, "messaging.system"), "nats");
  EXPECT_EQ(Str(*send, "messaging.destination.name"), "orders.created");
  EXPECT_EQ(Str(*send, "messaging.operation.type"), "send");
  EXPECT_EQ(Str(*send, "messaging.operation.name"), "publish");
  EXPECT_EQ(Int(*send, "messaging.message.body.size"), 8);
  EXPECT_EQ(Str(*send, "server.address"), "127.0.0.1");
  EXPECT_EQ(Int(*send, "server.port"), server_.port());
  EXPECT_EQ(Str(*send, "messaging.client.id"),
            std::to_string(conn->server_info().client_id));
  // The header carries the PRODUCER span's context.
  EXPECT_NE(traceparent.find(send->context.span_id().ToHex()), std::string::npos) << traceparent;

  EXPECT_EQ(process->kind, trace::SpanKind::kConsumer);
  EXPECT_EQ(process->context.trace_id(), parent.GetContext().trace_id());
  EXPECT_EQ(process->parent_span_id, send->context.span_id());
  EXPECT_TRUE(process->parent_is_remote);
  EXPECT_EQ(Str(*process, "messaging.operation.type"), "process");
  EXPECT_EQ(Str(*process, "messaging.consumer.group.name"), "workers");
  EXPECT_EQ(in_callback.span_id(), process->context.span_id());
}

TEST_F(NatsTracingTest, RequestsAreClientSpansAndRepliesChildrenOfTheResponder) {
  auto conn = Connect();
  auto responder = conn->Subscribe("inventory.check", [&](Message& m) {
    m.Respond("in stock").IgnoreError();  // inside the process span: its child
  });
  ASSERT_TRUE(responder.ok());
  ASSERT_TRUE(conn->Flush().ok());
  Result<Message> reply = conn->Request("inventory.check", "pear", 5s);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  ASSERT_TRUE(store_->WaitForSpans(3, 10s));
  std::vector<RecordedSpan> spans = store_->Spans();
  const RecordedSpan* request = Find(spans, "request inventory.check");
  const RecordedSpan* process = Find(spans, "process inventory.check");
  const RecordedSpan* respond = Find(spans, "send (temporary)");
  ASSERT_NE(request, nullptr);
  ASSERT_NE(process, nullptr);
  ASSERT_NE(respond, nullptr);
  EXPECT_EQ(request->kind, trace::SpanKind::kClient);
  EXPECT_EQ(Str(*request, "messaging.operation.name"), "request");
  EXPECT_EQ(process->parent_span_id, request->context.span_id());
  EXPECT_EQ(respond->parent_span_id, process->context.span_id());
  EXPECT_EQ(respond->kind, trace::SpanKind::kProducer);
  const OwnedAttributeValue* temporary = respond->Attribute("messaging.destination.temporary");
  ASSERT_NE(temporary, nullptr);
  EXPECT_TRUE(std::get<bool>(*temporary));

  store_->Clear();
  Result<Message> nobody = conn->Request("nobody.home", "x", 5s);
  ASSERT_FALSE(nobody.ok());
  ASSERT_TRUE(store_->WaitForSpans(1, 10s));
  const RecordedSpan failed = store_->Spans()[0];
  EXPECT_EQ(failed.name, "request nobody.home");
  EXPECT_EQ(failed.status_code, trace::SpanStatusCode::kError);
  EXPECT_EQ(Str(failed, "error.type"), "no_responders");
}

TEST_F(NatsTracingTest, NextMsgRecordsAReceiveSpanLinkedToTheSender) {
  auto conn = Connect();
  auto sub = conn->SubscribeSync("sync.subject");
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(conn->Publish("sync.subject", "x").ok());
  Result<Message> m = (*sub)->NextMsg(5s);
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(store_->WaitForSpans(2, 10s));
  std::vector<RecordedSpan> spans = store_->Spans();
  const RecordedSpan* send = Find(spans, "send sync.subject");
  const RecordedSpan* receive = Find(spans, "receive sync.subject");
  ASSERT_NE(send, nullptr);
  ASSERT_NE(receive, nullptr);
  EXPECT_EQ(receive->kind, trace::SpanKind::kConsumer);
  ASSERT_EQ(receive->links.size(), 1u);
  EXPECT_EQ(receive->links[0].context.span_id(), send->context.span_id());
}

TEST_F(NatsTracingTest, TracingOffMeansNoSpansAndNoHeaders) {
  auto conn = Connect(/*traced=*/false);
  auto sub = conn->SubscribeSync("quiet");
  ASSERT_TRUE(sub.ok());
  trace::Tracer app = provider_->GetTracer("app");
  trace::Span parent = app.StartSpan("outer");
  {
    trace::Scope scope(parent);
    ASSERT_TRUE(conn->Publish("quiet", "x").ok());
  }
  parent.End();
  Result<Message> m = (*sub)->NextMsg(5s);
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->has_headers());  // a plain PUB
  ASSERT_TRUE(store_->WaitForSpans(1, 10s));
  EXPECT_EQ(store_->Spans().size(), 1u);  // only the application's own span
}

TEST_F(NatsTracingTest, UserHeadersAndTraceContextTravelTogether) {
  auto conn = Connect();
  auto sub = conn->SubscribeSync("mixed");
  ASSERT_TRUE(sub.ok());
  Headers h{{"Nats-Msg-Id", "m-1"}, {"X-Keep", "Case"}};
  ASSERT_TRUE(conn->Publish("mixed", h, "x").ok());
  Result<Message> m = (*sub)->NextMsg(5s);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->headers().Find("Nats-Msg-Id"), "m-1");
  EXPECT_EQ(m->headers().Find("X-Keep"), "Case");
  EXPECT_EQ(m->header("traceparent").size(), 55u);
}

}  // namespace
}  // namespace otlp::nats
