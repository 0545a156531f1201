// The protobuf request decoder: ExportTraceServiceRequest wire format into decoded:: data.
//
// One function per message. Each reads the fields of its message with a bounds-checked
// ProtoReader, checks the wire type of every field it knows and skips the others; a failure is
// recorded once (message, field path, byte offset) and every caller returns false from there.
// The field readers and the messages shared with the other signals are in
// internal/proto_request_reader.h.
#include <string>

#include "otlp/exporter/internal/proto_request_reader.h"
#include "otlp/exporter/internal/proto_wire.h"
#include "otlp/exporter/internal/request_decoding.h"
#include "otlp/exporter/otlp_decoder.h"

namespace otlp::exporter {
namespace {

using internal::kWireLen;
using internal::ProtoReader;

class ProtoTraceDecoder : internal::ProtoRequestReader {
 public:
  ProtoTraceDecoder(std::string_view body, const DecodeLimits& limits)
      : ProtoRequestReader(body, limits) {}

  // CountTraceRequestSpans: only the framing down to the Span messages.
  Result<uint64_t> Count() {
    OTLP_RETURN_IF_ERROR(CheckBodySize());
    uint64_t spans = 0;
    auto nested = [&](uint32_t number, std::string_view name, auto&& inner) {
      return [&, number, name](ProtoReader& r, uint32_t field, uint32_t wire, const char* at) {
        if (field != number) return SkipUnknown(r, field, wire, at);
        std::string_view payload;
        if (!LenField(r, wire, at, name, payload)) return false;
        path_.Push(name);
        if (!inner(payload)) return false;
        path_.Pop();
        return true;
      };
    };
    auto count_spans = [&](std::string_view scope_spans) {
      return Fields(scope_spans, nested(2, "spans", [&](std::string_view) {
                      ++spans;
                      return true;
                    }));
    };
    auto walk_scopes = [&](std::string_view resource_spans) {
      return Fields(resource_spans, nested(2, "scope_spans", count_spans));
    };
    if (!Fields(body_, nested(1, "resource_spans", walk_scopes))) {
      return Failure();
    }
    return spans;
  }

  Result<decoded::TraceRequest> Run() {
    OTLP_RETURN_IF_ERROR(CheckBodySize());
    decoded::TraceRequest request;
    request_ = &request;
    if (!ReadRequest(body_, request)) return Failure();
    return request;
  }

 private:
  // The spans field occurrences of a ScopeSpans message, counted by skipping over its fields (a
  // few instructions per span) so that the spans vector is allocated once: a Span is large and
  // growing the vector step by step moved every span and touched twice the memory. Stops
  // quietly at malformed data, which the decoding pass then reports.
  static size_t CountSpanFields(std::string_view msg) noexcept {
    ProtoReader r(msg);
    size_t n = 0;
    uint32_t field, wire;
    while (!r.done() && r.Next(field, wire)) {
      if (field == 2 && wire == kWireLen) ++n;
      if (!r.Skip(wire)) break;
    }
    return n;
  }

  // ---- messages

  bool ReadRequest(std::string_view msg, decoded::TraceRequest& out) {
    return Fields(msg, [&](ProtoReader& r, uint32_t field, uint32_t wire, const char* at) {
      if (field == 1) {
        return RepeatedField(r, wire, at, "resource_spans", out.resource_spans,
                             [&](std::string_view m, decoded::ResourceSpans& rs) {
                               return ReadResourceSpans(m, rs);
                             });
      }
      return SkipUnknown(r, field, wire, at);
    });
  }

  bool ReadResourceSpans(std::string_view msg, decoded::ResourceSpans& out) {
    return Fields(msg, [&](ProtoReader& r, uint32_t field, uint32_t wire, const char* at) {
      switch (field) {
        case 1:
          return MessageField(r, wire, at, "resource",
                              [&](std::string_view m) { return ReadResource(m, out.resource); });
        case 2:
          return RepeatedField(
              r, wire, at, "scope_spans", out.scope_spans,
              [&](std::string_view m, decoded::ScopeSpans& ss) { return ReadScopeSpans(m, ss); });
        case 3: return StringField(r, wire, at, "schema_url", out.schema_url);
        default: return SkipUnknown(r, field, wire, at);
      }
    });
  }

