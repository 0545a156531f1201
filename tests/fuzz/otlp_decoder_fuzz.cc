// libFuzzer target for the OTLP request decoders (otlp/exporter/otlp_decoder.h, and the metrics
// and logs decoders beside it): every input is decoded as a trace, metrics and logs request, as
// protobuf and as OTLP/JSON, and counted as spans both ways.
//
// Beyond "no crash, no sanitizer report, no hang", it checks what must hold for any input:
//  - a failure is kInvalidArgument or kResourceExhausted, with a message;
//  - whatever decodes also counts (the counter checks less), and the count is the spans kept
//    plus the spans rejected;
//  - every kept span has valid ids; the limits hold (no AnyValue nested deeper than allowed);
//  - every kept metric has a name; every kept log record's ids are valid or absent; a
//    rejection is described whenever something was rejected.
//
//   ./otlp_decoder_fuzz -runs=100000 -max_len=4096 tests/fuzz/corpus/otlp_decoder
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string_view>
#include <variant>

#include "otlp/exporter/internal/request_decoding.h"
#include "otlp/exporter/otlp_decoder.h"
#include "otlp/exporter/otlp_logs_decoder.h"
#include "otlp/exporter/otlp_metrics_decoder.h"

namespace {

using otlp::StatusCode;
using otlp::exporter::DecodeLimits;
using otlp::exporter::decoded::AnyValue;
using otlp::exporter::decoded::KeyValue;
using otlp::exporter::decoded::TraceRequest;

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant failed: %s\n", what);
    __builtin_trap();
  }
}

// Small limits, so that the fuzzer reaches them.
constexpr DecodeLimits kLimits{
    .max_body_bytes = 1u << 20, .max_decoded_bytes = 4u << 20, .max_value_depth = 8};

int Depth(const AnyValue& v) {
  int inner = 0;
  if (const auto* a = std::get_if<AnyValue::Array>(&v.value)) {
    for (const AnyValue& x : *a) inner = std::max(inner, Depth(x));
  } else if (const auto* kv = std::get_if<AnyValue::KeyValueList>(&v.value)) {
    for (const KeyValue& x : *kv) inner = std::max(inner, Depth(x.value));
  }
  return 1 + inner;
}

void CheckFailure(const otlp::Status& st) {
  Check(st.code() == StatusCode::kInvalidArgument || st.code() == StatusCode::kResourceExhausted,
        "a failure is kInvalidArgument or kResourceExhausted");
  Check(!st.message().empty(), "a failure has a message");
}

void CheckDecoded(const otlp::Result<TraceRequest>& r, const otlp::Result<uint64_t>& count) {
  if (!r.ok()) {
    CheckFailure(r.status());
    return;
  }
  Check(count.ok(), "what decodes also counts");
  Check(*count == r->span_count() + r->rejected_spans, "count = kept + rejected spans");
  Check((r->rejected_spans == 0) == r->rejection.empty(), "a rejection is described");
  for (const auto& rs : r->resource_spans) {
    for (const KeyValue& kv : rs.resource.attributes) {
      Check(Depth(kv.value) <= kLimits.max_value_depth, "AnyValue depth within the limit");
    }
    for (const auto& ss : rs.scope_spans) {
      for (const auto& span : ss.spans) {
        Check(span.trace_id.IsValid() && span.span_id.IsValid(), "kept spans have valid ids");
        for (const KeyValue& kv : span.attributes) {
          Check(Depth(kv.value) <= kLimits.max_value_depth, "AnyValue depth within the limit");
        }
      }
    }
  }
}

void CheckMetrics(const otlp::Result<otlp::exporter::decoded::MetricsRequest>& r) {
  if (!r.ok()) return CheckFailure(r.status());
  Check(r->rejected_data_points == 0 || !r->rejection.empty(), "a rejection is described");
  for (const auto& rm : r->resource_metrics) {
    for (const auto& sm : rm.scope_metrics) {
      for (const auto& m : sm.metrics) Check(!m.name.empty(), "kept metrics have a name");
    }
  }
}

void CheckLogs(const otlp::Result<otlp::exporter::decoded::LogsRequest>& r) {
  if (!r.ok()) return CheckFailure(r.status());
  Check((r->rejected_log_records == 0) == r->rejection.empty(), "a rejection is described");
  for (const auto& rl : r->resource_logs) {
    for (const auto& sl : rl.scope_logs) {
      for (const auto& rec : sl.log_records) {
        Check(Depth(rec.body) <= kLimits.max_value_depth, "AnyValue depth within the limit");
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  namespace internal = otlp::exporter::internal;
  const auto proto_count = internal::CountSpansProto(body, kLimits);
  if (!proto_count.ok()) CheckFailure(proto_count.status());
  CheckDecoded(otlp::exporter::DecodeTraceRequestProto(body, kLimits), proto_count);
  const auto json_count = internal::CountSpansJson(body, kLimits);
  if (!json_count.ok()) CheckFailure(json_count.status());
  CheckDecoded(otlp::exporter::DecodeTraceRequestJson(body, kLimits), json_count);
  CheckMetrics(otlp::exporter::DecodeMetricsRequestProto(body, kLimits));
  CheckMetrics(otlp::exporter::DecodeMetricsRequestJson(body, kLimits));
  CheckLogs(otlp::exporter::DecodeLogsRequestProto(body, kLimits));
  CheckLogs(otlp::exporter::DecodeLogsRequestJson(body, kLimits));
  return 0;
}
