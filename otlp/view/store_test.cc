#include "otlp/view/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "otlp/view/view_test_data.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace otlp::view {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;
using testing::kTraceA;
using testing::kTraceB;
using testing::OtlpJson;
using testing::TestSpan;
using testing::ThreeServiceTrace;

exporter::decoded::TraceRequest Decode(const std::vector<TestSpan>& spans) {
  auto r = exporter::DecodeTraceRequestJson(OtlpJson(spans));
  EXPECT_TRUE(r.ok()) << r.status().message();
  return std::move(*r);
}

std::unique_ptr<Store> OpenOrDie(StoreOptions options = {}) {
  options.on_error = [](const Status& st) { ADD_FAILURE() << "write failed: " << st.message(); };
  auto s = Store::Open(std::move(options));
  EXPECT_TRUE(s.ok()) << s.status().message();
  return std::move(*s);
}

TEST(StoreTest, StoresATraceAndAnswersTheApiShapes) {
  auto store = OpenOrDie();
  EXPECT_TRUE(store->AddTraces(Decode(ThreeServiceTrace())));
  store->Flush();

  const json services = json::parse(store->ServicesJson());
  ASSERT_EQ(services["services"].size(), 3u);
  EXPECT_EQ(services["services"][1]["name"], "frontend");
  EXPECT_EQ(services["services"][1]["spans"], 2);
  EXPECT_EQ(services["services"][1]["errors"], 1);

  const json list = json::parse(store->TracesJson({}));
  ASSERT_EQ(list["traces"].size(), 1u);
  const json& t = list["traces"][0];
  EXPECT_EQ(t["trace_id"], kTraceA);
  EXPECT_EQ(t["root_service"], "client");
  EXPECT_EQ(t["root_name"], "GET");
  EXPECT_EQ(t["span_count"], 4);
  EXPECT_EQ(t["error_count"], 2);
  EXPECT_EQ(t["duration_ns"], 50'000'000);
  EXPECT_EQ(t["start_unix_nano"], "1765100000000000000");

  auto trace = store->TraceJson(kTraceA);
  ASSERT_TRUE(trace.has_value());
  const json tj = json::parse(*trace);
  ASSERT_EQ(tj["spans"].size(), 4u);
  EXPECT_EQ(tj["spans"][0]["parent_span_id"], "");
  EXPECT_EQ(tj["spans"][0]["kind"], "client");
  EXPECT_EQ(tj["spans"][0]["service"], "client");
  EXPECT_EQ(tj["spans"][0]["resource"]["attributes"][0]["key"], "service.name");
  EXPECT_EQ(tj["spans"][3]["status"]["code"], "error");
  EXPECT_EQ(tj["spans"][3]["parent_span_id"], "3333333333333333");
  EXPECT_FALSE(store->TraceJson(kTraceB).has_value());

  const json map = json::parse(store->ServiceMapJson());
  ASSERT_EQ(map["edges"].size(), 2u);
  EXPECT_EQ(map["edges"][0], json({{"parent", "client"}, {"child", "frontend"}, {"calls", 1},
                                   {"errors", 0}}));
  EXPECT_EQ(map["edges"][1], json({{"parent", "frontend"}, {"child", "orders"}, {"calls", 1},
                                   {"errors", 1}}));
}

