// otlp/exporter/otlp_encoder.h — OTLP trace encoding: ExportTraceServiceRequest as protobuf
// (written directly, no libprotobuf) and as OTLP/JSON. The collector's answers are read with
// otlp_response.h; requests are read back with otlp_decoder.h.
//
//   std::string body;
//   otlp::exporter::EncodeTraceRequestProto(batch, body);   // batch: span<const SpanData* const>
//   ...POST body...
//
// Spans are grouped by resource, then by instrumentation scope (pointer identity), keeping
// first-seen order. Fields holding their default value are left out, as protobuf does (a root
// span has no parent_span_id); oneof members (AnyValue) are always written.
// Protobuf output is canonical: fields in field-number order, minimal varints. Strings are
// written as given (the SDK keeps them UTF-8).
// JSON follows the OTLP/JSON rules: hex trace/span ids, integer enums, 64-bit integers as
// decimal strings, lowerCamelCase keys; NaN and infinities as "NaN", "Infinity", "-Infinity";
// invalid UTF-8 is replaced by U+FFFD so that the output is always valid JSON.
//
// Thread-safety: pure functions; concurrent calls on distinct outputs are safe.
#pragma once

#include <span>
#include <string>

#include "otlp/core/export.h"
#include "otlp/trace/span_data.h"

namespace otlp::exporter {

// Appends the encoded request to `out` (which is not cleared, so callers can reuse capacity).
// Null pointers in `spans` are skipped. No allocation per span: the protobuf encoder sizes the
// whole request first, reserves it in `out` once and writes it forward; the JSON encoder grows
// `out` geometrically from an estimate.
OTLP_EXPORT void EncodeTraceRequestProto(std::span<const trace::SpanData* const> spans,
                                         std::string& out);
OTLP_EXPORT void EncodeTraceRequestJson(std::span<const trace::SpanData* const> spans,
                                        std::string& out);

}  // namespace otlp::exporter
