// The OTLP/JSON request decoder: ExportTraceServiceRequest as OTLP/JSON into decoded:: data.
//
// One function per message, each reading an object member by member through the strict
// JsonReader; unknown keys are skipped (their values still checked for syntax). Every member's
// name is pushed on the path while its value is read, so that the first failure is reported with
// the place it happened. The scalar readers and the messages shared with the other signals are in
// internal/json_request_reader.h.
#include <string>

#include "otlp/exporter/internal/json_request_reader.h"
#include "otlp/exporter/internal/request_decoding.h"
#include "otlp/exporter/otlp_decoder.h"

namespace otlp::exporter {
namespace {

class JsonTraceDecoder : internal::JsonRequestReader {
 public:
  JsonTraceDecoder(std::string_view body, const DecodeLimits& limits)
      : JsonRequestReader(body, limits) {}

  // CountTraceRequestSpans: the syntax of the whole body, the structure down to "spans".
  Result<uint64_t> Count() {
    OTLP_RETURN_IF_ERROR(CheckBodySize());
    uint64_t spans = 0;
    // Members of an object; `key`'s value is read by `read`, the others skipped.
    auto only = [&](std::string_view key, auto&& read) {
      return Members([&](std::string_view k) { return k == key ? read() : j_.SkipValue(); });
    };
    auto each = [&](std::string_view key, auto&& read) {
      return [&, key] {
        if (j_.Null()) return true;
        if (j_.Peek() != '[') return Expected("an array");
        return j_.Array([&](size_t i) {
          path_.Pop();
          path_.Push(key, i);
          if (!read()) return false;
          path_.Pop();
          path_.Push(key);
          return true;
        });
      };
    };
    auto span = [&] {
      ++spans;
      return j_.SkipValue();
    };
    auto scope_spans = [&] { return only("spans", each("spans", span)); };
    auto resource_spans = [&] { return only("scopeSpans", each("scopeSpans", scope_spans)); };
    if (!only("resourceSpans", each("resourceSpans", resource_spans)) || !AtEnd()) {
      return Failure();
    }
    return spans;
  }

  Result<decoded::TraceRequest> Run() {
    OTLP_RETURN_IF_ERROR(CheckBodySize());
    decoded::TraceRequest request;
    request_ = &request;
    if (!ReadRequest(request) || !AtEnd()) return Failure();
    return request;
  }

 private:
  // ---- messages

  bool ReadRequest(decoded::TraceRequest& out) {
    return Members([&](std::string_view key) {
      if (key == "resourceSpans") {
        return RepeatedAs(key, out.resource_spans,
                          [&](decoded::ResourceSpans& rs) { return ReadResourceSpans(rs); });
      }
      return j_.SkipValue();
    });
  }

  bool ReadResourceSpans(decoded::ResourceSpans& out) {
    return Members([&](std::string_view key) {
      if (key == "resource") return Message([&] { return ReadResource(out.resource); });
      if (key == "scopeSpans") {
        return RepeatedAs(key, out.scope_spans,
                          [&](decoded::ScopeSpans& ss) { return ReadScopeSpans(ss); });
      }
      if (key == "schemaUrl") return String(out.schema_url);
      return j_.SkipValue();
    });
  }

  bool ReadScopeSpans(decoded::ScopeSpans& out) {
    return Members([&](std::string_view key) {
      if (key == "scope") return Message([&] { return ReadScope(out.scope); });
      if (key == "spans") return Spans(out.spans);
      if (key == "schemaUrl") return String(out.schema_url);
      return j_.SkipValue();
    });
  }

  // ScopeSpans.spans: spans without valid ids are counted and left out.
  bool Spans(std::vector<decoded::Span>& spans) {
    if (j_.Null()) return true;
    if (j_.Peek() != '[') return Expected("an array");
    return j_.Array([&](size_t i) {
      if (!Charge(sizeof(decoded::Span))) return false;
      path_.Pop();
      path_.Push("spans", i);
      if (!ReadSpan(spans.emplace_back())) return false;
      internal::KeepValidSpan(spans, *request_, path_, "traceId", "spanId");
      path_.Pop();
      path_.Push("spans");
      return true;
    });
  }

  bool ReadSpan(decoded::Span& out) {
    return Members([&](std::string_view key) {
      switch (key.size()) {
        case 4:
          if (key == "name") return String(out.name);
          if (key == "kind") return Integer(out.kind, /*strings=*/false);
          break;
        case 5:
          if (key == "flags") return Integer(out.flags);
          if (key == "links") {
            return RepeatedAs(key, out.links, [&](decoded::Link& l) { return ReadLink(l); });
          }
          break;
        case 6:
          if (key == "spanId") return Hex(out.span_id);
          if (key == "events") {
            return RepeatedAs(key, out.events, [&](decoded::Event& e) { return ReadEvent(e); });
          }
          if (key == "status") return Message([&] { return ReadStatus(out.status); });
          break;
        case 7:
          if (key == "traceId") return Hex(out.trace_id);
          break;
        case 10:
          if (key == "traceState") return String(out.trace_state);
          if (key == "attributes") return Attributes(key, out.attributes);
          break;
        case 12:
          if (key == "parentSpanId") return Hex(out.parent_span_id);
          break;
        case 15:
          if (key == "endTimeUnixNano") return Integer(out.end_time_unix_nano);
          break;
        case 17:
          if (key == "startTimeUnixNano") return Integer(out.start_time_unix_nano);
          if (key == "droppedLinksCount") return Integer(out.dropped_links_count);
          break;
        case 18:
          if (key == "droppedEventsCount") return Integer(out.dropped_events_count);
          break;
        case 22:
          if (key == "droppedAttributesCount") return Integer(out.dropped_attributes_count);
          break;
        default: break;
      }
      return j_.SkipValue();
    });
  }

  bool ReadEvent(decoded::Event& out) {
    return Members([&](std::string_view key) {
      if (key == "timeUnixNano") return Integer(out.time_unix_nano);
      if (key == "name") return String(out.name);
      if (key == "attributes") return Attributes(key, out.attributes);
      if (key == "droppedAttributesCount") return Integer(out.dropped_attributes_count);
      return j_.SkipValue();
    });
  }

  bool ReadLink(decoded::Link& out) {
    return Members([&](std::string_view key) {
      if (key == "traceId") return Hex(out.trace_id);
      if (key == "spanId") return Hex(out.span_id);
      if (key == "traceState") return String(out.trace_state);
      if (key == "attributes") return Attributes(key, out.attributes);
      if (key == "droppedAttributesCount") return Integer(out.dropped_attributes_count);
      if (key == "flags") return Integer(out.flags);
      return j_.SkipValue();
    });
  }

  bool ReadStatus(decoded::Status& out) {
    return Members([&](std::string_view key) {
      if (key == "message") return String(out.message);
      if (key == "code") return Integer(out.code, /*strings=*/false);
      return j_.SkipValue();
    });
  }

  decoded::TraceRequest* request_ = nullptr;
};

}  // namespace

namespace internal {
Result<uint64_t> CountSpansJson(std::string_view body, const DecodeLimits& limits) {
  return JsonTraceDecoder(body, limits).Count();
}
}  // namespace internal

Result<decoded::TraceRequest> DecodeTraceRequestJson(std::string_view body,
                                                     const DecodeLimits& limits) {
  return JsonTraceDecoder(body, limits).Run();
}

}  // namespace otlp::exporter