TEST(StoreTest, SearchFilters) {
  auto store = OpenOrDie();
  EXPECT_TRUE(store->AddTraces(Decode(ThreeServiceTrace())));
  EXPECT_TRUE(store->AddTraces(Decode({{"batch", kTraceB, "5555555555555555", "", "nightly", 1,
                            1765200000000000000ull, 1765200000001000000ull, 0,
                            {{"job", "reindex"}}}})));
  store->Flush();
  auto ids = [&](TraceQuery q) {
    std::vector<std::string> out;
    const json list = json::parse(store->TracesJson(q));
    for (const json& t : list["traces"]) out.push_back(t["trace_id"]);
    return out;
  };
  EXPECT_THAT(ids({}), ::testing::ElementsAre(kTraceB, kTraceA));  // newest first
  EXPECT_THAT(ids({.service = "orders"}), ::testing::ElementsAre(kTraceA));
  EXPECT_THAT(ids({.span_name = "nightly"}), ::testing::ElementsAre(kTraceB));
  EXPECT_THAT(ids({.attributes = {{"http.response.status_code", "503"}}}),
              ::testing::ElementsAre(kTraceA));
  EXPECT_THAT(ids({.attributes = {{"service.name", "batch"}}}), ::testing::ElementsAre(kTraceB));
  EXPECT_THAT(ids({.attributes = {{"job", "other"}}}), ::testing::IsEmpty());
  EXPECT_THAT(ids({.min_duration_ns = 10'000'000}), ::testing::ElementsAre(kTraceA));
  EXPECT_THAT(ids({.status = TraceQuery::StatusFilter::kError}), ::testing::ElementsAre(kTraceA));
  EXPECT_THAT(ids({.status = TraceQuery::StatusFilter::kOk}), ::testing::ElementsAre(kTraceB));
  EXPECT_THAT(ids({.start_unix_nano = 1765150000000000000ull}), ::testing::ElementsAre(kTraceB));
  EXPECT_THAT(ids({.end_unix_nano = 1765150000000000000ull}), ::testing::ElementsAre(kTraceA));
  EXPECT_THAT(ids({.limit = 1}), ::testing::ElementsAre(kTraceB));
  EXPECT_EQ(json::parse(store->TracesJson({.limit = 1}))["total"], 2);
}

TEST(StoreTest, ASpanSentTwiceIsStoredOnceAndLateSpansUpdateTheTrace) {
  auto store = OpenOrDie();
  auto spans = ThreeServiceTrace();
  // The root arrives last: until then the earliest span stands in for it.
  std::vector<TestSpan> children(spans.begin() + 1, spans.end());
  EXPECT_TRUE(store->AddTraces(Decode(children)));
  store->Flush();
  json t = json::parse(store->TracesJson({}))["traces"][0];
  EXPECT_EQ(t["root_service"], "frontend");
  EXPECT_TRUE(store->AddTraces(Decode(children)));  // an exporter's retry
  EXPECT_TRUE(store->AddTraces(Decode({spans[0]})));
  store->Flush();
  t = json::parse(store->TracesJson({}))["traces"][0];
  EXPECT_EQ(t["span_count"], 4);
  EXPECT_EQ(t["error_count"], 2);
  EXPECT_EQ(t["root_service"], "client");
  EXPECT_EQ(store->Stats().spans, 4u);
}

TEST(StoreTest, AFileDatabaseSurvivesRestart) {
  auto dir = std::make_unique<test::TempDir>("otlp-view-");
  const std::string path = dir->Join("view.db");
  {
    auto store = OpenOrDie(StoreOptions{.path = path});
    EXPECT_TRUE(store->AddTraces(Decode(ThreeServiceTrace())));
  }  // the destructor writes what is queued
  auto store = OpenOrDie(StoreOptions{.path = path});
  EXPECT_EQ(store->Stats().traces, 1u);
  EXPECT_EQ(store->TraceSpans(kTraceA).size(), 4u);
}

TEST(StoreTest, BadDatabaseFilesAreClearErrors) {
  auto dir = std::make_unique<test::TempDir>("otlp-view-");
  ASSERT_OK(dir->WriteFile("garbage.db", std::string(4096, 'x')));
  EXPECT_THAT(Store::Open(StoreOptions{.path = dir->Join("garbage.db")}),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("garbage.db")));
  EXPECT_THAT(Store::Open(StoreOptions{.path = dir->Join("no/such/dir/x.db")}),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("x.db")));
  // A database nobody may write (also when the test runs as root), after it stored a trace.
  const std::string ro = dir->Join("ro.db");
  {
    auto store = OpenOrDie(StoreOptions{.path = ro});
    EXPECT_TRUE(store->AddTraces(Decode(ThreeServiceTrace())));
  }
  ASSERT_EQ(chmod(ro.c_str(), 0444), 0);
  EXPECT_THAT(Store::Open(StoreOptions{.path = ro}),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("read-only")));
  ASSERT_EQ(chmod(ro.c_str(), 0644), 0);
  EXPECT_EQ(OpenOrDie(StoreOptions{.path = ro})->Stats().spans, 4u);  // nothing was lost
}

