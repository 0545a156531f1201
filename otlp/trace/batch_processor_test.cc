#include "otlp/trace/batch_processor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "otlp/core/config.h"
#include "otlp/trace/in_memory_exporter.h"
#include "otlp/trace/internal/chunk_queue.h"
#include "otlp/trace/provider.h"

namespace otlp::trace {
namespace {

using std::chrono::milliseconds;

// Records batch sizes and span names; can be told to block inside Export until released.
class ProbeExporter final : public SpanExporter {
 public:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    bool block = false;
    bool blocked_now = false;
    bool shutdown_called = false;
    std::vector<size_t> batches;
    std::multiset<std::string> names;
    size_t total = 0;
  };
  explicit ProbeExporter(std::shared_ptr<State> s) : s_(std::move(s)) {}
  ExportResult Export(std::span<const SpanData* const> spans) noexcept override {
    std::unique_lock<std::mutex> lock(s_->mu);
    s_->blocked_now = s_->block;
    s_->cv.notify_all();
    s_->cv.wait(lock, [&] { return !s_->block || s_->shutdown_called; });
    s_->blocked_now = false;
    s_->batches.push_back(spans.size());
    for (const SpanData* d : spans) s_->names.insert(std::string(d->name));
    s_->total += spans.size();
    s_->cv.notify_all();
    return ExportResult::kSuccess;
  }
  bool Shutdown(std::chrono::microseconds) noexcept override {
    std::lock_guard<std::mutex> lock(s_->mu);
    s_->shutdown_called = true;
    s_->cv.notify_all();
    return true;
  }

 private:
  std::shared_ptr<State> s_;
};

struct Rig {
  std::shared_ptr<ProbeExporter::State> state = std::make_shared<ProbeExporter::State>();
  BatchSpanProcessor* bsp = nullptr;
  std::shared_ptr<TracerProvider> provider;
  Tracer tracer;
  explicit Rig(BatchSpanProcessorOptions o) {
    auto p = BatchSpanProcessor::Create(std::make_unique<ProbeExporter>(state), o);
    bsp = p.get();
    provider = TracerProvider::Create(
        {.processor = std::move(p), .sampler = Sampler::AlwaysOn(), .resource = Resource()});
    tracer = provider->GetTracer("bsp-test");
  }
};

TEST(BatchSpanProcessorTest, ManyThreadsEverySpanExportedOnFlush) {
  Rig rig({.max_queue_size = 100000, .max_export_batch_size = 512,
           .schedule_delay = milliseconds(60000)});
  constexpr int kThreads = 4, kPerThread = 5000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        rig.tracer.StartSpan("t" + std::to_string(t)).SetAttribute("i", i).End();
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE(rig.provider->ForceFlush(std::chrono::seconds(30)));
  std::lock_guard<std::mutex> lock(rig.state->mu);
  EXPECT_EQ(rig.state->total, size_t{kThreads * kPerThread});
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(rig.state->names.count("t" + std::to_string(t)), size_t{kPerThread});
  for (size_t b : rig.state->batches) EXPECT_LE(b, 512u);
  auto st = rig.bsp->stats();
  EXPECT_EQ(st.spans_dropped, 0u);
  EXPECT_EQ(st.spans_exported, uint64_t{kThreads * kPerThread});
}

TEST(BatchSpanProcessorTest, FullQueueDropsAndCountsWithoutBlocking) {
  Rig rig({.max_queue_size = 64, .max_export_batch_size = 16,
           .schedule_delay = milliseconds(60000)});
  {
    std::lock_guard<std::mutex> lock(rig.state->mu);
    rig.state->block = true;
  }
  // Fill until the export thread is stuck inside Export with a batch.
  rig.tracer.StartSpan("first").End();
  for (int i = 0; i < 15; ++i) rig.tracer.StartSpan("fill").End();
  {
    std::unique_lock<std::mutex> lock(rig.state->mu);
    ASSERT_TRUE(rig.state->cv.wait_for(lock, std::chrono::seconds(30),
                                       [&] { return rig.state->blocked_now; }));
  }
  // The producer keeps going although nothing is drained: 1000 spans, queue of 64.
  for (int i = 0; i < 1000; ++i) rig.tracer.StartSpan("burst").End();
  auto st = rig.bsp->stats();
  EXPECT_GE(st.spans_dropped, 1000u - 64u);
  {
    std::lock_guard<std::mutex> lock(rig.state->mu);
    rig.state->block = false;
    rig.state->cv.notify_all();
  }
  ASSERT_TRUE(rig.provider->ForceFlush(std::chrono::seconds(30)));
  st = rig.bsp->stats();
  std::lock_guard<std::mutex> lock(rig.state->mu);
  EXPECT_EQ(rig.state->total + st.spans_dropped, 1016u);
}

TEST(BatchSpanProcessorTest, ScheduleDelayExportsWithoutFlush) {
  auto store = std::make_shared<InMemorySpanStore>();
  auto provider = TracerProvider::Create(
      {.processor = BatchSpanProcessor::Create(std::make_unique<InMemorySpanExporter>(store),
                                               {.schedule_delay = milliseconds(20)}),
       .sampler = Sampler::AlwaysOn(),
       .resource = Resource()});
  provider->GetTracer("t").StartSpan("timed").End();
  EXPECT_TRUE(store->WaitForSpans(1, milliseconds(30000)));
}

TEST(BatchSpanProcessorTest, FullBatchWakesTheExportThread) {
  auto store = std::make_shared<InMemorySpanStore>();
  auto provider = TracerProvider::Create(
      {.processor = BatchSpanProcessor::Create(
           std::make_unique<InMemorySpanExporter>(store),
           {.max_queue_size = 1000, .max_export_batch_size = 10,
            .schedule_delay = milliseconds(3'600'000)}),
       .sampler = Sampler::AlwaysOn(),
       .resource = Resource()});
  auto tracer = provider->GetTracer("t");
  for (int i = 0; i < 10; ++i) tracer.StartSpan("s").End();
  // No flush and an hour-long delay: only the batch-size wake-up can deliver these.
  EXPECT_TRUE(store->WaitForSpans(10, milliseconds(30000)));
}

// Counts exported spans; a test can wait for a count.
class CountingExporter final : public SpanExporter {
 public:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    uint64_t spans = 0;
  };
  explicit CountingExporter(std::shared_ptr<State> s) : s_(std::move(s)) {}
  ExportResult Export(std::span<const SpanData* const> spans) noexcept override {
    std::lock_guard<std::mutex> lock(s_->mu);
    s_->spans += spans.size();
    s_->cv.notify_all();
    return ExportResult::kSuccess;
  }

