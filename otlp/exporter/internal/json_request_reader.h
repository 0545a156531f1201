// What the OTLP/JSON request decoders (traces, metrics, logs) share: the strict JsonReader with
// the field path of every failure, readers for the proto3 JSON scalar encodings (64-bit integers
// as numbers or strings, enums as numbers, doubles with "NaN" and "Infinity", hex ids, base64
// bytes, null for a default), the memory budget, and the messages every signal holds (Resource,
// InstrumentationScope, KeyValue, AnyValue). Internal: not an API.
//
//   class JsonLogsDecoder : JsonRequestReader {
//     bool ReadLogRecord(decoded::LogRecord& out) {
//       return Members([&](std::string_view key) {
//         if (key == "severityText") return String(out.severity_text);
//         return j_.SkipValue();   // unknown keys are skipped
//       });
//     }
//   };
//
// Every reader returns false on failure, having recorded the first one in the JsonReader
// (Failure() returns it with the path and the line and column). Header-only so that the fuzzing
// build, which compiles the decoder sources into the fuzzer, needs no extra source.
#pragma once

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "otlp/core/status.h"
#include "otlp/exporter/internal/json_reader.h"
#include "otlp/exporter/internal/request_decoding.h"
#include "otlp/exporter/otlp_decoder.h"

namespace otlp::exporter::internal {

// JSON nesting of a request around an attribute value, at most 13 levels (request,
// resourceMetrics, a ResourceMetrics, scopeMetrics, a ScopeMetrics, metrics, a metric, histogram,
// dataPoints, a point, attributes, a KeyValue, its value; spans and log records nest less) and
// some slack, then three levels per nested AnyValue (the AnyValue, its arrayValue or kvlistValue
// object, the values array).
constexpr int kStructureDepth = 16;
constexpr int kDepthPerValue = 3;

// "a string", "a number", … for the value that starts with `c`.
inline std::string JsonTypeName(char c) {
  switch (c) {
    case '{': return "an object";
    case '[': return "an array";
    case '"': return "a string";
    case 't':
    case 'f': return "a boolean";
    case 'n': return "null";
    case '\0': return "the end of the input";
    default:
      if (c == '-' || (c >= '0' && c <= '9')) return "a number";
      if (c > ' ' && c < 0x7f) return std::string("'") + c + "'";
      return "an invalid character";
  }
}

inline int HexValue(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Base64 (RFC 4648, standard or URL-safe alphabet, padding optional) as the proto3 JSON mapping
// writes bytes. False on any other character or a dangling bit group.
inline bool DecodeBase64(std::string_view in, std::vector<uint8_t>& out) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return false;
  out.clear();
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '+' || c == '-') {
      v = 62;
    } else if (c == '/' || c == '_') {
      v = 63;
    } else {
      return false;
    }
    acc = acc << 6 | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>(acc >> bits));
    }
  }
  return true;
}

class JsonRequestReader {
 protected:
  JsonRequestReader(std::string_view body, const DecodeLimits& limits)
      : body_(body),
        limits_(limits),
        budget_(limits.max_decoded_bytes),
        j_(body, {.max_depth = kStructureDepth + kDepthPerValue * limits.max_value_depth}) {}

  // kResourceExhausted when the body is over DecodeLimits::max_body_bytes, else OK.
  otlp::Status CheckBodySize() const {
    if (body_.size() <= limits_.max_body_bytes) return otlp::Status();
    return otlp::Status(
        StatusCode::kResourceExhausted,
        "OTLP/JSON request refused: " + BodyTooLarge(body_.size(), limits_.max_body_bytes));
  }
  // The first failure.
  otlp::Status Failure() const {
    std::string message = code_ == StatusCode::kResourceExhausted ? "OTLP/JSON request refused: "
                                                                  : "invalid OTLP/JSON request: ";
    if (const std::string path = path_.ToString(); !path.empty()) message += path + ": ";
    message += j_.error() + " (" + j_.Location(j_.error_offset()) + ")";
    return otlp::Status(code_, std::move(message));
  }

  bool AtEnd() {
    if (j_.AtEnd()) return true;
    return j_.Fail("unexpected text after the request object");
  }
  bool Exhausted(std::string_view what) {
    if (!j_.failed()) code_ = StatusCode::kResourceExhausted;
    return j_.Fail(what);
  }
  bool Charge(size_t bytes) {
    return budget_.Charge(bytes) || Exhausted(DecodedTooLarge(limits_.max_decoded_bytes));
  }
  bool Expected(std::string_view what) {
    return j_.Fail("expected " + std::string(what) + ", got " + JsonTypeName(j_.Peek()));
  }

  // ---- members

