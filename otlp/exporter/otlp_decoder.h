// otlp/exporter/otlp_decoder.h — reads OTLP ExportTraceServiceRequest bodies (protobuf or
// OTLP/JSON, optionally gzip-compressed) back into resources, scopes and spans that own their
// memory: what a receiver needs (`otlp view`, `otlp bench sink`, a test collector).
//
//   using namespace otlp::exporter;
//   Result<decoded::TraceRequest> req =
//       DecodeTraceRequest(body, OtlpEncoding::kJson, /*gzip=*/true);
//   if (!req.ok()) {            // kInvalidArgument: 400 with req.status().message()
//     ...                       // kResourceExhausted: over a DecodeLimits bound (413)
//   }
//   for (const decoded::ResourceSpans& rs : req->resource_spans)
//     for (const decoded::ScopeSpans& ss : rs.scope_spans)
//       for (const decoded::Span& span : ss.spans) Store(rs.resource, ss.scope, span);
//   if (req->rejected_spans > 0) { /* answer partial_success{rejected_spans, rejection} */ }
//
// What is accepted. Protobuf: proto3 wire format; unknown fields are skipped; repeated scalar
// fields keep the last value and repeated message fields merge, as protobuf parsers do. JSON:
// the OTLP/JSON rules (OTLP specification, "JSON Protobuf Encoding") — lowerCamelCase keys only
// (the original snake_case names are not valid OTLP/JSON: like every unknown key they are
// ignored), trace and span ids as hex (either case), enums as integers, 64-bit integers as
// numbers or decimal strings, 32-bit ones as numbers or strings, doubles as numbers or "NaN",
// "Infinity", "-Infinity", bytes as base64, null for a default value.
//
// What is refused, with a message that names the field and its place ("resource_spans[0].
// scope_spans[1].spans[3].trace_id: 15 bytes, expected 16 (at byte 87)" or the JSON line and
// column): truncated or malformed wire data, a known field with the wrong wire type or JSON type,
// an id of the wrong length or not hex, strings that are not UTF-8, JSON syntax errors, nesting
// or size beyond DecodeLimits.
//
// Invalid spans. The OTLP definitions make trace_id and span_id required and call an all-zero
// or empty id invalid. Such a span is well-formed data, so the request still decodes: the span
// is left out, counted in `rejected_spans` and described in `rejection`, which is what a
// receiver answers as partial success. A link keeps whatever ids it has (zero included; the
// specification lets links point at invalid contexts). An all-zero parent_span_id is read as
// no parent.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "otlp/core/export.h"
#include "otlp/core/status.h"
#include "otlp/trace/span_context.h"

namespace otlp::exporter {

namespace decoded {

struct KeyValue;

// common.v1.AnyValue. The alternatives follow the oneof's field numbers; std::monostate is a
// value with no member set.
struct AnyValue {
  using Array = std::vector<AnyValue>;
  using KeyValueList = std::vector<KeyValue>;
  using Bytes = std::vector<uint8_t>;
  std::variant<std::monostate, std::string, bool, int64_t, double, Array, KeyValueList, Bytes>
      value;

