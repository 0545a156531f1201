// The span hot path: start+end with and without attributes, unsampled, disabled — through the
// real BatchSpanProcessor into an exporter that only counts, so the export thread's work runs
// on the other core exactly as in production. Allocations are counted with glibc malloc.
//
//   build/bench/span_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <memory>

#include "alloc_counter.h"
#include "bench_spans.h"
#include "otlp/trace/batch_processor.h"
#include "otlp/trace/provider.h"

namespace {

using namespace otlp::trace;

using otlp::bench::CountingExporter;

struct Pipeline {
  std::atomic<uint64_t> exported{0};
  BatchSpanProcessor* bsp = nullptr;
  std::shared_ptr<TracerProvider> provider;
  Tracer tracer;

  explicit Pipeline(std::shared_ptr<Sampler> sampler) {
    // Batches of 512 (the default) in a queue deep enough that a busy machine does not drop.
    auto p = BatchSpanProcessor::Create(std::make_unique<CountingExporter>(&exported),
                                        {.max_queue_size = 65536,
                                         .schedule_delay = std::chrono::milliseconds(200)});
    bsp = p.get();
    provider = TracerProvider::Create({.processor = std::move(p),
                                       .sampler = std::move(sampler),
                                       .resource = Resource()});
    tracer = provider->GetTracer("bench", "1.0");
  }
};

void Report(benchmark::State& state, Pipeline& p, uint64_t allocs_before) {
  // Allocations are read before the flush: the flush itself (a condition-variable wait) is not
  // part of the span's cost.
  uint64_t allocs = otlp::bench::Allocations() - allocs_before;
  auto before = p.bsp->stats();
  p.provider->ForceFlush();
  auto st = p.bsp->stats();
  state.counters["allocs/span"] =
      benchmark::Counter(static_cast<double>(allocs) / static_cast<double>(state.iterations()));
  state.counters["dropped"] = static_cast<double>(st.spans_dropped);
  // How often this thread paid a futex syscall to wake the export thread, per exported batch.
  state.counters["wakeups/batch"] = static_cast<double>(before.wakeups) /
                                    static_cast<double>(std::max<uint64_t>(1, before.batches));
}

inline void OneSpan(Tracer& t) {
  Span s = t.StartSpan("operation");
  s.End();
}

using otlp::bench::OneSpan5Attributes;

// One pipeline per benchmark for the whole process, warmed with bursts larger than the queue so
// every record the pipeline will ever circulate exists before measuring: what is measured is
// the steady state of a long-running service.
template <void (*Body)(Tracer&)>
Pipeline& Warmed() {
  static Pipeline* p = [] {
    auto* pipe = new Pipeline(Sampler::AlwaysOn());
    for (int round = 0; round < 4; ++round) {
      for (int i = 0; i < 100000; ++i) Body(pipe->tracer);
      pipe->provider->ForceFlush();
    }
    return pipe;
  }();
  return *p;
}

void BM_SpanStartEnd(benchmark::State& state) {
  Pipeline& p = Warmed<OneSpan>();
  uint64_t a0 = otlp::bench::Allocations();
  for (auto _ : state) OneSpan(p.tracer);
  Report(state, p, a0);
}
BENCHMARK(BM_SpanStartEnd);

void BM_SpanStartEnd5Attributes(benchmark::State& state) {
  Pipeline& p = Warmed<OneSpan5Attributes>();
  uint64_t a0 = otlp::bench::Allocations();
  for (auto _ : state) OneSpan5Attributes(p.tracer);
  Report(state, p, a0);
}
BENCHMARK(BM_SpanStartEnd5Attributes);

void BM_SpanUnsampled(benchmark::State& state) {
  Pipeline p(Sampler::AlwaysOff());
  uint64_t a0 = otlp::bench::Allocations();
  for (auto _ : state) {
    Span s = p.tracer.StartSpan("operation");
    s.SetAttribute("http.request.method", "GET");
    s.End();
  }
  Report(state, p, a0);
}
BENCHMARK(BM_SpanUnsampled);

void BM_DisabledTracer(benchmark::State& state) {
  Tracer tracer;  // no-op: what a library sees before the SDK is configured or when disabled
  uint64_t a0 = otlp::bench::Allocations();
  for (auto _ : state) {
    Span s = tracer.StartSpan("operation");
    s.SetAttribute("http.request.method", "GET");
    s.End();
  }
  state.counters["allocs/span"] = benchmark::Counter(
      static_cast<double>(otlp::bench::Allocations() - a0) /
      static_cast<double>(state.iterations()));
}
BENCHMARK(BM_DisabledTracer);

void BM_DisabledSdk(benchmark::State& state) {
  auto provider = TracerProvider::Noop();  // OTEL_SDK_DISABLED=true
  Tracer tracer = provider->GetTracer("bench");
  for (auto _ : state) {
    Span s = tracer.StartSpan("operation");
    s.End();
  }
}
BENCHMARK(BM_DisabledSdk);

// Reference points measured in the same process: the clock the span uses twice.
void BM_ReferenceClockGettime(benchmark::State& state) {
  for (auto _ : state) {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    benchmark::DoNotOptimize(ts);
  }
}
BENCHMARK(BM_ReferenceClockGettime);

// A CPU-bound reference that tracks the host's speed (clock_gettime mostly waits on the TSC and
// barely moves when the VM's neighbours slow the core down): one malloc+free of 64 bytes, the
// operation other SDKs do 8-21 times per span.
void BM_ReferenceMallocFree(benchmark::State& state) {
  for (auto _ : state) {
    void* p = std::malloc(64);
    benchmark::DoNotOptimize(p);
    std::free(p);
  }
}
BENCHMARK(BM_ReferenceMallocFree);

}  // namespace

BENCHMARK_MAIN();