TEST(StoreTest, TheSizeCapDropsTheOldestTraces) {
  auto store = OpenOrDie(StoreOptions{.max_bytes = 512 * 1024});
  for (int i = 0; i < 400; ++i) {
    char id[33];
    std::snprintf(id, sizeof id, "%032x", i + 1);
    std::vector<TestSpan> spans;
    for (int j = 0; j < 10; ++j) {
      char sid[17];
      std::snprintf(sid, sizeof sid, "%016x", j + 1);
      spans.push_back({"svc", id, sid, "", "span", 1, 1765100000000000000ull + i * 1000000ull,
                       1765100000000000000ull + i * 1000000ull + 500, 0,
                       {{"payload", std::string(200, 'p')}}});
    }
    // A capped store's queue is small: when it is full, wait until the writer has caught up
    // and send again, as an exporter answered 503 would.
    while (!store->AddTraces(Decode(spans))) store->Flush();
  }
  store->Flush();
  const StoreStats stats = store->Stats();
  EXPECT_LE(stats.db_bytes, 512u * 1024u);
  EXPECT_GT(stats.traces, 0u);
  EXPECT_LT(stats.traces, 400u);
  // The newest trace is kept, the oldest is gone.
  EXPECT_TRUE(store->TraceJson("00000000000000000000000000000190").has_value());
  EXPECT_FALSE(store->TraceJson("00000000000000000000000000000001").has_value());
}

TEST(StoreTest, TraceSpansForTheWaterfall) {
  auto store = OpenOrDie();
  EXPECT_TRUE(store->AddTraces(Decode(ThreeServiceTrace())));
  store->Flush();
  const auto spans = store->TraceSpans(kTraceA);
  ASSERT_EQ(spans.size(), 4u);
  EXPECT_EQ(spans[0].service, "client");
  EXPECT_EQ(spans[0].kind, 3);
  EXPECT_EQ(spans[2].status, 2);
  EXPECT_EQ(spans[3].parent_span_id, "3333333333333333");
  EXPECT_THAT(spans[2].attributes,
              ::testing::Contains(std::pair<std::string, std::string>("error.type", "503")));
}