  bool ReadScopeSpans(std::string_view msg, decoded::ScopeSpans& out) {
    out.spans.reserve(out.spans.size() + CountSpanFields(msg));
    size_t span_index = 0;  // as received (rejected spans are left out of out.spans)
    return Fields(msg, [&](ProtoReader& r, uint32_t field, uint32_t wire, const char* at) {
      switch (field) {
        case 1:
          return MessageField(r, wire, at, "scope",
                              [&](std::string_view m) { return ReadScope(m, out.scope); });
        case 2: {
          std::string_view payload;
          if (!LenField(r, wire, at, "spans", payload) || !Charge(at, sizeof(decoded::Span))) {
            return false;
          }
          path_.Push("spans", span_index++);
          if (!ReadSpan(payload, out.spans.emplace_back())) return false;
          internal::KeepValidSpan(out.spans, *request_, path_, "trace_id", "span_id");
          path_.Pop();
          return true;
        }
        case 3: return StringField(r, wire, at, "schema_url", out.schema_url);
        default: return SkipUnknown(r, field, wire, at);
      }
    });
  }

  bool ReadSpan(std::string_view msg, decoded::Span& out) {
    return Fields(msg, [&](ProtoReader& r, uint32_t field, uint32_t wire, const char* at) {
      switch (field) {
        case 1: return IdField(r, wire, at, "trace_id", out.trace_id);
        case 2: return IdField(r, wire, at, "span_id", out.span_id);
        case 3: return StringField(r, wire, at, "trace_state", out.trace_state);
        case 4: return IdField(r, wire, at, "parent_span_id", out.parent_span_id);
        case 5: return StringField(r, wire, at, "name", out.name);
        case 6: return VarintField(r, wire, at, "kind", out.kind);
        case 7: return Fixed64Field(r, wire, at, "start_time_unix_nano", out.start_time_unix_nano);
        case 8: return Fixed64Field(r, wire, at, "end_time_unix_nano", out.end_time_unix_nano);
        case 9: return ReadAttribute(r, wire, at, "attributes", out.attributes);
        case 10:
          return VarintField(r, wire, at, "dropped_attributes_count", out.dropped_attributes_count);
        case 11:
          return RepeatedField(
              r, wire, at, "events", out.events,
              [&](std::string_view m, decoded::Event& e) { return ReadEvent(m, e); });
        case 12: return VarintField(r, wire, at, "dropped_events_count", out.dropped_events_count);
        case 13:
          return RepeatedField(
              r, wire, at, "links", out.links,
              [&](std::string_view m, decoded::Link& l) { return ReadLink(m, l); });
        case 14: return VarintField(r, wire, at, "dropped_links_count", out.dropped_links_count);
        case 15:
          return MessageField(r, wire, at, "status",
                              [&](std::string_view m) { return ReadStatus(m, out.status); });
        case 16: return Fixed32Field(r, wire, at, "flags", out.flags);
        default: return SkipUnknown(r, field, wire, at);
      }
    });
  }

  bool ReadEvent(std::string_view msg, decoded::Event& out) {
    return Fields(msg, [&](ProtoReader& r, uint32_t field, uint32_t wire, const char* at) {
      switch (field) {
        case 1: return Fixed64Field(r, wire, at, "time_unix_nano", out.time_unix_nano);
        case 2: return StringField(r, wire, at, "name", out.name);
        case 3: return ReadAttribute(r, wire, at, "attributes", out.attributes);
        case 4:
          return VarintField(r, wire, at, "dropped_attributes_count", out.dropped_attributes_count);
        default: return SkipUnknown(r, field, wire, at);
      }
    });
  }

  bool ReadLink(std::string_view msg, decoded::Link& out) {
    return Fields(msg, [&](ProtoReader& r, uint32_t field, uint32_t wire, const char* at) {
      switch (field) {
        case 1: return IdField(r, wire, at, "trace_id", out.trace_id);
        case 2: return IdField(r, wire, at, "span_id", out.span_id);
        case 3: return StringField(r, wire, at, "trace_state", out.trace_state);
        case 4: return ReadAttribute(r, wire, at, "attributes", out.attributes);
        case 5:
          return VarintField(r, wire, at, "dropped_attributes_count", out.dropped_attributes_count);
        case 6: return Fixed32Field(r, wire, at, "flags", out.flags);
        default: return SkipUnknown(r, field, wire, at);
      }
    });
  }

  bool ReadStatus(std::string_view msg, decoded::Status& out) {
    return Fields(msg, [&](ProtoReader& r, uint32_t field, uint32_t wire, const char* at) {
      switch (field) {
        case 2: return StringField(r, wire, at, "message", out.message);
        case 3: return VarintField(r, wire, at, "code", out.code);
        default: return SkipUnknown(r, field, wire, at);
      }
    });
  }

  decoded::TraceRequest* request_ = nullptr;
};

}  // namespace

namespace internal {
Result<uint64_t> CountSpansProto(std::string_view body, const DecodeLimits& limits) {
  return ProtoTraceDecoder(body, limits).Count();
}
}  // namespace internal

Result<decoded::TraceRequest> DecodeTraceRequestProto(std::string_view body,
                                                      const DecodeLimits& limits) {
  return ProtoTraceDecoder(body, limits).Run();
}

}  // namespace otlp::exporter