 private:
  std::shared_ptr<State> s_;
};

// A steady flow of spans is exported batch by batch without flushes or timer, while the
// producing thread rarely pays for waking the export thread: that polls while spans flow.
TEST(BatchSpanProcessorTest, SteadyFlowIsExportedWithFewWakeups) {
  auto counted = std::make_shared<CountingExporter::State>();
  auto p = BatchSpanProcessor::Create(std::make_unique<CountingExporter>(counted),
                                      {.max_queue_size = 65536, .max_export_batch_size = 256,
                                       .schedule_delay = milliseconds(3'600'000)});
  BatchSpanProcessor* bsp = p.get();
  auto provider = TracerProvider::Create(
      {.processor = std::move(p), .sampler = Sampler::AlwaysOn(), .resource = Resource()});
  auto tracer = provider->GetTracer("t");
  constexpr uint64_t kSpans = 200'000;
  for (uint64_t i = 0; i < kSpans; ++i) tracer.StartSpan("flow").End();
  // Everything but the last partial batch goes out on its own (the timer is an hour away).
  const uint64_t dropped = bsp->stats().spans_dropped;
  {
    std::unique_lock<std::mutex> lock(counted->mu);
    EXPECT_TRUE(counted->cv.wait_for(lock, std::chrono::seconds(60),
                                     [&] { return counted->spans + dropped + 255 >= kSpans; }));
  }
  // (The processor counts a batch just after its Export returns: allow the last one.)
  auto st = bsp->stats();
  EXPECT_GE(st.batches, (kSpans - dropped) / 256 - 2);
  // Waking on every full batch would be ~780 wakeups.
  EXPECT_LT(st.wakeups * 4, st.batches) << "wakeups " << st.wakeups;
  ASSERT_TRUE(provider->ForceFlush(std::chrono::seconds(30)));
  EXPECT_EQ(bsp->stats().spans_exported + bsp->stats().spans_dropped, kSpans);
}

