// Test helpers shared by the JetStream, KV and Object Store tests: a connection (optionally
// traced into an in-memory store) and a JetStream context on a real nats-server.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "otlp/nats/connection.h"
#include "otlp/nats/jetstream.h"
#include "otlp/trace/in_memory_exporter.h"
#include "otlp/trace/processor.h"
#include "otlp/trace/provider.h"
#include "tests/support/nats_server.h"

namespace otlp::nats::testing {

using namespace std::chrono_literals;

struct JsEnv {
  std::shared_ptr<trace::InMemorySpanStore> store = std::make_shared<trace::InMemorySpanStore>();
  std::shared_ptr<trace::TracerProvider> provider;
  std::shared_ptr<Connection> conn;
  std::shared_ptr<JetStream> js;

  // Connects to `server` (traced into `store` when `traced`) and makes a JetStream context.
  bool Init(const test::NatsServer& server, bool traced = false, JetStreamOptions jo = {}) {
    Options o;
    o.servers = {server.url()};
    o.reconnect_wait = 100ms;
    o.reconnect_jitter = 10ms;
    o.max_reconnects = -1;
    if (traced) {
      provider = trace::TracerProvider::Create(
          {.processor = std::make_unique<trace::SimpleSpanProcessor>(
               std::make_unique<trace::InMemorySpanExporter>(store))});
      o.tracing.tracer = provider->GetTracer("otlp.nats");
    } else {
      o.tracing.enabled = false;
      o.tracing.propagate = false;
    }
    auto c = Connection::Connect(std::move(o));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok()) return false;
    conn = *c;
    auto j = JetStream::Create(conn, jo);
    EXPECT_TRUE(j.ok()) << j.status().ToString();
    if (!j.ok()) return false;
    js = *j;
    return true;
  }
  ~JsEnv() {
    js.reset();
    if (conn) conn->Close();
  }
};

inline std::string StrAttr(const trace::RecordedSpan& s, std::string_view key) {
  const OwnedAttributeValue* v = s.Attribute(key);
  if (v == nullptr || !std::holds_alternative<std::string>(*v)) return "<none>";
  return std::get<std::string>(*v);
}

inline int64_t IntAttr(const trace::RecordedSpan& s, std::string_view key) {
  const OwnedAttributeValue* v = s.Attribute(key);
  if (v == nullptr || !std::holds_alternative<int64_t>(*v)) return -1;
  return std::get<int64_t>(*v);
}

inline const trace::RecordedSpan* FindSpan(const std::vector<trace::RecordedSpan>& spans,
                                           std::string_view name) {
  for (const auto& s : spans) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

}  // namespace otlp::nats::testing
