#include "otlp/trace/in_memory_exporter.h"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "otlp/trace/resource.h"

namespace otlp::trace {
namespace {

constexpr auto kGenerous = std::chrono::seconds(30);  // upper bound against hangs only

SpanContext Context(std::string_view trace_hex, std::string_view span_hex, bool remote = false) {
  return SpanContext(*TraceId::FromHex(trace_hex), *SpanId::FromHex(span_hex), TraceFlags(1),
                     remote, TraceState::FromHeader("vendor=value"));
}

std::string StrOf(const OwnedAttributes& attrs, std::string_view key) {
  const OwnedAttributeValue* v = attrs.Find(key);
  if (v == nullptr) return "<missing>";
  if (const auto* s = std::get_if<std::string>(v)) return *s;
  return "<not a string>";
}

// Builds a SpanData whose every string lives in heap storage destroyed on return, so the record
// is only usable if From() copied everything.
RecordedSpan RecordFromTemporaries(const InstrumentationScope* scope, const Resource* resource) {
  auto name = std::make_unique<std::string>("GET /users/{id} with a long name beyond SSO");
  auto key = std::make_unique<std::string>("http.request.method.key.that.is.long.enough");
  auto value = std::make_unique<std::string>("GET-a-value-long-enough-to-be-on-the-heap");
  auto event_name = std::make_unique<std::string>("exception-event-name-long-enough-for-heap");
  auto event_key = std::make_unique<std::string>("exception.type.key.long.enough.for.heap");
  auto event_value = std::make_unique<std::string>("std::runtime_error-long-enough-for-heap");
  auto link_key = std::make_unique<std::string>("link.attribute.key.long.enough.for.heap");
  auto status = std::make_unique<std::string>("status message long enough to be on the heap");
  std::vector<std::string_view> tags = {*value, *event_value};

  SpanData s;
  s.context = Context("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");
  s.parent_span_id = *SpanId::FromHex("53995c3f42cd8ad8");
  s.parent_is_remote = true;
  s.name = *name;
  s.kind = SpanKind::kServer;
  s.start_unix_nano = 1000;
  s.end_unix_nano = 5000;
  s.attributes = {{*key, *value},
                  {"code", 200},
                  {"tags", std::span<const std::string_view>(tags)}};
  s.dropped_attributes_count = 1;
  s.event_attributes = {{"unused", 1}, {*event_key, *event_value}};
  s.events = {EventData{.name = *event_name,
                        .time_unix_nano = 2000,
                        .attr_begin = 1,
                        .attr_count = 1,
                        .dropped_attributes_count = 2}};
  s.dropped_events_count = 3;
  s.link_attributes = {{*link_key, 42}};
  s.links = {LinkData{.context = Context("11111111111111111111111111111111", "2222222222222222",
                                         /*remote=*/true),
                      .attr_begin = 0,
                      .attr_count = 1,
                      .dropped_attributes_count = 4}};
  s.dropped_links_count = 5;
  s.status_code = SpanStatusCode::kError;
  s.status_message = *status;
  s.scope = scope;
  s.resource = resource;
  return RecordedSpan::From(s);
}

TEST(RecordedSpanTest, CopiesEverythingAndOutlivesTheSource) {
  auto scope = std::make_unique<InstrumentationScope>();
  scope->name = "my.library";
  scope->version = "1.2.3";
  scope->schema_url = "https://example.com/schema";
  scope->attributes.Set("scope.attr", AttributeValue("x"));
  OwnedAttributes resource_attrs;
  resource_attrs.Set(std::string("service.name"), OwnedAttributeValue(std::string("checkout")));
  auto resource = std::make_unique<Resource>(std::move(resource_attrs));

  RecordedSpan r = RecordFromTemporaries(scope.get(), resource.get());
  scope.reset();
  resource.reset();

  EXPECT_EQ(r.context.trace_id().ToHex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(r.context.span_id().ToHex(), "00f067aa0ba902b7");
  EXPECT_EQ(r.context.trace_state().ToHeader(), "vendor=value");
  EXPECT_EQ(r.parent_span_id.ToHex(), "53995c3f42cd8ad8");
  EXPECT_TRUE(r.parent_is_remote);
  EXPECT_EQ(r.name, "GET /users/{id} with a long name beyond SSO");
  EXPECT_EQ(r.kind, SpanKind::kServer);
  EXPECT_EQ(r.start_unix_nano, 1000);
  EXPECT_EQ(r.end_unix_nano, 5000);

  ASSERT_EQ(r.attributes.size(), 3u);
  EXPECT_EQ(StrOf(r.attributes, "http.request.method.key.that.is.long.enough"),
            "GET-a-value-long-enough-to-be-on-the-heap");
  ASSERT_NE(r.Attribute("code"), nullptr);
  EXPECT_EQ(std::get<int64_t>(*r.Attribute("code")), 200);
  ASSERT_NE(r.Attribute("tags"), nullptr);
  EXPECT_EQ(std::get<std::vector<std::string>>(*r.Attribute("tags")),
            (std::vector<std::string>{"GET-a-value-long-enough-to-be-on-the-heap",
                                      "std::runtime_error-long-enough-for-heap"}));
  EXPECT_EQ(r.Attribute("missing"), nullptr);
  EXPECT_EQ(r.dropped_attributes_count, 1u);

  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].name, "exception-event-name-long-enough-for-heap");
  EXPECT_EQ(r.events[0].time_unix_nano, 2000);
  ASSERT_EQ(r.events[0].attributes.size(), 1u);  // only its own range, not "unused"
  EXPECT_EQ(StrOf(r.events[0].attributes, "exception.type.key.long.enough.for.heap"),
            "std::runtime_error-long-enough-for-heap");
  EXPECT_EQ(r.events[0].dropped_attributes_count, 2u);
  EXPECT_EQ(r.dropped_events_count, 3u);