TEST(StoreTest, ExportWritesWhatWasReceivedAsOtlpJsonLines) {
  auto store = OpenOrDie();
  const std::string rich = R"({"resourceSpans":[{"resource":{"attributes":[
      {"key":"service.name","value":{"stringValue":"orders"}},
      {"key":"host.cores","value":{"intValue":"8"}}],"droppedAttributesCount":1},
    "schemaUrl":"https://opentelemetry.io/schemas/1.26.0",
    "scopeSpans":[{"scope":{"name":"orders.http","version":"1.2"},"schemaUrl":"s",
      "spans":[{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7",
        "parentSpanId":"1111111111111111","traceState":"k=v","flags":257,"name":"POST /orders",
        "kind":2,"startTimeUnixNano":"1765100000000000001","endTimeUnixNano":"1765100000000000999",
        "attributes":[{"key":"s","value":{"stringValue":"x"}},{"key":"b","value":{"boolValue":true}},
          {"key":"i","value":{"intValue":"-9007199254740993"}},{"key":"d","value":{"doubleValue":0.5}},
          {"key":"nan","value":{"doubleValue":"NaN"}},{"key":"bytes","value":{"bytesValue":"AAEC/w=="}},
          {"key":"a","value":{"arrayValue":{"values":[{"intValue":"1"},{"stringValue":"two"}]}}},
          {"key":"kv","value":{"kvlistValue":{"values":[{"key":"n","value":{"boolValue":false}}]}}},
          {"key":"empty","value":{}}],
        "droppedAttributesCount":2,
        "events":[{"timeUnixNano":"1765100000000000500","name":"exception","attributes":[
          {"key":"exception.type","value":{"stringValue":"E"}}],"droppedAttributesCount":1}],
        "droppedEventsCount":3,
        "links":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331",
          "traceState":"a=b","flags":769,"attributes":[],"droppedAttributesCount":4}],
        "droppedLinksCount":5,"status":{"code":2,"message":"declined"}}]}]}]})";
  auto decoded_rich = exporter::DecodeTraceRequestJson(rich);
  ASSERT_OK(decoded_rich);
  const auto original = *decoded_rich;
  EXPECT_TRUE(store->AddTraces(std::move(*decoded_rich)));
  EXPECT_TRUE(store->AddTraces(Decode(ThreeServiceTrace())));

  std::ostringstream out;
  auto lines = store->ExportJsonLines(out);
  ASSERT_OK(lines);
  EXPECT_EQ(*lines, 1u);  // one trace: the rich span belongs to the three-service trace
  // Every line reads back as OTLP/JSON, and the rich span comes back exactly as received.
  std::istringstream in(out.str());
  std::string line;
  bool found = false;
  size_t spans = 0;
  while (std::getline(in, line)) {
    auto back = exporter::DecodeTraceRequestJson(line);
    ASSERT_OK(back) << line;
    spans += back->span_count();
    for (const auto& rs : back->resource_spans) {
      for (const auto& ss : rs.scope_spans) {
        for (const auto& span : ss.spans) {
          if (span.span_id != original.resource_spans[0].scope_spans[0].spans[0].span_id) continue;
          found = true;
          EXPECT_NE(line.find(R"("doubleValue":"NaN")"), std::string::npos);
          // NaN is unequal to itself: compare everything else.
          auto without_nan = [](exporter::decoded::Span sp) {
            std::erase_if(sp.attributes, [](const auto& kv) { return kv.key == "nan"; });
            return sp;
          };
          EXPECT_TRUE(without_nan(span) ==
                      without_nan(original.resource_spans[0].scope_spans[0].spans[0]));
          EXPECT_EQ(span.attributes.size(), 9u);
          EXPECT_TRUE(rs.resource == original.resource_spans[0].resource);
          EXPECT_EQ(rs.schema_url, "https://opentelemetry.io/schemas/1.26.0");
          EXPECT_TRUE(ss.scope == original.resource_spans[0].scope_spans[0].scope);
          EXPECT_EQ(ss.schema_url, "s");
        }
      }
    }
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(spans, 5u);
}

TEST(StoreTest, ADatabaseOfAnotherLayoutIsRefused) {
  auto dir = std::make_unique<test::TempDir>("otlp-view-");
  const std::string path = dir->Join("other.db");
  { OpenOrDie(StoreOptions{.path = path}); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_THAT(Store::Open(StoreOptions{.path = path}),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("another version")));
}

TEST(StoreTest, AFullQueueRefusesRequestsInsteadOfGrowing) {
  // The writer is held inside its first batch's callback: what arrives meanwhile queues up to
  // the bound, and beyond it is refused.
  std::mutex mu;
  std::condition_variable cv;
  bool in_callback = false, release = false;
  auto store = OpenOrDie(StoreOptions{
      .max_queued_items = 10,
      .on_traces_written = [&](const std::vector<std::string>&) {
        std::unique_lock lock(mu);
        in_callback = true;
        cv.notify_all();
        cv.wait(lock, [&] { return release; });
      }});
  auto trace = [](int n) {
    auto spans = ThreeServiceTrace();
    for (auto& span : spans) span.trace_id = std::string(31, '0') + std::to_string(n);
    return Decode(spans);
  };
  EXPECT_TRUE(store->AddTraces(trace(1)));  // 4 spans, taken by the writer (held)
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return in_callback; });
  }
  EXPECT_TRUE(store->AddTraces(trace(2)));   // 8 queued or in the writer
  EXPECT_FALSE(store->AddTraces(trace(3)));  // 12 > 10: refused, nothing queued
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  store->Flush();
  EXPECT_EQ(store->Stats().traces, 2u);
  EXPECT_TRUE(store->AddTraces(trace(3)));  // room again
  store->Flush();
  EXPECT_EQ(store->Stats().traces, 3u);
}

}  // namespace
}  // namespace otlp::view
