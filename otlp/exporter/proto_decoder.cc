// The protobuf request decoder: ExportTraceServiceRequest wire format into decoded:: data.
//
// One function per message. Each reads the fields of its message with a bounds-checked
// ProtoReader, checks the wire type of every field it knows and skips the others; a failure is
// recorded once (message, field path, byte offset) and every caller returns false from there.
#include <cstring>
#include <string>
#include <type_traits>

#include "otlp/exporter/internal/json_text.h"
#include "otlp/exporter/internal/proto_wire.h"
#include "otlp/exporter/internal/request_decoding.h"
#include "otlp/exporter/otlp_decoder.h"

namespace otlp::exporter {
namespace {

using internal::DecodeBudget;
using internal::DecodePath;
using internal::kWireFixed32;
using internal::kWireFixed64;
using internal::kWireLen;
using internal::kWireVarint;
using internal::ProtoReader;
using internal::WireTypeName;

class ProtoRequestDecoder {
 public:
  ProtoRequestDecoder(std::string_view body, const DecodeLimits& limits)
      : body_(body), limits_(limits), budget_(limits.max_decoded_bytes) {}

  // CountTraceRequestSpans: only the framing down to the Span messages.
  Result<uint64_t> Count() {
    if (body_.size() > limits_.max_body_bytes) {
      return otlp::Status(StatusCode::kResourceExhausted,
                          "OTLP protobuf request refused: " +
                              internal::BodyTooLarge(body_.size(), limits_.max_body_bytes));
    }
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
      return otlp::Status(code_, message_);
    }
    return spans;
  }

  Result<decoded::TraceRequest> Run() {
    if (body_.size() > limits_.max_body_bytes) {
      return otlp::Status(StatusCode::kResourceExhausted,
                          "OTLP protobuf request refused: " +
                              internal::BodyTooLarge(body_.size(), limits_.max_body_bytes));
    }
    decoded::TraceRequest request;
    request_ = &request;
    if (!ReadRequest(body_, request)) return otlp::Status(code_, message_);
    return request;
  }

 private:
  // ---- failures

  bool Fail(const char* at, std::string_view field, std::string_view what,
            StatusCode code = StatusCode::kInvalidArgument) {
    if (failed_) return false;
    failed_ = true;
    code_ = code;
    const std::string path = path_.ToString(field);
    message_ = code == StatusCode::kResourceExhausted ? "OTLP protobuf request refused: "
                                                      : "invalid OTLP protobuf request: ";
    if (!path.empty()) message_ += path + ": ";
    message_ += std::string(what) + " (at byte " + std::to_string(at - body_.data()) + ")";
    return false;
  }
  bool Truncated(const char* at, std::string_view field, uint32_t wire) {
    return Fail(at, field,
                wire == kWireLen ? "truncated: the length runs past the end of the message"
                                 : "truncated " + std::string(WireTypeName(wire)) + " value");
  }
  bool WrongWire(const char* at, std::string_view field, uint32_t wire, uint32_t want) {
    return Fail(at, field,
                "wire type " + std::to_string(wire) + " (" + std::string(WireTypeName(wire)) +
                    "), expected " + std::to_string(want) + " (" + std::string(WireTypeName(want)) +
                    ")");
  }
  bool Charge(const char* at, size_t bytes) {
    if (budget_.Charge(bytes)) return true;
    return Fail(at, {}, internal::DecodedTooLarge(limits_.max_decoded_bytes),
                StatusCode::kResourceExhausted);
  }

  // ---- fields

  // Calls on_field(reader, field, wire, at) for every field of `msg`; it must consume the value
  // (SkipUnknown for fields it does not know).
  template <typename F>
  bool Fields(std::string_view msg, F&& on_field) {
    ProtoReader r(msg);
    while (!r.done()) {
      const char* at = r.position();
      uint32_t field, wire;
      if (!r.Next(field, wire)) return Fail(at, {}, "malformed field key");
      if (!on_field(r, field, wire, at)) return false;
    }
    return true;
  }
  bool SkipUnknown(ProtoReader& r, uint32_t field, uint32_t wire, const char* at) {
    if (r.Skip(wire)) return true;
    const std::string name = "field " + std::to_string(field);
    if (wire == 3 || wire == 4) return Fail(at, name, "groups are not used by OTLP");
    if (wire > 5) return Fail(at, name, "invalid wire type " + std::to_string(wire));
    return Truncated(at, name, wire);
  }

