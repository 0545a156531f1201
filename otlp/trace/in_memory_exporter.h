// otlp/trace/in_memory_exporter.h — keeps exported spans in memory, for users' own tests.
//
//   auto store = std::make_shared<otlp::trace::InMemorySpanStore>();
//   auto provider = TracerProvider::Create({.processor = std::make_unique<SimpleSpanProcessor>(
//       std::make_unique<InMemorySpanExporter>(store))});
//   … run code …
//   ASSERT_EQ(store->Spans().size(), 1u);
//   EXPECT_EQ(store->Spans()[0].name, "GET /users");
//
// Threading: thread-safe; Spans() returns a snapshot copy.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "otlp/core/attributes.h"
#include "otlp/core/export.h"
#include "otlp/core/internal/mutex.h"
#include "otlp/trace/exporter.h"
#include "otlp/trace/span_data.h"

namespace otlp::trace {

// An owning copy of SpanData.
struct OTLP_EXPORT RecordedSpan {
  struct Event {
    std::string name;
    int64_t time_unix_nano = 0;
    OwnedAttributes attributes;
    uint32_t dropped_attributes_count = 0;
  };
  struct Link {
    SpanContext context;
    OwnedAttributes attributes;
    uint32_t dropped_attributes_count = 0;
  };

  SpanContext context;
  SpanId parent_span_id;
  bool parent_is_remote = false;
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  int64_t start_unix_nano = 0;
  int64_t end_unix_nano = 0;
  OwnedAttributes attributes;
  uint32_t dropped_attributes_count = 0;
  std::vector<Event> events;
  uint32_t dropped_events_count = 0;
  std::vector<Link> links;
  uint32_t dropped_links_count = 0;
  SpanStatusCode status_code = SpanStatusCode::kUnset;
  std::string status_message;
  InstrumentationScope scope;
  OwnedAttributes resource_attributes;

  static RecordedSpan From(const SpanData& data);
  // The attribute value, or nullptr.
  const OwnedAttributeValue* Attribute(std::string_view key) const noexcept {
    return attributes.Find(key);
  }
};

class OTLP_EXPORT InMemorySpanStore {
 public:
  void Add(RecordedSpan span);
  std::vector<RecordedSpan> Spans() const;
  size_t size() const;
  void Clear();
  // Waits until at least n spans are stored; false on timeout.
  bool WaitForSpans(size_t n, std::chrono::milliseconds timeout) const;

 private:
  mutable otlp::internal::Mutex mu_;
  mutable otlp::internal::CondVar cv_;
  std::vector<RecordedSpan> spans_ OTLP_GUARDED_BY(mu_);
};

class OTLP_EXPORT InMemorySpanExporter final : public SpanExporter {
 public:
  explicit InMemorySpanExporter(std::shared_ptr<InMemorySpanStore> store) noexcept
      : store_(std::move(store)) {}
  ExportResult Export(std::span<const SpanData* const> spans) noexcept override;
  bool Shutdown(std::chrono::microseconds timeout) noexcept override;

 private:
  std::shared_ptr<InMemorySpanStore> store_;
  std::atomic<bool> shutdown_{false};
};

}  // namespace otlp::trace
