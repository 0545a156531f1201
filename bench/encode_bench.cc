// Encoding throughput of ExportTraceServiceRequest: protobuf and OTLP/JSON, for batches of 512
// and 8192 spans with 5 attributes (3 strings, 2 integers), one resource and one scope.
// Items processed = spans, so the report reads as spans/s; allocs_per_batch (glibc malloc,
// counted by alloc_counter) stays the same for 512 and 8192 spans: nothing is allocated per span.
//
//   build/bench/encode_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "alloc_counter.h"
#include "otlp/exporter/otlp_encoder.h"
#include "otlp/trace/resource.h"

namespace {

using otlp::exporter::EncodeTraceRequestJson;
using otlp::exporter::EncodeTraceRequestProto;
using otlp::trace::InstrumentationScope;
using otlp::trace::Resource;
using otlp::trace::SpanContext;
using otlp::trace::SpanData;
using otlp::trace::SpanId;
using otlp::trace::SpanKind;
using otlp::trace::TraceFlags;
using otlp::trace::TraceId;

struct Batch {
  Resource resource;
  InstrumentationScope scope;
  std::vector<std::string> routes;
  std::vector<SpanData> spans;
  std::vector<const SpanData*> ptrs;

  explicit Batch(size_t n) {
    otlp::OwnedAttributes ra;
    ra.Set("service.name", otlp::AttributeValue("checkout"));
    ra.Set("telemetry.sdk.language", otlp::AttributeValue("cpp"));
    ra.Set("host.name", otlp::AttributeValue("bench-host-01"));
    resource = Resource(ra);
    scope.name = "otlp-cpp/bench";
    scope.version = "1.0.0";
    routes.reserve(n);
    spans.resize(n);
    for (size_t i = 0; i < n; ++i) {
      routes.push_back("/api/v1/items/" + std::to_string(i % 1000));
      uint8_t tid[16], sid[8];
      for (int k = 0; k < 16; ++k) tid[k] = static_cast<uint8_t>(i * 31 + k + 1);
      for (int k = 0; k < 8; ++k) sid[k] = static_cast<uint8_t>(i * 17 + k + 1);
      SpanData& s = spans[i];
      s.context = SpanContext(TraceId(tid), SpanId(sid), TraceFlags(1), false);
      if (i % 4 != 0) {
        sid[0] ^= 0x55;
        s.parent_span_id = SpanId(sid);
      }
      s.name = "GET /api/v1/items/{id}";
      s.kind = SpanKind::kServer;
      s.start_unix_nano = 1700000000000000000 + static_cast<int64_t>(i) * 1000;
      s.end_unix_nano = s.start_unix_nano + 250000;
      s.attributes = {
          {"http.request.method", "GET"},
          {"url.path", std::string_view(routes.back())},
          {"http.response.status_code", 200},
          {"server.address", "shop.example.com"},
          {"server.port", 443},
      };
      s.resource = &resource;
      s.scope = &scope;
    }
    for (const SpanData& s : spans) ptrs.push_back(&s);
  }
};

void BM_EncodeProto(benchmark::State& state) {
  const Batch batch(static_cast<size_t>(state.range(0)));
  std::string out;
  const uint64_t allocs_before = otlp::bench::Allocations();
  for (auto _ : state) {
    out.clear();
    EncodeTraceRequestProto(batch.ptrs, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.counters["allocs_per_batch"] =
      static_cast<double>(otlp::bench::Allocations() - allocs_before) /
      static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(out.size()));
  state.counters["bytes_per_span"] =
      static_cast<double>(out.size()) / static_cast<double>(state.range(0));
}
BENCHMARK(BM_EncodeProto)->Arg(512)->Arg(8192);

void BM_EncodeJson(benchmark::State& state) {
  const Batch batch(static_cast<size_t>(state.range(0)));
  std::string out;
  const uint64_t allocs_before = otlp::bench::Allocations();
  for (auto _ : state) {
    out.clear();
    EncodeTraceRequestJson(batch.ptrs, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.counters["allocs_per_batch"] =
      static_cast<double>(otlp::bench::Allocations() - allocs_before) /
      static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(out.size()));
  state.counters["bytes_per_span"] =
      static_cast<double>(out.size()) / static_cast<double>(state.range(0));
}
BENCHMARK(BM_EncodeJson)->Arg(512)->Arg(8192);

// Baseline: a fresh std::string per request (the caller not reusing capacity).
void BM_EncodeProtoFreshBuffer(benchmark::State& state) {
  const Batch batch(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    std::string out;
    EncodeTraceRequestProto(batch.ptrs, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_EncodeProtoFreshBuffer)->Arg(512)->Arg(8192);

}  // namespace