  bool LenField(ProtoReader& r, uint32_t wire, const char* at, std::string_view name,
                std::string_view& out) {
    if (wire != kWireLen) return WrongWire(at, name, wire, kWireLen);
    if (!r.Len(out)) return Truncated(at, name, kWireLen);
    return true;
  }
  // A string field: valid UTF-8, as proto3 requires.
  bool StringField(ProtoReader& r, uint32_t wire, const char* at, std::string_view name,
                   std::string& out) {
    std::string_view v;
    if (!LenField(r, wire, at, name, v)) return false;
    if (const size_t ok = internal::ValidUtf8Prefix(v); ok != v.size()) {
      return Fail(v.data() + ok, name,
                  "invalid UTF-8 at byte " + std::to_string(ok) + " of the string");
    }
    if (!Charge(at, v.size())) return false;
    out.assign(v);
    return true;
  }
  template <typename T>
  bool VarintField(ProtoReader& r, uint32_t wire, const char* at, std::string_view name, T& out) {
    if (wire != kWireVarint) return WrongWire(at, name, wire, kWireVarint);
    uint64_t v;
    if (!r.Varint(v)) return Fail(at, name, "malformed varint");
    // int32/uint32 fields keep the low 32 bits, as protobuf parsers do; int64 is two's complement.
    out = static_cast<T>(v);
    return true;
  }
  bool Fixed64Field(ProtoReader& r, uint32_t wire, const char* at, std::string_view name,
                    uint64_t& out) {
    if (wire != kWireFixed64) return WrongWire(at, name, wire, kWireFixed64);
    if (!r.Fixed64(out)) return Truncated(at, name, wire);
    return true;
  }
  bool Fixed32Field(ProtoReader& r, uint32_t wire, const char* at, std::string_view name,
                    uint32_t& out) {
    if (wire != kWireFixed32) return WrongWire(at, name, wire, kWireFixed32);
    if (!r.Fixed32(out)) return Truncated(at, name, wire);
    return true;
  }
  // A trace or span id: N bytes, or none (then it stays all zero).
  template <typename Id>
  bool IdField(ProtoReader& r, uint32_t wire, const char* at, std::string_view name, Id& out) {
    std::string_view v;
    if (!LenField(r, wire, at, name, v)) return false;
    if (v.empty()) {
      out = Id();
      return true;
    }
    if (v.size() != Id::kSize) {
      return Fail(at, name,
                  std::to_string(v.size()) + " bytes, expected " + std::to_string(Id::kSize));
    }
    std::memcpy(out.mutable_bytes().data(), v.data(), Id::kSize);
    return true;
  }
  // A nested message: `decode` reads its payload into `out` under path entry `name`.
  template <typename F>
  bool MessageField(ProtoReader& r, uint32_t wire, const char* at, std::string_view name,
                    F&& decode) {
    std::string_view payload;
    if (!LenField(r, wire, at, name, payload)) return false;
    path_.Push(name);
    if (!decode(payload)) return false;
    path_.Pop();
    return true;
  }
  // An element of a repeated message field, appended to `items`.
  template <typename T, typename F>
  bool RepeatedField(ProtoReader& r, uint32_t wire, const char* at, std::string_view name,
                     std::vector<T>& items, F&& decode) {
    std::string_view payload;
    if (!LenField(r, wire, at, name, payload)) return false;
    if (!Charge(at, sizeof(T))) return false;
    path_.Push(name, items.size());
    T& item = items.emplace_back();
    if (!decode(payload, item)) return false;
    path_.Pop();
    return true;
  }

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