  friend bool operator==(const AnyValue&, const AnyValue&) = default;
};

struct KeyValue {
  std::string key;
  AnyValue value;
  friend bool operator==(const KeyValue&, const KeyValue&) = default;
};

// resource.v1.Resource. An absent resource reads as an empty one.
struct Resource {
  std::vector<KeyValue> attributes;
  uint32_t dropped_attributes_count = 0;
  friend bool operator==(const Resource&, const Resource&) = default;
};

// common.v1.InstrumentationScope. An absent scope reads as an empty one.
struct Scope {
  std::string name;
  std::string version;
  std::vector<KeyValue> attributes;
  uint32_t dropped_attributes_count = 0;
  friend bool operator==(const Scope&, const Scope&) = default;
};

struct Event {
  uint64_t time_unix_nano = 0;
  std::string name;
  std::vector<KeyValue> attributes;
  uint32_t dropped_attributes_count = 0;
  friend bool operator==(const Event&, const Event&) = default;
};

struct Link {
  trace::TraceId trace_id;  // all zero when absent
  trace::SpanId span_id;    // all zero when absent
  std::string trace_state;
  std::vector<KeyValue> attributes;
  uint32_t dropped_attributes_count = 0;
  uint32_t flags = 0;  // W3C trace flags in bits 0-7; 0x100 "is_remote known", 0x200 remote
  friend bool operator==(const Link&, const Link&) = default;
};

// trace.v1.Status.
struct Status {
  std::string message;
  int32_t code = 0;  // 0 unset, 1 ok, 2 error (other values are kept as received)
  friend bool operator==(const Status&, const Status&) = default;
};

struct Span {
  trace::TraceId trace_id;       // valid (non-zero): spans without one are rejected
  trace::SpanId span_id;         // valid (non-zero): spans without one are rejected
  std::string trace_state;       // the W3C tracestate header, as received
  trace::SpanId parent_span_id;  // all zero for a root span
  uint32_t flags = 0;            // as Link::flags
  std::string name;
  // 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer (other values are
  // kept as received).
  int32_t kind = 0;
  uint64_t start_time_unix_nano = 0;
  uint64_t end_time_unix_nano = 0;
  std::vector<KeyValue> attributes;
  uint32_t dropped_attributes_count = 0;
  std::vector<Event> events;
  uint32_t dropped_events_count = 0;
  std::vector<Link> links;
  uint32_t dropped_links_count = 0;
  Status status;
  bool has_parent() const noexcept { return parent_span_id.IsValid(); }
  friend bool operator==(const Span&, const Span&) = default;
};

struct ScopeSpans {
  Scope scope;
  std::vector<Span> spans;
  std::string schema_url;
  friend bool operator==(const ScopeSpans&, const ScopeSpans&) = default;
};

struct ResourceSpans {
  Resource resource;
  std::vector<ScopeSpans> scope_spans;
  std::string schema_url;
  friend bool operator==(const ResourceSpans&, const ResourceSpans&) = default;
};

// collector.trace.v1.ExportTraceServiceRequest, with the spans that were refused.
struct TraceRequest {
  std::vector<ResourceSpans> resource_spans;
  // Spans left out because their trace_id or span_id is missing or all zero (see the top of
  // this file); `rejection` describes the first of them ("resource_spans[0].scope_spans[0].
  // spans[2]: the trace_id is missing or all zero (it is required)"). Empty when none.
  uint64_t rejected_spans = 0;
  std::string rejection;
  // The spans kept (rejected ones are not counted).
  size_t span_count() const noexcept {
    size_t n = 0;
    for (const ResourceSpans& rs : resource_spans) {
      for (const ScopeSpans& ss : rs.scope_spans) n += ss.spans.size();
    }
    return n;
  }
};

}  // namespace decoded

enum class OtlpEncoding : unsigned char {
  kProtobuf,  // application/x-protobuf
  kJson,      // application/json (OTLP/JSON)
};

// Bounds against hostile input. Exceeding one is kResourceExhausted (a receiver answers 413).
struct DecodeLimits {
  // Size of the body to decode (after gzip inflation). The OTLP specification recommends
  // 20 MiB for receivers.
  size_t max_body_bytes = 20u << 20;
  // Estimated memory of the decoded request (element sizes plus string bytes): a small body can
  // describe many empty elements.
  size_t max_decoded_bytes = 256u << 20;
  // Nesting of AnyValue arrays and key-value lists inside one attribute value (1 = no nesting).
  int max_value_depth = 32;
};

// Decodes an uncompressed body.
OTLP_EXPORT Result<decoded::TraceRequest> DecodeTraceRequestProto(std::string_view body,
                                                                  const DecodeLimits& limits = {});
OTLP_EXPORT Result<decoded::TraceRequest> DecodeTraceRequestJson(std::string_view body,
                                                                 const DecodeLimits& limits = {});
// Decodes a body as received: inflated first when `gzip` (Content-Encoding: gzip), within
// limits.max_body_bytes; corrupt gzip data is kInvalidArgument.
OTLP_EXPORT Result<decoded::TraceRequest> DecodeTraceRequest(std::string_view body,
                                                             OtlpEncoding encoding, bool gzip,
                                                             const DecodeLimits& limits = {});

// Counts the spans of a request (as received, like DecodeTraceRequest) without decoding them,
// for receivers that only count (`otlp bench sink`), where decoding would cost several times
// more. Checks less: protobuf framing down to the Span messages (lengths, wire types of the
// request, ResourceSpans and ScopeSpans fields), JSON syntax of the whole body and its structure
// down to the "spans" arrays; spans with invalid ids are counted too.
OTLP_EXPORT Result<uint64_t> CountTraceRequestSpans(std::string_view body, OtlpEncoding encoding,
                                                    bool gzip, const DecodeLimits& limits = {});

}  // namespace otlp::exporter