  // Reads an object, calling on_member(key) for each member with the key on the path.
  template <typename F>
  bool Members(F&& on_member) {
    if (j_.Peek() != '{') return Expected("an object");
    return j_.Object([&](std::string_view key) {
      // The path outlives the member: a key unescaped into the reader's scratch is kept here.
      if (key.data() < body_.data() || key.data() + key.size() > body_.data() + body_.size()) {
        key = escaped_keys_.emplace_back(key);
      }
      path_.Push(key);
      if (!on_member(key)) return false;
      path_.Pop();
      return true;
    });
  }
  // A repeated message field: null or an array whose elements read(item) appends to `items`.
  template <typename T, typename F>
  bool Repeated(std::vector<T>& items, F&& read) {
    if (j_.Null()) return true;
    if (j_.Peek() != '[') return Expected("an array");
    return j_.Array([&](size_t i) {
      if (!Charge(sizeof(T))) return false;
      path_.Pop();  // "name" becomes "name[i]"
      path_.Push(key_of_array_, i);
      T& item = items.emplace_back();
      if (!read(item)) return false;
      path_.Pop();
      path_.Push(key_of_array_);
      return true;
    });
  }
  // A message field: null (left as it is) or an object.
  template <typename F>
  bool Message(F&& read) {
    return j_.Null() || read();
  }

  bool String(std::string& out) {
    if (j_.Null()) {
      out.clear();
      return true;
    }
    if (j_.Peek() != '"') return Expected("a string");
    if (!j_.String(out)) return false;
    return Charge(out.size());
  }
  bool Bool(bool& out) {
    if (j_.Null()) {
      out = false;
      return true;
    }
    const char c = j_.Peek();
    if (c != 't' && c != 'f') return Expected("true or false");
    return j_.Bool(out);
  }

