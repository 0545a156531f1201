// What the protobuf request decoders (traces, metrics, logs) share: failures recorded once with
// the field path and byte offset, typed field readers that check wire types, the memory budget,
// and the messages every signal holds (Resource, InstrumentationScope, KeyValue, AnyValue).
// Internal: not an API.
//
//   class ProtoLogsDecoder : ProtoRequestReader {
//     bool ReadLogRecord(std::string_view msg, decoded::LogRecord& out) {
//       return Fields(msg, [&](ProtoReader& r, uint32_t field, uint32_t wire, const char* at) {
//         switch (field) {
//           case 3: return StringField(r, wire, at, "severity_text", out.severity_text);
//           default: return SkipUnknown(r, field, wire, at);
//         }
//       });
//     }
//   };
//
// Every reader returns false on failure, having recorded the first one (Failure() returns it);
// callers return false from there. Header-only so that the fuzzing build, which compiles the
// decoder sources into the fuzzer, needs no extra source.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "otlp/core/status.h"
#include "otlp/exporter/internal/json_text.h"
#include "otlp/exporter/internal/proto_wire.h"
#include "otlp/exporter/internal/request_decoding.h"
#include "otlp/exporter/otlp_decoder.h"

namespace otlp::exporter::internal {

class ProtoRequestReader {
 protected:
  ProtoRequestReader(std::string_view body, const DecodeLimits& limits)
      : body_(body), limits_(limits), budget_(limits.max_decoded_bytes) {}

  // kResourceExhausted when the body is over DecodeLimits::max_body_bytes, else OK.
  otlp::Status CheckBodySize() const {
    if (body_.size() <= limits_.max_body_bytes) return otlp::Status();
    return otlp::Status(
        StatusCode::kResourceExhausted,
        "OTLP protobuf request refused: " + BodyTooLarge(body_.size(), limits_.max_body_bytes));
  }
  // The first failure.
  otlp::Status Failure() const { return otlp::Status(code_, message_); }

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
    return Fail(at, {}, DecodedTooLarge(limits_.max_decoded_bytes), StatusCode::kResourceExhausted);
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
    if (const size_t ok = ValidUtf8Prefix(v); ok != v.size()) {
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
  // A bool: any non-zero varint is true.
  bool BoolField(ProtoReader& r, uint32_t wire, const char* at, std::string_view name, bool& out) {
    uint64_t v;
    if (!VarintField(r, wire, at, name, v)) return false;
    out = v != 0;
    return true;
  }
  // A sint32 (zigzag varint), of which protobuf parsers keep the low 32 bits.
  bool ZigZagField(ProtoReader& r, uint32_t wire, const char* at, std::string_view name,
                   int32_t& out) {
    uint32_t v;
    if (!VarintField(r, wire, at, name, v)) return false;
    out = static_cast<int32_t>(v >> 1) ^ -static_cast<int32_t>(v & 1);
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
  bool DoubleField(ProtoReader& r, uint32_t wire, const char* at, std::string_view name,
                   double& out) {
    uint64_t bits;
    if (!Fixed64Field(r, wire, at, name, bits)) return false;
    std::memcpy(&out, &bits, sizeof out);
    return true;
  }
  // One occurrence of a repeated scalar field (fixed64, double or a varint type): packed (one
  // length-delimited run, as proto3 writes them) or a single element with `element_wire`, as
  // parsers must accept both. Elements are appended to `out`.
  template <typename T>
  bool PackedField(ProtoReader& r, uint32_t wire, const char* at, std::string_view name,
                   uint32_t element_wire, std::vector<T>& out) {
    auto element = [&](ProtoReader& in, T& v) {
      if (element_wire == kWireVarint) {
        uint64_t x;
        if (!in.Varint(x)) return false;
        v = static_cast<T>(x);
        return true;
      }
      uint64_t bits;
      if (!in.Fixed64(bits)) return false;
      if constexpr (std::is_same_v<T, double>) {
        std::memcpy(&v, &bits, sizeof v);
      } else {
        v = static_cast<T>(bits);
      }
      return true;
    };
    if (wire == element_wire) {
      if (!Charge(at, sizeof(T))) return false;
      if (element(r, out.emplace_back())) return true;
      return element_wire == kWireVarint ? Fail(at, name, "malformed varint")
                                         : Truncated(at, name, element_wire);
    }
    if (wire != kWireLen) return WrongWire(at, name, wire, kWireLen);
    std::string_view packed;
    if (!r.Len(packed)) return Truncated(at, name, kWireLen);
    if (element_wire == kWireFixed64 && packed.size() % 8 != 0) {
      return Fail(at, name,
                  "packed fixed64 values of " + std::to_string(packed.size()) +
                      " bytes (not a multiple of 8)");
    }
    const size_t count = element_wire == kWireFixed64 ? packed.size() / 8 : packed.size();
    if (!Charge(at, count * sizeof(T))) return false;  // an upper bound for varints
    ProtoReader in(packed);
    while (!in.done()) {
      const char* element_at = in.position();
      if (!element(in, out.emplace_back())) {
        return Fail(element_at, name, "malformed varint in packed values");
      }
    }
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

  // ---- messages every signal holds

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

  // `depth`: 1 for an attribute's value (or a log body), one more per enclosing array or
  // key-value list.
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
        case 2: return BoolField(r, wire, at, "bool_value", out.value.emplace<bool>());
        case 3: return VarintField(r, wire, at, "int_value", out.value.emplace<int64_t>());
        case 4: return DoubleField(r, wire, at, "double_value", out.value.emplace<double>());
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

 private:
  bool failed_ = false;
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

}  // namespace otlp::exporter::internal
