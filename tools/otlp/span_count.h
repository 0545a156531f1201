// tools/otlp/span_count.h — what `otlp bench sink` needs to answer an OTLP/HTTP export: the
// number of spans in an ExportTraceServiceRequest, found by walking the protobuf wire format
// (ResourceSpans = 1 → ScopeSpans = 2 → Span = 2) or the JSON structure ("spans" arrays)
// without decoding the spans.
//
//   auto n = otlp::cli::CountSpansProtobuf(body);   // Result<uint64_t>
//   if (!n.ok()) { /* 400: n.status().message() */ }
//
// Threading: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "otlp/core/status.h"

namespace otlp::cli {

// kInvalidArgument for a malformed message (truncated field, bad wire type, group).
Result<uint64_t> CountSpansProtobuf(std::string_view body);
// Counts the objects of every array whose key is "spans" (OTLP/JSON ScopeSpans.spans). Strings
// and escapes are skipped properly; unbalanced brackets are kInvalidArgument.
Result<uint64_t> CountSpansJson(std::string_view body);

}  // namespace otlp::cli