  bool ReadResource(std::string_view msg, decoded::Resource& out) {
    return Fields(msg, [&](ProtoReader& r, uint32_t field, uint32_t wire, const char* at) {
      switch (field) {
        case 1: return ReadAttribute(r, wire, at, "attributes", out.attributes);
        case 2:
          return VarintField(r, wire, at, "dropped_attributes_count", out.dropped_attributes_count);
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

  bool ReadScope(std::string_view msg, decoded::Scope& out) {
    return Fields(msg, [&](ProtoReader& r, uint32_t field, uint32_t wire, const char* at) {
      switch (field) {
        case 1: return StringField(r, wire, at, "name", out.name);
        case 2: return StringField(r, wire, at, "version", out.version);
        case 3: return ReadAttribute(r, wire, at, "attributes", out.attributes);
        case 4:
          return VarintField(r, wire, at, "dropped_attributes_count", out.dropped_attributes_count);
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

  // ---- attributes

  // One KeyValue of a repeated attributes field.
  bool ReadAttribute(ProtoReader& r, uint32_t wire, const char* at, std::string_view name,
                     std::vector<decoded::KeyValue>& out) {
    return RepeatedField(r, wire, at, name, out, [&](std::string_view m, decoded::KeyValue& kv) {
      return ReadKeyValue(m, kv, 1);
    });
  }

  bool ReadKeyValue(std::string_view msg, decoded::KeyValue& out, int depth) {
    return Fields(msg, [&](ProtoReader& r, uint32_t field, uint32_t wire, const char* at) {
      switch (field) {
        case 1: return StringField(r, wire, at, "key", out.key);
        case 2:
          return MessageField(r, wire, at, "value", [&](std::string_view m) {
            return ReadAnyValue(m, out.value, depth);
          });
        default: return SkipUnknown(r, field, wire, at);
      }
    });
  }

  // `depth`: 1 for an attribute's value, one more per enclosing array or key-value list.
  bool ReadAnyValue(std::string_view msg, decoded::AnyValue& out, int depth) {
    if (depth > limits_.max_value_depth) {
      return Fail(msg.data(), {},
                  "AnyValue nested deeper than " + std::to_string(limits_.max_value_depth) +
                      " levels (DecodeLimits::max_value_depth)",
                  StatusCode::kResourceExhausted);
    }
    using Array = decoded::AnyValue::Array;
    using KeyValueList = decoded::AnyValue::KeyValueList;
    return Fields(msg, [&](ProtoReader& r, uint32_t field, uint32_t wire, const char* at) {
      switch (field) {
        case 1: return StringField(r, wire, at, "string_value", out.value.emplace<std::string>());
        case 2: {
          uint64_t v;
          if (!VarintField(r, wire, at, "bool_value", v)) return false;
          out.value = v != 0;
          return true;
        }
        case 3: return VarintField(r, wire, at, "int_value", out.value.emplace<int64_t>());
        case 4: {
          uint64_t bits;
          if (!Fixed64Field(r, wire, at, "double_value", bits)) return false;
          double d;
          std::memcpy(&d, &bits, sizeof d);
          out.value = d;
          return true;
        }
        case 5: {
          // A repeated occurrence merges into the array already read, as protobuf does.
          if (!std::holds_alternative<Array>(out.value)) out.value.emplace<Array>();
          return MessageField(r, wire, at, "array_value", [&](std::string_view m) {
            return ReadArrayValue(m, std::get<Array>(out.value), depth);
          });
        }
        case 6: {
          if (!std::holds_alternative<KeyValueList>(out.value)) out.value.emplace<KeyValueList>();
          return MessageField(r, wire, at, "kvlist_value", [&](std::string_view m) {
            return ReadKeyValueList(m, std::get<KeyValueList>(out.value), depth);
          });
        }
        case 7: {
          std::string_view v;
          if (!LenField(r, wire, at, "bytes_value", v) || !Charge(at, v.size())) return false;
          out.value.emplace<decoded::AnyValue::Bytes>(v.begin(), v.end());
          return true;
        }
        default: return SkipUnknown(r, field, wire, at);
      }
    });
  }

  bool ReadArrayValue(std::string_view msg, decoded::AnyValue::Array& out, int depth) {
    return Fields(msg, [&](ProtoReader& r, uint32_t field, uint32_t wire, const char* at) {
      if (field == 1) {
        return RepeatedField(r, wire, at, "values", out,
                             [&](std::string_view m, decoded::AnyValue& v) {
                               return ReadAnyValue(m, v, depth + 1);
                             });
      }
      return SkipUnknown(r, field, wire, at);
    });
  }

  bool ReadKeyValueList(std::string_view msg, decoded::AnyValue::KeyValueList& out, int depth) {
    return Fields(msg, [&](ProtoReader& r, uint32_t field, uint32_t wire, const char* at) {
      if (field == 1) {
        return RepeatedField(r, wire, at, "values", out,
                             [&](std::string_view m, decoded::KeyValue& kv) {
                               return ReadKeyValue(m, kv, depth + 1);
                             });
      }
      return SkipUnknown(r, field, wire, at);
    });
  }

  std::string_view body_;
  const DecodeLimits& limits_;
  DecodeBudget budget_;
  DecodePath path_;
  decoded::TraceRequest* request_ = nullptr;
  bool failed_ = false;
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

}  // namespace

namespace internal {
Result<uint64_t> CountSpansProto(std::string_view body, const DecodeLimits& limits) {
  return ProtoRequestDecoder(body, limits).Count();
}
}  // namespace internal

Result<decoded::TraceRequest> DecodeTraceRequestProto(std::string_view body,
                                                      const DecodeLimits& limits) {
  return ProtoRequestDecoder(body, limits).Run();
}

}  // namespace otlp::exporter
