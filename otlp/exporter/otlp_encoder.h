// otlp/exporter/otlp_encoder.h — OTLP trace encoding: ExportTraceServiceRequest as protobuf
// (written directly, no libprotobuf) and as OTLP/JSON, plus decoding of the collector's answers.
//
//   std::string body;
//   otlp::exporter::EncodeTraceRequestProto(batch, body);   // batch: span<const SpanData* const>
//   ...POST body...
//   otlp::Result<PartialSuccess> ps = otlp::exporter::DecodeTraceResponseProto(response_body);
//   if (!ps.ok()) { /* malformed answer */ } else if (ps->present()) { /* some spans rejected */ }
//
// Spans are grouped by resource, then by instrumentation scope (pointer identity), keeping
// first-seen order. Fields holding their default value are left out, as protobuf does (a root
// span has no parent_span_id); oneof members (AnyValue) are always written.
// Protobuf output is canonical: fields in field-number order, minimal varints. Strings are
// written as given (the SDK keeps them UTF-8).
// JSON follows the OTLP/JSON rules: hex trace/span ids, integer enums, 64-bit integers as
// decimal strings, lowerCamelCase keys; NaN and infinities as "NaN", "Infinity", "-Infinity";
// invalid UTF-8 is replaced by U+FFFD so that the output is always valid JSON.
// Decoders never crash on malformed input: they return an error Status.
//
// Thread-safety: pure functions; concurrent calls on distinct outputs are safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "otlp/core/status.h"
#include "otlp/trace/span_data.h"

namespace otlp::exporter {

// Appends the encoded request to `out` (which is not cleared, so callers can reuse capacity).
// Null pointers in `spans` are skipped. No allocation per span: the protobuf encoder sizes the
// whole request first, reserves it in `out` once and writes it forward; the JSON encoder grows
// `out` geometrically from an estimate.
void EncodeTraceRequestProto(std::span<const trace::SpanData* const> spans, std::string& out);
void EncodeTraceRequestJson(std::span<const trace::SpanData* const> spans, std::string& out);

// ExportTraceServiceResponse.partial_success.
struct PartialSuccess {
  int64_t rejected_spans = 0;
  std::string error_message;
  bool present() const noexcept { return rejected_spans != 0 || !error_message.empty(); }
};
// An empty body is a full success. A malformed body is an error (kInvalidArgument).
// JSON accepts both lowerCamelCase and snake_case keys, and 64-bit integers as numbers or strings.
Result<PartialSuccess> DecodeTraceResponseProto(std::string_view body);
Result<PartialSuccess> DecodeTraceResponseJson(std::string_view body);

// The message of a google.rpc.Status error body (protobuf or JSON); empty when there is none or
// the body is not a Status.
std::string DecodeRpcStatusMessage(std::string_view body, bool json);

namespace internal {
// Appends `s` as a quoted JSON string: `"` `\` and control characters escaped, invalid UTF-8
// sequences replaced by U+FFFD (one per maximal ill-formed subpart, as WHATWG decoders do).
void AppendJsonString(std::string_view s, std::string& out);
}  // namespace internal

}  // namespace otlp::exporter
