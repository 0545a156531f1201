// libFuzzer target for context propagation: W3C traceparent/tracestate, W3C baggage and B3.
//
// The input is split at '\n' into header values, in this order: traceparent, tracestate,
// baggage, b3, x-b3-traceid, x-b3-spanid, x-b3-sampled, x-b3-flags, then a tracestate key and
// value for TraceState::Set. Missing fields are empty. Beyond "no crash, no sanitizer report",
// it checks that whatever is extracted re-injects and re-extracts to the same thing, that the
// limits hold, that a span started under an extracted context keeps its trace id and its
// random-trace-id flag (W3C Trace Context Level 2), and that TraceState::Set leaves its key once
// however often the parsed header repeated it.
//
//   ./propagation_fuzz -runs=200000 tests/fuzz/corpus/propagation
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "otlp/propagation/b3_propagator.h"
#include "otlp/propagation/baggage_propagator.h"
#include "otlp/propagation/carriers.h"
#include "otlp/propagation/composite_propagator.h"
#include "otlp/propagation/global_propagator.h"
#include "otlp/propagation/trace_context_propagator.h"
#include "otlp/trace/provider.h"

namespace {

using otlp::propagation::B3Propagator;
using otlp::propagation::BaggagePropagator;
using otlp::propagation::HeaderVectorCarrier;
using otlp::propagation::MapCarrier;
using otlp::propagation::TraceContextPropagator;
using otlp::trace::Baggage;
using otlp::trace::Context;
using otlp::trace::SpanContext;
using otlp::trace::TraceState;

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant failed: %s\n", what);
    __builtin_trap();
  }
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

void CheckTraceState(const TraceState& ts) {
  Check(ts.size() <= TraceState::kMaxEntries, "tracestate has at most 32 entries");
  Check(ts.empty() == (ts.size() == 0), "tracestate empty() agrees with size()");
  auto entries = ts.Entries();
  for (size_t i = 0; i < entries.size(); ++i) {
    Check(TraceState::IsValidKey(entries[i].first), "tracestate key valid");
    Check(TraceState::IsValidValue(entries[i].second), "tracestate value valid");
    // A repeated key is kept (Level 2); Get finds its first occurrence.
    size_t first = 0;
    while (entries[first].first != entries[i].first) ++first;
    Check(ts.Get(entries[i].first) == entries[first].second, "tracestate Get finds the first");
  }
  if (ts.header().size() <= TraceState::kMaxHeaderSize) {
    Check(TraceState::FromHeader(ts.header()) == ts, "tracestate header re-parses the same");
  }
}

void FuzzTraceContext(std::string_view traceparent, std::string_view tracestate) {
  TraceState ts = TraceState::FromHeader(tracestate);
  CheckTraceState(ts);
  Check(ts.header().size() <= TraceState::kMaxHeaderSize, "parsed tracestate fits 512");

  TraceContextPropagator w3c;
  MapCarrier in;
  in.Set("traceparent", traceparent);
  in.Set("tracestate", tracestate);
  Context ctx = w3c.Extract(in);
  const SpanContext& sc = ctx.span_context();
  Check(sc.IsValid() == otlp::propagation::ParseTraceparent(traceparent).has_value(),
        "Extract agrees with ParseTraceparent");
  if (!sc.IsValid()) {
    Check(sc.trace_state().empty(), "no tracestate without a traceparent");
    return;
  }
  Check(sc.IsRemote(), "extracted context is remote");
  Check(sc.trace_state() == ts, "extracted tracestate is the parsed one");

  MapCarrier out;
  w3c.Inject(ctx, out);
  std::string_view tp = out.Get("traceparent");
  Check(tp.size() == 55 && tp.substr(0, 3) == "00-", "injected traceparent is version 00");
  Check(
      IsLowerHex(tp.substr(3, 32)) && IsLowerHex(tp.substr(36, 16)) && IsLowerHex(tp.substr(53, 2)),
      "injected traceparent is lowercase hex");
  Check(tp == sc.ToTraceparent(), "Inject agrees with ToTraceparent");
  Check(out.values().count("tracestate") == (ts.empty() ? 0u : 1u),
        "tracestate injected only when non-empty");
  Context again = w3c.Extract(out);
  Check(again.span_context() == sc, "re-injected traceparent re-extracts to the same context");

  // A span under the extracted context: same trace id, same random-trace-id flag, no unknown bit.
  static const auto provider =
      otlp::trace::TracerProvider::Create({.resource = otlp::trace::Resource()});
  static otlp::trace::Tracer tracer = provider->GetTracer("propagation_fuzz");
  otlp::trace::Span child = tracer.StartSpan("child", {.parent = ctx});
  const SpanContext& cc = child.GetContext();
  Check(cc.trace_id() == sc.trace_id(), "a child keeps the trace id");
  Check(cc.IsRandom() == sc.IsRandom(), "a child keeps the random-trace-id flag");
  Check(cc.IsSampled() == sc.IsSampled(), "the default sampler follows the parent");
  Check((cc.trace_flags().value() & ~0x03) == 0, "a child carries no unknown flag");
  Check(cc.trace_state() == sc.trace_state(), "a child keeps the tracestate");
}