  ASSERT_EQ(r.links.size(), 1u);
  EXPECT_EQ(r.links[0].context.trace_id().ToHex(), "11111111111111111111111111111111");
  EXPECT_TRUE(r.links[0].context.IsRemote());
  ASSERT_EQ(r.links[0].attributes.size(), 1u);
  const OwnedAttributeValue* link_attr =
      r.links[0].attributes.Find("link.attribute.key.long.enough.for.heap");
  ASSERT_NE(link_attr, nullptr);
  EXPECT_EQ(std::get<int64_t>(*link_attr), 42);
  EXPECT_EQ(r.links[0].dropped_attributes_count, 4u);
  EXPECT_EQ(r.dropped_links_count, 5u);

  EXPECT_EQ(r.status_code, SpanStatusCode::kError);
  EXPECT_EQ(r.status_message, "status message long enough to be on the heap");

  EXPECT_EQ(r.scope.name, "my.library");
  EXPECT_EQ(r.scope.version, "1.2.3");
  EXPECT_EQ(r.scope.schema_url, "https://example.com/schema");
  EXPECT_EQ(StrOf(r.scope.attributes, "scope.attr"), "x");
  EXPECT_EQ(StrOf(r.resource_attributes, "service.name"), "checkout");
}

TEST(RecordedSpanTest, NullScopeAndResourceGiveEmptyCopies) {
  RecordedSpan r = RecordFromTemporaries(nullptr, nullptr);
  EXPECT_TRUE(r.scope.name.empty());
  EXPECT_TRUE(r.resource_attributes.empty());
  EXPECT_EQ(r.attributes.size(), 3u);
}

TEST(RecordedSpanTest, MalformedAttributeRangeIsTreatedAsEmpty) {
  SpanData s;
  s.events = {EventData{.name = "e", .time_unix_nano = 0, .attr_begin = 3, .attr_count = 9}};
  s.links = {LinkData{.context = SpanContext(), .attr_begin = 1, .attr_count = 1}};
  RecordedSpan r = RecordedSpan::From(s);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_TRUE(r.events[0].attributes.empty());
  ASSERT_EQ(r.links.size(), 1u);
  EXPECT_TRUE(r.links[0].attributes.empty());
}

SpanData Named(std::string_view name) {
  SpanData s;
  s.name = name;
  return s;
}

TEST(InMemorySpanExporterTest, ExportStoresCopiesInOrder) {
  auto store = std::make_shared<InMemorySpanStore>();
  InMemorySpanExporter exporter(store);
  {
    std::string a = "first span name, long enough for the heap";
    std::string b = "second span name, long enough for the heap";
    SpanData sa = Named(a), sb = Named(b);
    const SpanData* batch[] = {&sa, nullptr, &sb};
    EXPECT_EQ(exporter.Export(batch), ExportResult::kSuccess);
  }
  std::vector<RecordedSpan> spans = store->Spans();
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(store->size(), 2u);
  EXPECT_EQ(spans[0].name, "first span name, long enough for the heap");
  EXPECT_EQ(spans[1].name, "second span name, long enough for the heap");

  store->Clear();
  EXPECT_EQ(store->size(), 0u);
  EXPECT_EQ(spans.size(), 2u);  // the snapshot is independent of the store
}

TEST(InMemorySpanExporterTest, ExportAfterShutdownFails) {
  auto store = std::make_shared<InMemorySpanStore>();
  InMemorySpanExporter exporter(store);
  EXPECT_TRUE(exporter.Shutdown(std::chrono::seconds(1)));
  SpanData s = Named("late");
  const SpanData* batch[] = {&s};
  EXPECT_EQ(exporter.Export(batch), ExportResult::kFailure);
  EXPECT_EQ(store->size(), 0u);
}

TEST(InMemorySpanExporterTest, NullStoreFailsWithoutCrashing) {
  InMemorySpanExporter exporter(nullptr);
  SpanData s = Named("x");
  const SpanData* batch[] = {&s};
  EXPECT_EQ(exporter.Export(batch), ExportResult::kFailure);
}

TEST(InMemorySpanStoreTest, WaitForSpansReturnsWhenAnotherThreadExports) {
  auto store = std::make_shared<InMemorySpanStore>();
  InMemorySpanExporter exporter(store);
  std::optional<ExportResult> r1, r2;
  std::thread producer([&] {
    std::string n1 = "from the producer thread #1";
    std::string n2 = "from the producer thread #2";
    SpanData s1 = Named(n1);
    SpanData s2 = Named(n2);
    const SpanData* first[] = {&s1};
    const SpanData* second[] = {&s2};
    r1 = exporter.Export(first);
    r2 = exporter.Export(second);
  });
  bool got = store->WaitForSpans(2, kGenerous);
  producer.join();
  EXPECT_TRUE(got);
  EXPECT_EQ(r1, ExportResult::kSuccess);
  EXPECT_EQ(r2, ExportResult::kSuccess);
  std::vector<RecordedSpan> spans = store->Spans();
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].name, "from the producer thread #1");
  EXPECT_EQ(spans[1].name, "from the producer thread #2");
}

TEST(InMemorySpanStoreTest, WaitForSpansIsFalseWhenTooFewArrive) {
  InMemorySpanStore store;
  store.Add(RecordedSpan{});
  EXPECT_TRUE(store.WaitForSpans(1, std::chrono::milliseconds(0)));
  // Only one span will ever be there, so this can only end by its (short) timeout.
  EXPECT_FALSE(store.WaitForSpans(2, std::chrono::milliseconds(10)));
}

}  // namespace
}  // namespace otlp::trace