// A stepped clock for the chunk switches: each read advances it by `step`.
std::atomic<int64_t> g_fake_now{1'000'000'000'000};
std::atomic<int64_t> g_fake_step{0};
int64_t FakeChunkClock() noexcept { return g_fake_now.fetch_add(g_fake_step.load()); }

// A thread ending spans fast writes each chunk again only after 16 others were exported (so
// the export thread's core no longer holds its lines); quiet for a second, it gives them back.
TEST(BatchSpanProcessorTest, FastThreadKeepsADeepChunkRingAndAQuietOneGivesItBack) {
  internal::SetChunkSwitchClock(&FakeChunkClock);
  g_fake_step = 1'000'000;  // a new chunk every millisecond: fast
  auto counted = std::make_shared<CountingExporter::State>();
  auto p = BatchSpanProcessor::Create(std::make_unique<CountingExporter>(counted),
                                      {.max_queue_size = 65536, .max_export_batch_size = 512,
                                       .schedule_delay = milliseconds(5)});
  BatchSpanProcessor* bsp = p.get();
  auto provider = TracerProvider::Create(
      {.processor = std::move(p), .sampler = Sampler::AlwaysOn(), .resource = Resource()});
  auto tracer = provider->GetTracer("t");
  constexpr uint64_t kChunk = 64 * 1024;
  EXPECT_EQ(bsp->stats().buffer_bytes, 0u);
  // ~130 bytes a span: 300 000 spans fill ~600 chunks.
  for (int i = 0; i < 300'000; ++i) tracer.StartSpan("fast").End();
  ASSERT_TRUE(provider->ForceFlush(std::chrono::seconds(30)));
  const uint64_t busy = bsp->stats().buffer_bytes;
  EXPECT_GT(busy, 16 * kChunk);
  EXPECT_LE(busy, 80 * kChunk);  // 32 idle + 32 on their way back + a few being written
  // Two seconds pass before the next switch, then a new chunk only every 20 ms: quiet.
  g_fake_now += 2'000'000'000;
  g_fake_step = 20'000'000;
  for (int i = 0; i < 3000; ++i) tracer.StartSpan("quiet").End();
  ASSERT_TRUE(provider->ForceFlush(std::chrono::seconds(30)));
  internal::SetChunkSwitchClock(nullptr);
  const BatchSpanProcessorStats st = bsp->stats();
  EXPECT_LE(st.buffer_bytes, 8 * kChunk) << "busy " << busy;
  EXPECT_GT(st.buffer_bytes, 0u);
  EXPECT_EQ(st.spans_exported + st.spans_dropped, 303'000u);
}

// Span::End hands its record to the enqueue, which returns it to the thread's pool only once it
// has copied the span. So a span started and ended on the same thread from inside the enqueue
// (here by the chunk-switch clock, read when the thread's first chunk opens) takes another
// record and leaves the one being copied alone.
std::atomic<bool> g_start_nested{false};
Tracer* g_nested_tracer = nullptr;
int64_t ClockThatStartsASpan() noexcept {
  if (g_start_nested.exchange(false)) {
    Span nested = g_nested_tracer->StartSpan("nested-span-that-would-overwrite-the-record");
    nested.SetAttribute("k", "nested");
    nested.End();
  }
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(BatchSpanProcessorTest, SpanStartedInsideTheEnqueueLeavesTheEndingSpanIntact) {
  auto store = std::make_shared<InMemorySpanStore>();
  auto provider = TracerProvider::Create(
      {.processor = BatchSpanProcessor::Create(std::make_unique<InMemorySpanExporter>(store)),
       .sampler = Sampler::AlwaysOn(),
       .resource = Resource()});
  auto elsewhere = TracerProvider::Create({.sampler = Sampler::AlwaysOn(), .resource = Resource()});
  Tracer nested_tracer = elsewhere->GetTracer("nested");
  g_nested_tracer = &nested_tracer;
  Tracer tracer = provider->GetTracer("t");
  internal::SetChunkSwitchClock(&ClockThatStartsASpan);
  // A new thread: its first span opens the thread's queue and first chunk inside the enqueue.
  std::thread([&] {
    Span s = tracer.StartSpan("outer");
    s.SetAttribute("k", "outer");
    g_start_nested = true;
    s.End(std::chrono::system_clock::now());  // an explicit end time: Span::End's lean path
  }).join();
  internal::SetChunkSwitchClock(nullptr);
  EXPECT_FALSE(g_start_nested.load());  // the nested span was started
  ASSERT_TRUE(provider->ForceFlush(std::chrono::seconds(30)));
  auto spans = store->Spans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].name, "outer");
  EXPECT_EQ(std::get<std::string>(*spans[0].Attribute("k")), "outer");
}

TEST(BatchSpanProcessorTest, ShutdownExportsWhatIsQueuedAndDropsLaterSpans) {
  Rig rig({.schedule_delay = milliseconds(60000)});
  for (int i = 0; i < 100; ++i) rig.tracer.StartSpan("q").End();
  Span late = rig.tracer.StartSpan("late");  // started before shutdown, ended after
  EXPECT_TRUE(rig.provider->Shutdown(std::chrono::seconds(30)));
  late.End();
  std::lock_guard<std::mutex> lock(rig.state->mu);
  EXPECT_EQ(rig.state->total, 100u);
  EXPECT_TRUE(rig.state->shutdown_called);
  EXPECT_EQ(rig.bsp->stats().spans_dropped, 1u);
  EXPECT_FALSE(rig.tracer.StartSpan("after").IsRecording());
}

TEST(BatchSpanProcessorTest, ShutdownIsBoundedWhenTheExporterHangs) {
  Rig rig({.schedule_delay = milliseconds(60000)});
  {
    std::lock_guard<std::mutex> lock(rig.state->mu);
    rig.state->block = true;  // Export blocks until Shutdown is called on the exporter
  }
  rig.tracer.StartSpan("stuck").End();
  EXPECT_FALSE(rig.bsp->Shutdown(milliseconds(200)));
  std::lock_guard<std::mutex> lock(rig.state->mu);
  EXPECT_TRUE(rig.state->shutdown_called);
}

TEST(BatchSpanProcessorTest, SpansFromExitedThreadsAreExported) {
  Rig rig({.schedule_delay = milliseconds(60000)});
  for (int round = 0; round < 20; ++round) {
    std::thread([&] {
      for (int i = 0; i < 50; ++i) rig.tracer.StartSpan("short-lived").End();
    }).join();
  }
  ASSERT_TRUE(rig.provider->ForceFlush(std::chrono::seconds(30)));
  std::lock_guard<std::mutex> lock(rig.state->mu);
  EXPECT_EQ(rig.state->total, 1000u);
}

TEST(BatchSpanProcessorTest, UnsampledRecordedSpansAreNotExported) {
  struct RecordOnly : Sampler {
    SamplingResult ShouldSample(const SpanContext*, const TraceId&, std::string_view, SpanKind,
                                std::span<const KeyValue>) const noexcept override {
      return {SamplingDecision::kRecordOnly, std::nullopt};
    }
  };
  auto state = std::make_shared<ProbeExporter::State>();
  auto provider = TracerProvider::Create(
      {.processor = BatchSpanProcessor::Create(std::make_unique<ProbeExporter>(state)),
       .sampler = std::make_shared<RecordOnly>(),
       .resource = Resource()});
  Span s = provider->GetTracer("t").StartSpan("r");
  EXPECT_TRUE(s.IsRecording());
  EXPECT_FALSE(s.GetContext().IsSampled());
  s.End();
  ASSERT_TRUE(provider->ForceFlush(std::chrono::seconds(30)));
  std::lock_guard<std::mutex> lock(state->mu);
  EXPECT_EQ(state->total, 0u);
}

TEST(BatchSpanProcessorTest, OptionsFromEnvironmentAndClamping) {
  config::Reader env({{"OTEL_BSP_MAX_QUEUE_SIZE", "100"},
                      {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "500"},
                      {"OTEL_BSP_SCHEDULE_DELAY", "abc"}});
  auto state = std::make_shared<ProbeExporter::State>();
  auto p = BatchSpanProcessor::Create(std::make_unique<ProbeExporter>(state), {}, &env);
  EXPECT_EQ(p->max_queue_size(), 100u);
  EXPECT_EQ(p->max_export_batch_size(), 100u);  // lowered to the queue size
  EXPECT_FALSE(env.warnings().empty());          // "abc" is not an integer
  auto q = BatchSpanProcessor::Create(std::make_unique<ProbeExporter>(state),
                                      {.max_queue_size = 7}, &env);
  EXPECT_EQ(q->max_queue_size(), 7u);  // code wins over the environment
}

TEST(BatchSpanProcessorTest, WorksInsideMultiSpanProcessor) {
  auto store1 = std::make_shared<InMemorySpanStore>();
  auto store2 = std::make_shared<InMemorySpanStore>();
  std::vector<std::unique_ptr<SpanProcessor>> ps;
  ps.push_back(BatchSpanProcessor::Create(std::make_unique<InMemorySpanExporter>(store1)));
  ps.push_back(std::make_unique<SimpleSpanProcessor>(std::make_unique<InMemorySpanExporter>(store2)));
  auto provider = TracerProvider::Create({.processor = std::make_unique<MultiSpanProcessor>(std::move(ps)),
                                          .sampler = Sampler::AlwaysOn(),
                                          .resource = Resource()});
  provider->GetTracer("t").StartSpan("both").SetAttribute("k", "v").End();
  ASSERT_TRUE(provider->ForceFlush(std::chrono::seconds(30)));
  ASSERT_EQ(store1->size(), 1u);
  ASSERT_EQ(store2->size(), 1u);
  EXPECT_EQ(store1->Spans()[0].name, "both");
  EXPECT_EQ(std::get<std::string>(*store1->Spans()[0].Attribute("k")), "v");
  EXPECT_EQ(store2->Spans()[0].name, "both");
}

// The export thread runs with tracing suppressed: a span an exporter starts inside Export is not
// recorded, so nothing of the exporter's own is ever exported.
TEST(BatchSpanProcessorTest, ExportThreadHasTracingSuppressed) {
  struct State {
    std::mutex mu;
    Tracer tracer;
    std::vector<Span> started;  // ended by the test, after the export
    int exports = 0;
    int suppressed = 0;
    size_t spans = 0;
  };
  class TracingExporter final : public SpanExporter {
   public:
    explicit TracingExporter(State* s) : s_(s) {}
    ExportResult Export(std::span<const SpanData* const> spans) noexcept override {
      std::lock_guard<std::mutex> lock(s_->mu);
      ++s_->exports;
      if (IsTracingSuppressed()) ++s_->suppressed;
      s_->spans += spans.size();
      s_->started.push_back(s_->tracer.StartSpan("inside-export"));
      return ExportResult::kSuccess;
    }

   private:
    State* s_;
  };
  State state;
  auto provider = TracerProvider::Create(
      {.processor = BatchSpanProcessor::Create(std::make_unique<TracingExporter>(&state),
                                               {.schedule_delay = milliseconds(60000)}),
       .sampler = Sampler::AlwaysOn(),
       .resource = Resource()});
  {
    std::lock_guard<std::mutex> lock(state.mu);
    state.tracer = provider->GetTracer("t");
  }
  Tracer app = provider->GetTracer("t");
  for (int i = 0; i < 3; ++i) app.StartSpan("app").End();
  ASSERT_TRUE(provider->ForceFlush(std::chrono::seconds(30)));
  std::vector<Span> started;
  {
    std::lock_guard<std::mutex> lock(state.mu);
    EXPECT_GE(state.exports, 1);
    EXPECT_EQ(state.suppressed, state.exports);
    started = std::move(state.started);
    state.started.clear();
  }
  for (Span& s : started) EXPECT_FALSE(s.IsRecording());
  started.clear();  // ends them here: were they recording, a second flush would export them
  ASSERT_TRUE(provider->ForceFlush(std::chrono::seconds(30)));
  std::lock_guard<std::mutex> lock(state.mu);
  EXPECT_EQ(state.spans, 3u);
  EXPECT_FALSE(IsTracingSuppressed());  // only the export thread is suppressed
}

}  // namespace
}  // namespace otlp::trace