  // An integer in [min, max]: a JSON number, or a decimal string when `strings` (proto3 JSON
  // accepts both for every integer type; OTLP/JSON enums must be numbers). Fractions and
  // exponents are accepted when the value is integral.
  template <typename T>
  bool Integer(T& out, bool strings = true) {
    if (j_.Null()) {
      out = 0;
      return true;
    }
    std::string_view token;
    std::string text;
    const size_t at = j_.offset();
    if (j_.Peek() == '"') {
      if (!strings)
        return j_.Fail("expected an integer (OTLP/JSON enums are numbers), got a string");
      if (!j_.String(text)) return false;
      token = text;
    } else if (j_.Peek() == '-' || (j_.Peek() >= '0' && j_.Peek() <= '9')) {
      if (!j_.Number(token)) return false;
    } else {
      return Expected(strings ? "an integer (number or string)" : "an integer");
    }
    auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), out);
    if (!token.empty() && ec == std::errc() && end == token.data() + token.size()) return true;
    double d;
    auto [dend, dec] = std::from_chars(token.data(), token.data() + token.size(), d);
    const bool number = !token.empty() && dec == std::errc() && dend == token.data() + token.size();
    if (number && d == std::trunc(d) && d >= static_cast<double>(std::numeric_limits<T>::min()) &&
        d < std::ldexp(1.0, std::numeric_limits<T>::digits)) {
      out = static_cast<T>(d);
      return true;
    }
    return j_.FailAt(at, number ? "integer out of range or not integral"
                                : "expected an integer, got \"" + std::string(token) + "\"");
  }

  bool Double(double& out) {
    if (j_.Null()) {
      out = 0;
      return true;
    }
    std::string_view token;
    std::string text;
    const size_t at = j_.offset();
    if (j_.Peek() == '"') {
      if (!j_.String(text)) return false;
      if (text == "NaN") {
        out = std::numeric_limits<double>::quiet_NaN();
        return true;
      }
      if (text == "Infinity" || text == "-Infinity") {
        out = text[0] == '-' ? -std::numeric_limits<double>::infinity()
                             : std::numeric_limits<double>::infinity();
        return true;
      }
      token = text;
    } else if (j_.Peek() == '-' || (j_.Peek() >= '0' && j_.Peek() <= '9')) {
      if (!j_.Number(token)) return false;
    } else {
      return Expected("a number");
    }
    auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), out);
    if (!token.empty() && ec == std::errc() && end == token.data() + token.size()) return true;
    return j_.FailAt(at, ec == std::errc::result_out_of_range
                             ? "number out of the range of a double"
                             : "expected a number, got \"" + std::string(token) + "\"");
  }

  // A trace or span id: hex digits for its N bytes (either case), or "" / null for none.
  template <typename Id>
  bool Hex(Id& out) {
    if (j_.Null()) {
      out = Id();
      return true;
    }
    if (j_.Peek() != '"') return Expected("a hex string");
    const size_t at = j_.offset();
    std::string_view text;
    if (!j_.StringView(text, scratch_)) return false;
    if (text.empty()) {
      out = Id();
      return true;
    }
    if (text.size() != 2 * Id::kSize) {
      return j_.FailAt(at, std::to_string(text.size()) + " hex digits, expected " +
                               std::to_string(2 * Id::kSize));
    }
    for (size_t i = 0; i < Id::kSize; ++i) {
      const int hi = HexValue(text[2 * i]), lo = HexValue(text[2 * i + 1]);
      if (hi < 0 || lo < 0) return j_.FailAt(at, "not a hex string");
      out.mutable_bytes()[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    return true;
  }

  // Repeated() names its elements after the key being read.
  template <typename T, typename F>
  bool RepeatedAs(std::string_view key, std::vector<T>& items, F&& read) {
    const std::string_view saved = key_of_array_;
    key_of_array_ = key;
    const bool ok = Repeated(items, read);
    key_of_array_ = saved;
    return ok;
  }

  // ---- messages every signal holds

  bool ReadResource(decoded::Resource& out) {
    return Members([&](std::string_view key) {
      if (key == "attributes") return Attributes(key, out.attributes);
      if (key == "droppedAttributesCount") return Integer(out.dropped_attributes_count);
      return j_.SkipValue();
    });
  }

  bool ReadScope(decoded::Scope& out) {
    return Members([&](std::string_view key) {
      if (key == "name") return String(out.name);
      if (key == "version") return String(out.version);
      if (key == "attributes") return Attributes(key, out.attributes);
      if (key == "droppedAttributesCount") return Integer(out.dropped_attributes_count);
      return j_.SkipValue();
    });
  }

  // ---- attributes

  bool Attributes(std::string_view key, std::vector<decoded::KeyValue>& out) {
    return RepeatedAs(key, out, [&](decoded::KeyValue& kv) { return ReadKeyValue(kv, 1); });
  }

  bool ReadKeyValue(decoded::KeyValue& out, int depth) {
    return Members([&](std::string_view key) {
      if (key == "key") return String(out.key);
      if (key == "value") return Message([&] { return ReadAnyValue(out.value, depth); });
      return j_.SkipValue();
    });
  }

  // `depth`: 1 for an attribute's value, one more per enclosing array or key-value list.
  bool ReadAnyValue(decoded::AnyValue& out, int depth) {
    if (depth > limits_.max_value_depth) {
      return Exhausted("AnyValue nested deeper than " + std::to_string(limits_.max_value_depth) +
                       " levels (DecodeLimits::max_value_depth)");
    }
    using Array = decoded::AnyValue::Array;
    using KeyValueList = decoded::AnyValue::KeyValueList;
    std::string_view member;  // the value member seen (one at most)
    return Members([&](std::string_view key) {
      static constexpr std::string_view kMembers[] = {"stringValue", "boolValue",  "intValue",
                                                      "doubleValue", "arrayValue", "kvlistValue",
                                                      "bytesValue"};
      size_t which = 0;
      while (which < std::size(kMembers) && kMembers[which] != key) ++which;
      if (which == std::size(kMembers)) return j_.SkipValue();
      if (j_.Null()) return true;  // a member set to null is not set
      if (!member.empty()) {
        return j_.Fail("a second value member (" + std::string(member) + " is already set)");
      }
      member = kMembers[which];
      switch (which) {
        case 0: return String(out.value.emplace<std::string>());
        case 1: return Bool(out.value.emplace<bool>());
        case 2: return Integer(out.value.emplace<int64_t>());
        case 3: return Double(out.value.emplace<double>());
        case 4: {
          Array& values = out.value.emplace<Array>();
          return Members([&](std::string_view k) {
            if (k != "values") return j_.SkipValue();
            return RepeatedAs(k, values,
                              [&](decoded::AnyValue& v) { return ReadAnyValue(v, depth + 1); });
          });
        }
        case 5: {
          KeyValueList& values = out.value.emplace<KeyValueList>();
          return Members([&](std::string_view k) {
            if (k != "values") return j_.SkipValue();
            return RepeatedAs(k, values,
                              [&](decoded::KeyValue& kv) { return ReadKeyValue(kv, depth + 1); });
          });
        }
        default: {
          if (j_.Peek() != '"') return Expected("a base64 string");
          const size_t at = j_.offset();
          std::string_view text;
          if (!j_.StringView(text, scratch_)) return false;
          auto& bytes = out.value.emplace<decoded::AnyValue::Bytes>();
          if (!DecodeBase64(text, bytes)) return j_.FailAt(at, "invalid base64");
          return Charge(bytes.size());
        }
      }
    });
  }

  std::string_view body_;
  const DecodeLimits& limits_;
  DecodeBudget budget_;
  JsonReader j_;
  DecodePath path_;
  std::string_view key_of_array_;  // the key of the repeated field being read
  std::string scratch_;            // unescaped ids and base64 text
  std::deque<std::string> escaped_keys_;
  StatusCode code_ = StatusCode::kInvalidArgument;
};

}  // namespace otlp::exporter::internal
