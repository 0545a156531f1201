// Encoding throughput of ExportTraceServiceRequest: protobuf and OTLP/JSON, for batches of 512
// and 8192 spans with 5 attributes (3 strings, 2 integers), one resource and one scope. The
// BM_Decode* rows read the same requests back with the request decoder (otlp_decoder.h), as a
// receiver (`otlp bench sink`, `otlp view`) does.
// Items processed = spans, so the report reads as spans/s; allocs_per_batch (glibc malloc,
// counted by alloc_counter) stays the same for 512 and 8192 spans: nothing is allocated per span.
// The *Rich variants add what the common shape lacks, to keep the less travelled paths honest:
// a trace state, an error status, a double, a bool and an array attribute, two events with
// attributes and a link.
//
//   build/bench/encode_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "alloc_counter.h"
#include "otlp/exporter/otlp_decoder.h"
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

  // The value of the rich spans' string-array attribute.
  std::vector<std::string_view> tags = {"alpha", "beta", "gamma"};

  explicit Batch(size_t n, bool rich = false) {
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
      if (rich) AddRichFields(s, SpanId(sid));
    }
    for (const SpanData& s : spans) ptrs.push_back(&s);
  }

  void AddRichFields(SpanData& s, SpanId link_id) {
    s.context = SpanContext(s.context.trace_id(), s.context.span_id(), s.context.trace_flags(),
                            false, otlp::trace::TraceState::FromHeader("vendor=abc123,other=x"));
    s.attributes.push_back({"sampling.ratio", 0.25});
    s.attributes.push_back({"cache.hit", false});
    s.attributes.push_back({"tags", std::span<const std::string_view>(tags)});
    s.event_attributes = {{"exception.type", "std::runtime_error"},
                          {"exception.message", "connection reset by peer"},
                          {"retry", 1}};
    s.events = {{"exception", s.start_unix_nano + 1000, 0, 2, 0},
                {"retry", s.start_unix_nano + 2000, 2, 1, 0}};
    s.link_attributes = {{"link.kind", "follows_from"}};
    s.links = {{SpanContext(s.context.trace_id(), link_id, TraceFlags(1), true), 0, 1, 0}};
    s.status_code = otlp::trace::SpanStatusCode::kError;
    s.status_message = "upstream failed";
  }
};

using EncodeFn = void (*)(std::span<const SpanData* const>, std::string&);

// Encodes the batch over and over into one reused string.
void Encode(benchmark::State& state, EncodeFn encode, bool rich) {
  const Batch batch(static_cast<size_t>(state.range(0)), rich);
  std::string out;
  const uint64_t allocs_before = otlp::bench::Allocations();
  for (auto _ : state) {
    out.clear();
    encode(batch.ptrs, out);
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

void BM_EncodeProto(benchmark::State& state) {
  Encode(state, EncodeTraceRequestProto, false);
}
BENCHMARK(BM_EncodeProto)->Arg(512)->Arg(8192);
void BM_EncodeJson(benchmark::State& state) {
  Encode(state, EncodeTraceRequestJson, false);
}
BENCHMARK(BM_EncodeJson)->Arg(512)->Arg(8192);
void BM_EncodeProtoRich(benchmark::State& state) {
  Encode(state, EncodeTraceRequestProto, true);
}
BENCHMARK(BM_EncodeProtoRich)->Arg(512)->Arg(8192);
void BM_EncodeJsonRich(benchmark::State& state) {
  Encode(state, EncodeTraceRequestJson, true);
}
BENCHMARK(BM_EncodeJsonRich)->Arg(512)->Arg(8192);

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

// Decoding the encoded batch back into owned data.
void Decode(benchmark::State& state, EncodeFn encode, bool json, bool rich) {
  // glibc trims the top of the heap (and faults the pages back in) whenever more than its trim
  // threshold is free there, until the first large mmap'ed block is freed raises the threshold;
  // a receiver gets past that with its first large request. Without this warm-up the rows
  // measured that cycle: ~50 times the page faults, twice the time.
  {
    std::vector<char> large(8u << 20);
    benchmark::DoNotOptimize(large.data());
  }
  const Batch batch(static_cast<size_t>(state.range(0)), rich);
  std::string body;
  encode(batch.ptrs, body);
  for (auto _ : state) {
    auto request = json ? otlp::exporter::DecodeTraceRequestJson(body)
                        : otlp::exporter::DecodeTraceRequestProto(body);
    if (!request.ok()) state.SkipWithError(request.status().ToString().c_str());
    benchmark::DoNotOptimize(request);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
}

void BM_DecodeProto(benchmark::State& state) {
  Decode(state, EncodeTraceRequestProto, false, false);
}
BENCHMARK(BM_DecodeProto)->Arg(512);
void BM_DecodeJson(benchmark::State& state) {
  Decode(state, EncodeTraceRequestJson, true, false);
}
BENCHMARK(BM_DecodeJson)->Arg(512);
void BM_DecodeProtoRich(benchmark::State& state) {
  Decode(state, EncodeTraceRequestProto, false, true);
}
BENCHMARK(BM_DecodeProtoRich)->Arg(512);

// Counting the spans only (CountTraceRequestSpans), what `otlp bench sink` does.
void Count(benchmark::State& state, EncodeFn encode, otlp::exporter::OtlpEncoding encoding) {
  const Batch batch(static_cast<size_t>(state.range(0)));
  std::string body;
  encode(batch.ptrs, body);
  for (auto _ : state) {
    auto n = otlp::exporter::CountTraceRequestSpans(body, encoding, false);
    if (!n.ok() || *n != batch.ptrs.size()) state.SkipWithError("wrong count");
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
void BM_CountSpansProto(benchmark::State& state) {
  Count(state, EncodeTraceRequestProto, otlp::exporter::OtlpEncoding::kProtobuf);
}
BENCHMARK(BM_CountSpansProto)->Arg(512);
void BM_CountSpansJson(benchmark::State& state) {
  Count(state, EncodeTraceRequestJson, otlp::exporter::OtlpEncoding::kJson);
}
BENCHMARK(BM_CountSpansJson)->Arg(512);

}  // namespace