void FuzzBaggage(std::string_view header) {
  Baggage b = Baggage::FromHeader(header);
  Check(b.size() <= Baggage::kMaxEntries, "baggage has at most 180 entries");
  std::string serialized = b.ToHeader();
  Check(serialized.size() <= Baggage::kMaxHeaderSize, "baggage fits 8192 bytes");
  Baggage back = Baggage::FromHeader(serialized);
  Check(back == b, "baggage re-parses to the same entries");
  Check(back.ToHeader().size() == serialized.size(), "baggage serialization is stable");

  BaggagePropagator bp;
  MapCarrier in;
  in.Set("baggage", header);
  Context ctx = bp.Extract(in);
  Check(ctx.baggage() == b, "propagator extracts what FromHeader parses");
  MapCarrier out;
  bp.Inject(ctx, out);
  Check(bp.Extract(out).baggage() == b, "baggage round trip through the propagator");
}

void FuzzB3(const std::vector<std::string_view>& f) {
  MapCarrier in;
  in.Set("b3", f[3]);
  in.Set("x-b3-traceid", f[4]);
  in.Set("x-b3-spanid", f[5]);
  in.Set("x-b3-sampled", f[6]);
  in.Set("x-b3-flags", f[7]);
  for (auto enc : {B3Propagator::Encoding::kSingleHeader, B3Propagator::Encoding::kMultiHeader}) {
    B3Propagator b3(enc);
    SpanContext sc = b3.Extract(in).span_context();
    if (!sc.IsValid()) continue;
    Check(sc.IsRemote(), "b3 context is remote");
    MapCarrier out;
    b3.Inject(Context(sc), out);
    SpanContext back = b3.Extract(out).span_context();
    Check(back.trace_id() == sc.trace_id() && back.span_id() == sc.span_id() &&
              back.IsSampled() == sc.IsSampled(),
          "b3 round trip");
  }
  auto single = otlp::propagation::ParseB3Single(f[3]);
  if (single) Check(single->IsValid(), "ParseB3Single gives valid ids");
}

void FuzzHeaderVector(const std::vector<std::string_view>& f) {
  // The same values as repeated, oddly-cased headers: exercises field combining.
  HeaderVectorCarrier::Headers headers;
  static constexpr const char* kNames[] = {
      "TraceParent", "tracestate",   "Baggage",    "B3",         "x-b3-traceid",
      "X-B3-SPANID", "x-b3-sampled", "x-b3-flags", "tracestate", "BAGGAGE"};
  for (size_t i = 0; i < f.size() && i < std::size(kNames); ++i) {
    headers.emplace_back(kNames[i], std::string(f[i]));
  }
  HeaderVectorCarrier carrier(headers);
  const auto& global = otlp::propagation::GlobalPropagator();
  Context ctx = global.Extract(carrier);
  ctx = B3Propagator().Extract(carrier, ctx);
  if (ctx.span_context().IsValid() || !ctx.baggage().empty()) {
    MapCarrier out;
    global.Inject(ctx, out);
    Context back = global.Extract(out);
    Check(back.span_context().trace_id() == ctx.span_context().trace_id(),
          "global propagator round trip keeps the trace id");
    Check(back.baggage() == ctx.baggage(), "global propagator round trip keeps baggage");
  }
  carrier.Set("traceparent", f[0]);
  Check(carrier.Get("TRACEPARENT") == f[0], "HeaderVectorCarrier Set then Get");
}

void FuzzTraceStateSet(std::string_view base, std::string_view key, std::string_view value) {
  TraceState ts = TraceState::FromHeader(base);
  TraceState updated = ts.Set(key, value);
  CheckTraceState(updated);
  if (TraceState::IsValidKey(key) && TraceState::IsValidValue(value)) {
    Check(updated.Get(key) == value, "Set value is readable");
    Check(updated.Entries().front().first == key, "Set moves the key first");
    size_t occurrences = 0;
    for (const auto& kv : updated.Entries()) occurrences += kv.first == key;
    Check(occurrences == 1, "Set leaves the key once");
    Check(!updated.Delete(key).Get(key), "Delete removes the key");
    Check(!ts.Delete(key).Get(key), "Delete removes every occurrence");
  } else {
    Check(updated == ts, "invalid Set leaves the state unchanged");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> f;
  while (f.size() < 10) {
    size_t nl = input.find('\n');
    f.push_back(input.substr(0, nl));
    if (nl == std::string_view::npos) {
      input = {};
    } else {
      input.remove_prefix(nl + 1);
    }
  }
  FuzzTraceContext(f[0], f[1]);
  FuzzBaggage(f[2]);
  FuzzB3(f);
  FuzzHeaderVector(f);
  FuzzTraceStateSet(f[1], f[8], f[9]);
  return 0;
}
