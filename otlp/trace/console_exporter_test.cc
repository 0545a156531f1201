#include "otlp/trace/console_exporter.h"

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace otlp::trace {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kStart = 1'700'000'000'000'000'000;

SpanContext Context(std::string_view trace_hex, std::string_view span_hex) {
  return SpanContext(*TraceId::FromHex(trace_hex), *SpanId::FromHex(span_hex), TraceFlags(1),
                     false);
}

// A root span with nothing but ids, a name and a 1.5 ms duration.
SpanData RootSpan(std::string_view name) {
  SpanData s;
  s.context = Context("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331");
  s.name = name;
  s.start_unix_nano = kStart;
  s.end_unix_nano = kStart + 1'500'000;
  return s;
}

struct FileCloser {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

std::string ReadAll(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string out;
  char buf[512];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  return out;
}

TEST(ConsoleSpanExporterTest, FormatsAFullSpanOnOneLine) {
  const std::string name = "GET /users";
  const std::string method = "GET";
  const std::string exception_type = "E";
  const std::string message = "boom";

  SpanData s;
  s.context = Context("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");
  s.parent_span_id = *SpanId::FromHex("53995c3f42cd8ad8");
  s.name = name;
  s.kind = SpanKind::kClient;
  s.start_unix_nano = kStart;
  s.end_unix_nano = kStart + 12'345'678;
  s.attributes = {{"http.request.method", method}, {"http.response.status_code", 200}};
  s.event_attributes = {{"exception.type", exception_type}};
  s.events = {EventData{.name = "exception", .time_unix_nano = kStart + 1'200'000,
                        .attr_begin = 0, .attr_count = 1},
              EventData{.name = "retry", .time_unix_nano = kStart + 3'000'000}};
  s.links = {LinkData{.context = Context("11111111111111111111111111111111", "2222222222222222")}};
  s.status_code = SpanStatusCode::kError;
  s.status_message = message;

  EXPECT_EQ(ConsoleSpanExporter::Format(s),
            "span \"GET /users\" kind=client trace=4bf92f3577b34da6a3ce929d0e0e4736 "
            "span=00f067aa0ba902b7 parent=53995c3f42cd8ad8 12.345ms status=error(\"boom\") "
            "attrs={http.request.method=\"GET\", http.response.status_code=200} "
            "events=2[exception@+1.200ms{exception.type=\"E\"}, retry@+3.000ms] links=1");
}

TEST(ConsoleSpanExporterTest, RootSpanShowsDashForParentAndUnsetStatus) {
  std::string line = ConsoleSpanExporter::Format(RootSpan("work"));
  EXPECT_THAT(line, HasSubstr("span \"work\" kind=internal "));
  EXPECT_THAT(line, HasSubstr(" trace=0af7651916cd43dd8448eb211c80319c span=b7ad6b7169203331 "));
  EXPECT_THAT(line, HasSubstr(" parent=- 1.500ms status=unset attrs={} events=0 links=0"));
  EXPECT_THAT(line, Not(HasSubstr("dropped")));
}

TEST(ConsoleSpanExporterTest, KindsStatusesRemoteParentAndDroppedCounts) {
  SpanData s = RootSpan("x");
  s.kind = SpanKind::kConsumer;
  s.status_code = SpanStatusCode::kOk;
  s.parent_span_id = *SpanId::FromHex("0102030405060708");
  s.parent_is_remote = true;
  s.dropped_attributes_count = 3;
  s.dropped_events_count = 4;
  s.dropped_links_count = 5;
  std::string line = ConsoleSpanExporter::Format(s);
  EXPECT_THAT(line, HasSubstr(" kind=consumer "));
  EXPECT_THAT(line, HasSubstr(" parent=0102030405060708(remote) "));
  EXPECT_THAT(line, HasSubstr(" status=ok "));
  EXPECT_THAT(line, HasSubstr(" dropped_attrs=3"));
  EXPECT_THAT(line, HasSubstr(" dropped_events=4"));
  EXPECT_THAT(line, HasSubstr(" dropped_links=5"));

  s.kind = SpanKind::kServer;
  EXPECT_THAT(ConsoleSpanExporter::Format(s), HasSubstr(" kind=server "));
  s.kind = SpanKind::kProducer;
  EXPECT_THAT(ConsoleSpanExporter::Format(s), HasSubstr(" kind=producer "));
}

TEST(ConsoleSpanExporterTest, ArrayAndDoubleAttributes) {
  const std::string_view tags[] = {"a", "b"};
  const int64_t codes[] = {1, 2, 3};
  SpanData s = RootSpan("x");
  s.attributes = {{"tags", std::span<const std::string_view>(tags)},
                  {"codes", std::span<const int64_t>(codes)},
                  {"ratio", 0.5},
                  {"ok", true}};
  EXPECT_THAT(ConsoleSpanExporter::Format(s),
              HasSubstr("attrs={tags=[\"a\",\"b\"], codes=[1,2,3], ratio=0.5, ok=true}"));
}

TEST(ConsoleSpanExporterTest, ControlCharactersNeverBreakTheLine) {
  const std::string name = "multi\nline\tname";
  const std::string value = "a\r\nb\x01";
  SpanData s = RootSpan(name);
  s.attributes = {{"k", value}};
  std::string line = ConsoleSpanExporter::Format(s);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line.find('\r'), std::string::npos);
  EXPECT_THAT(line, HasSubstr("span \"multi\\nline\\tname\""));
  EXPECT_THAT(line, HasSubstr("k=\"a\\r\\nb\\x01\""));
}

TEST(ConsoleSpanExporterTest, MalformedEventRangeIsIgnored) {
  SpanData s = RootSpan("x");
  s.events = {EventData{.name = "e", .time_unix_nano = kStart, .attr_begin = 5, .attr_count = 2}};
  EXPECT_THAT(ConsoleSpanExporter::Format(s), HasSubstr("events=1[e@+0.000ms]"));
}

TEST(ConsoleSpanExporterTest, ExportWritesOneLinePerSpan) {
  File f(std::tmpfile());
  ASSERT_NE(f, nullptr);
  ConsoleSpanExporter exporter(f.get());
  SpanData a = RootSpan("first");
  SpanData b = RootSpan("second");
  const SpanData* batch[] = {&a, nullptr, &b};
  EXPECT_EQ(exporter.Export(batch), ExportResult::kSuccess);
  EXPECT_TRUE(exporter.ForceFlush(std::chrono::seconds(1)));

  std::string text = ReadAll(f.get());
  EXPECT_EQ(text, ConsoleSpanExporter::Format(a) + "\n" + ConsoleSpanExporter::Format(b) + "\n");
}

TEST(ConsoleSpanExporterTest, EmptyBatchWritesNothing) {
  File f(std::tmpfile());
  ASSERT_NE(f, nullptr);
  ConsoleSpanExporter exporter(f.get());
  EXPECT_EQ(exporter.Export({}), ExportResult::kSuccess);
  EXPECT_EQ(ReadAll(f.get()), "");
}

TEST(ConsoleSpanExporterTest, ExportAfterShutdownFails) {
  File f(std::tmpfile());
  ASSERT_NE(f, nullptr);
  ConsoleSpanExporter exporter(f.get());
  EXPECT_TRUE(exporter.Shutdown(std::chrono::seconds(1)));
  SpanData a = RootSpan("late");
  const SpanData* batch[] = {&a};
  EXPECT_EQ(exporter.Export(batch), ExportResult::kFailure);
  EXPECT_EQ(ReadAll(f.get()), "");
}

TEST(ConsoleSpanExporterTest, NullFileFailsWithoutCrashing) {
  ConsoleSpanExporter exporter(nullptr);
  SpanData a = RootSpan("x");
  const SpanData* batch[] = {&a};
  EXPECT_EQ(exporter.Export(batch), ExportResult::kFailure);
  EXPECT_FALSE(exporter.ForceFlush(std::chrono::seconds(1)));
}

}  // namespace
}  // namespace otlp::trace
