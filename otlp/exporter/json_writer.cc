// The OTLP/JSON writer: ExportTraceServiceRequest as OTLP/JSON, written directly from SpanData.
//
// Written through a raw position like the protobuf writer. Before each span (and each resource
// or scope header) the buffer is grown to an upper bound of what will be written: every
// primitive below states its maximum size, and the *Bound() functions add them up.
#include <algorithm>
#include <array>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstring>
#include <vector>

#include "otlp/core/internal/bytes.h"
#include "otlp/exporter/internal/json_text.h"
#include "otlp/exporter/internal/span_grouping.h"
#include "otlp/exporter/otlp_encoder.h"
#include "otlp/trace/resource.h"

namespace otlp::exporter {

using trace::EventData;
using trace::InstrumentationScope;
using trace::LinkData;
using trace::Resource;
using trace::SpanData;

namespace {

using internal::EventAttrs;
using internal::Grouping;
using internal::HasSpecialByte;
using internal::kJsonSpecial;
using internal::LinkAttrs;
using internal::OwnedAttributeViews;
using internal::ScopeGroup;
using internal::Utf8Sequence;

// Copies n bytes (short strings without a call to memcpy: core/internal/bytes.h).
inline char* PutRaw(char* p, const void* data, size_t n) noexcept {
  otlp::internal::CopyShortBytes(p, static_cast<const char*>(data), n);
  return p + n;
}

constexpr char kHexDigits[] = "0123456789abcdef";

// Maximum sizes of the variable-length primitives.
constexpr size_t kMaxUint = 20;    // 18446744073709551615 (and -9223372036854775808)
constexpr size_t kMaxDouble = 32;  // to_chars shortest form is at most 24 characters
// Quotes plus at most 6 bytes ("\u00XX") per input byte.
inline size_t StringBound(size_t n) noexcept {
  return 2 + 6 * n;
}

// A literal (without its terminating NUL).
template <size_t N>
inline char* JLit(char* p, const char (&s)[N]) noexcept {
  std::memcpy(p, s, N - 1);
  return p + N - 1;
}

inline char* JChar(char* p, char c) noexcept {
  *p = c;
  return p + 1;
}

// "00" to "99".
constexpr std::array<char, 200> kDigitPairs = [] {
  std::array<char, 200> t{};
  for (int i = 0; i < 100; ++i) {
    t[2 * i] = static_cast<char>('0' + i / 10);
    t[2 * i + 1] = static_cast<char>('0' + i % 10);
  }
  return t;
}();

// Exactly 8 decimal digits of v < 10^8, zero-padded. The four pairs do not depend on each other,
// unlike the digit-by-digit division chain of a general conversion.
inline char* JEightDigits(char* p, uint32_t v) noexcept {
  const uint32_t hi = v / 10000, lo = v % 10000;
  std::memcpy(p, &kDigitPairs[2 * (hi / 100)], 2);
  std::memcpy(p + 2, &kDigitPairs[2 * (hi % 100)], 2);
  std::memcpy(p + 4, &kDigitPairs[2 * (lo / 100)], 2);
  std::memcpy(p + 6, &kDigitPairs[2 * (lo % 100)], 2);
  return p + 8;
}

// Decimal. Timestamps (19 digits) are the common large numbers: their leading digits are
// followed by 8-digit blocks.
inline char* JUint(char* p, uint64_t v) noexcept {
  constexpr uint64_t k1e8 = 100000000;
  if (v < k1e8) return std::to_chars(p, p + kMaxUint, v).ptr;
  const auto low = static_cast<uint32_t>(v % k1e8);
  v /= k1e8;
  if (v < k1e8) {
    p = std::to_chars(p, p + kMaxUint, v).ptr;
  } else {
    p = std::to_chars(p, p + kMaxUint, v / k1e8).ptr;
    p = JEightDigits(p, static_cast<uint32_t>(v % k1e8));
  }
  return JEightDigits(p, low);
}

inline char* JInt(char* p, int64_t v) noexcept {
  if (v >= 0) return JUint(p, static_cast<uint64_t>(v));
  *p++ = '-';
  return JUint(p, ~static_cast<uint64_t>(v) + 1);  // also right for INT64_MIN
}

inline char* JQuotedUint(char* p, uint64_t v) noexcept {
  return JChar(JUint(JChar(p, '"'), v), '"');
}

// proto3 JSON double: a number when finite, else one of the three special strings.
char* JDouble(char* p, double d) noexcept {
  if (std::isnan(d)) return JLit(p, "\"NaN\"");
  if (std::isinf(d)) return d > 0 ? JLit(p, "\"Infinity\"") : JLit(p, "\"-Infinity\"");
  return std::to_chars(p, p + kMaxDouble, d).ptr;  // shortest round-trip form
}

// Byte b as two lowercase hex digits at kHexPairs[2 * b].
constexpr std::array<char, 512> kHexPairs = [] {
  std::array<char, 512> t{};
  for (int i = 0; i < 256; ++i) {
    t[2 * i] = kHexDigits[i >> 4];
    t[2 * i + 1] = kHexDigits[i & 0xF];
  }
  return t;
}();

inline char* JHex(char* p, const uint8_t* bytes, size_t n) noexcept {
  *p++ = '"';
  for (size_t i = 0; i < n; ++i) std::memcpy(p + 2 * i, &kHexPairs[2 * bytes[i]], 2);
  p += 2 * n;
  *p++ = '"';
  return p;
}

// True when no byte of b[0, n) is special: the string is copied as it is. The bytes are read as
// 8-byte words, the last one overlapping its predecessor, and a string under 8 bytes as a word
// made of its first, middle and last bytes (or of two overlapping 4-byte halves), so that no
// byte loop, with its hard-to-predict exit, runs on the common path.
inline bool IsPlainJson(const unsigned char* b, size_t n) noexcept {
  uint64_t x;
  if (n >= 8) {
    size_t i = 0;
    for (; n - i > 8; i += 8) {
      std::memcpy(&x, b + i, 8);
      if (HasSpecialByte(x)) return false;
    }
    std::memcpy(&x, b + n - 8, 8);
    return !HasSpecialByte(x);
  }
  if (n >= 4) {
    uint32_t lo, hi;
    std::memcpy(&lo, b, 4);
    std::memcpy(&hi, b + n - 4, 4);
    x = uint64_t{lo} | uint64_t{hi} << 32;
  } else if (n > 0) {
    x = uint64_t{b[0]} | uint64_t{b[n / 2]} << 8 | uint64_t{b[n - 1]} << 16 |
        0x6161616161000000ull;  // padded with 'a'
  } else {
    return true;
  }
  return !HasSpecialByte(x);
}

// A string with special bytes: quoted, escaped; at most StringBound(s.size()) bytes (an
// ill-formed byte becomes the 3-byte U+FFFD, a control character the 6-byte \u00XX).
char* JStrEscaped(char* p, std::string_view s) noexcept {
  const auto* b = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  *p++ = '"';
  size_t run = 0;  // start of the bytes not yet copied
  size_t i = 0;
  while (i < n) {
    // Skip 8 plain ASCII bytes at a time.
    while (n - i >= 8) {
      uint64_t x;
      std::memcpy(&x, b + i, 8);
      if (HasSpecialByte(x)) break;
      i += 8;
    }
    if (i >= n) break;
    const unsigned char c = b[i];
    if (!kJsonSpecial[c]) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      const int len = Utf8Sequence(b + i, n - i);
      if (len > 0) {  // well-formed: stays in the run
        i += static_cast<size_t>(len);
        continue;
      }
      p = PutRaw(p, b + run, i - run);
      p = JLit(p, "\xEF\xBF\xBD");  // U+FFFD
      i += static_cast<size_t>(-len);
      run = i;
      continue;
    }
    p = PutRaw(p, b + run, i - run);
    switch (c) {
      case '"': p = JLit(p, "\\\""); break;
      case '\\': p = JLit(p, "\\\\"); break;
      case '\n': p = JLit(p, "\\n"); break;
      case '\r': p = JLit(p, "\\r"); break;
      case '\t': p = JLit(p, "\\t"); break;
      case '\b': p = JLit(p, "\\b"); break;
      case '\f': p = JLit(p, "\\f"); break;
      default:
        p = JLit(p, "\\u00");
        *p++ = kHexDigits[c >> 4];
        *p++ = kHexDigits[c & 0xF];
        break;
    }
    ++i;
    run = i;
  }
  p = PutRaw(p, b + run, n - run);
  *p++ = '"';
  return p;
}

// A quoted JSON string; at most StringBound(s.size()) bytes.
inline char* JStr(char* p, std::string_view s) noexcept {
  const auto* b = reinterpret_cast<const unsigned char*>(s.data());
  if (!IsPlainJson(b, s.size())) [[unlikely]]
    return JStrEscaped(p, s);
  *p++ = '"';
  p = PutRaw(p, b, s.size());
  *p++ = '"';
  return p;
}

// --- upper bounds

size_t AnyValueJsonBound(const AttributeValue& v) noexcept {
  constexpr size_t kScalar = 24 + kMaxDouble;  // {"doubleValue":…} and the like
  switch (v.type()) {
    case AttributeType::kBool:
    case AttributeType::kInt:
    case AttributeType::kDouble: return kScalar;
    case AttributeType::kString: return 24 + StringBound(v.as_string().size());
    case AttributeType::kStringArray: {
      size_t n = 40;
      for (std::string_view s : v.as_string_array()) n += 24 + StringBound(s.size());
      return n;
    }
    default: return 40 + v.array_size() * kScalar;
  }
}

size_t AttributesJsonBound(std::span<const KeyValue> kvs) noexcept {
  size_t n = 32;  // ,"attributes":[ ]
  for (const KeyValue& kv : kvs) n += 24 + StringBound(kv.key.size()) + AnyValueJsonBound(kv.value);
  return n;
}

size_t SpanJsonBound(const SpanData& s) noexcept {
  size_t n = 512;  // keys, punctuation, ids, times, counts, flags, kind, status code
  n += StringBound(s.context.trace_state().header().size()) + StringBound(s.name.size()) +
       StringBound(s.status_message.size());
  n += AttributesJsonBound(s.attributes);
  for (const EventData& e : s.events) {
    n += 128 + StringBound(e.name.size()) + AttributesJsonBound(EventAttrs(s, e));
  }
  for (const LinkData& l : s.links) {
    n += 192 + StringBound(l.context.trace_state().header().size()) +
         AttributesJsonBound(LinkAttrs(s, l));
  }
  return n;
}

// --- writers

char* JAnyValue(char* p, const AttributeValue& v) noexcept {
  switch (v.type()) {
    case AttributeType::kBool:
      return v.as_bool() ? JLit(p, "{\"boolValue\":true}") : JLit(p, "{\"boolValue\":false}");
    case AttributeType::kInt: return JLit(JInt(JLit(p, "{\"intValue\":\""), v.as_int()), "\"}");
    case AttributeType::kDouble:
      return JChar(JDouble(JLit(p, "{\"doubleValue\":"), v.as_double()), '}');
    case AttributeType::kString:
      return JChar(JStr(JLit(p, "{\"stringValue\":"), v.as_string()), '}');
    default: break;
  }
  if (v.array_size() == 0) return JLit(p, "{\"arrayValue\":{}}");
  p = JLit(p, "{\"arrayValue\":{\"values\":[");
  for (size_t i = 0; i < v.array_size(); ++i) {
    if (i != 0) p = JChar(p, ',');
    switch (v.type()) {
      case AttributeType::kBoolArray: p = JAnyValue(p, v.as_bool_array()[i]); break;
      case AttributeType::kIntArray: p = JAnyValue(p, v.as_int_array()[i]); break;
      case AttributeType::kDoubleArray: p = JAnyValue(p, v.as_double_array()[i]); break;
      default: p = JAnyValue(p, v.as_string_array()[i]); break;
    }
  }
  return JLit(p, "]}}");
}

// Members of an object whose first member may be left out: `first` tracks the comma.
struct JObj {
  bool first = true;
  char* Key(char* p, std::string_view key_colon) noexcept {
    if (!first) *p++ = ',';
    first = false;
    return PutRaw(p, key_colon.data(), key_colon.size());
  }
  char* OptStr(char* p, std::string_view key_colon, std::string_view v) noexcept {
    return v.empty() ? p : JStr(Key(p, key_colon), v);
  }
  char* OptCount(char* p, std::string_view key_colon, uint64_t v) noexcept {
    return v == 0 ? p : JUint(Key(p, key_colon), v);
  }
  char* OptTime(char* p, std::string_view key_colon, int64_t v) noexcept {
    return v == 0 ? p : JQuotedUint(Key(p, key_colon), static_cast<uint64_t>(v));
  }
  char* Attributes(char* p, std::string_view key_colon, std::span<const KeyValue> kvs) noexcept {
    if (kvs.empty()) return p;
    p = Key(p, key_colon);
    *p++ = '[';
    for (size_t i = 0; i < kvs.size(); ++i) {
      p = i == 0 ? JLit(p, "{\"key\":") : JLit(p, ",{\"key\":");
      p = JStr(p, kvs[i].key);
      p = JLit(p, ",\"value\":");
      p = JAnyValue(p, kvs[i].value);
      *p++ = '}';
    }
    *p++ = ']';
    return p;
  }
};

char* JSpan(char* p, const SpanData& s) noexcept {
  p = JHex(JLit(p, "{\"traceId\":"), s.context.trace_id().bytes().data(), 16);
  p = JHex(JLit(p, ",\"spanId\":"), s.context.span_id().bytes().data(), 8);
  JObj o{.first = false};
  p = o.OptStr(p, "\"traceState\":", s.context.trace_state().header());
  if (s.HasParent()) p = JHex(o.Key(p, "\"parentSpanId\":"), s.parent_span_id.bytes().data(), 8);
  p = o.OptCount(p, "\"flags\":", s.OtlpFlags());
  p = o.OptStr(p, "\"name\":", s.name);
  p = o.OptCount(p, "\"kind\":", static_cast<uint64_t>(s.kind));
  p = o.OptTime(p, "\"startTimeUnixNano\":", s.start_unix_nano);
  p = o.OptTime(p, "\"endTimeUnixNano\":", s.end_unix_nano);
  p = o.Attributes(p, "\"attributes\":", s.attributes);
  p = o.OptCount(p, "\"droppedAttributesCount\":", s.dropped_attributes_count);
  if (!s.events.empty()) {
    p = o.Key(p, "\"events\":[");
    for (size_t i = 0; i < s.events.size(); ++i) {
      const EventData& e = s.events[i];
      if (i != 0) *p++ = ',';
      *p++ = '{';
      JObj eo;
      p = eo.OptTime(p, "\"timeUnixNano\":", e.time_unix_nano);
      p = eo.OptStr(p, "\"name\":", e.name);
      p = eo.Attributes(p, "\"attributes\":", EventAttrs(s, e));
      p = eo.OptCount(p, "\"droppedAttributesCount\":", e.dropped_attributes_count);
      *p++ = '}';
    }
    *p++ = ']';
  }
  p = o.OptCount(p, "\"droppedEventsCount\":", s.dropped_events_count);
  if (!s.links.empty()) {
    p = o.Key(p, "\"links\":[");
    for (size_t i = 0; i < s.links.size(); ++i) {
      const LinkData& l = s.links[i];
      if (i != 0) *p++ = ',';
      p = JHex(JLit(p, "{\"traceId\":"), l.context.trace_id().bytes().data(), 16);
      p = JHex(JLit(p, ",\"spanId\":"), l.context.span_id().bytes().data(), 8);
      JObj lo{.first = false};
      p = lo.OptStr(p, "\"traceState\":", l.context.trace_state().header());
      p = lo.Attributes(p, "\"attributes\":", LinkAttrs(s, l));
      p = lo.OptCount(p, "\"droppedAttributesCount\":", l.dropped_attributes_count);
      p = lo.OptCount(p, "\"flags\":", SpanData::OtlpLinkFlags(l.context));
      *p++ = '}';
    }
    *p++ = ']';
  }
  p = o.OptCount(p, "\"droppedLinksCount\":", s.dropped_links_count);
  if (s.status_code != trace::SpanStatusCode::kUnset || !s.status_message.empty()) {
    p = o.Key(p, "\"status\":{");
    JObj so;
    p = so.OptStr(p, "\"message\":", s.status_message);
    p = so.OptCount(p, "\"code\":", static_cast<uint64_t>(s.status_code));
    *p++ = '}';
  }
  *p++ = '}';
  return p;
}

// The output string used as a growable buffer: Reserve() makes room for `n` more bytes after
// the write position, Finish() trims to what was written. As in ProtoOut, the capacity grows
// geometrically (reserve) but the size, which std::string zero-fills, only a step ahead of the
// writer, so that the zero-filling happens in L1 just before the bytes are overwritten.
class JsonBuffer {
 public:
  // `expected`: an estimate of the size to be written.
  explicit JsonBuffer(std::string& out, size_t expected = 0)
      : out_(out), pos_(out.size()), step_(std::min(expected, kStep)) {
    out_.reserve(pos_ + expected);
  }
  char* Reserve(char* p, size_t n) {
    pos_ = static_cast<size_t>(p - out_.data());
    if (out_.size() - pos_ < n) [[unlikely]]
      Grow(n);
    end_ = out_.data() + pos_ + n;
    return out_.data() + pos_;
  }
  char* start() { return out_.data() + pos_; }
  // Checks that what was written since the last Reserve() stayed within it.
  void Check([[maybe_unused]] char* p) const noexcept {
    assert(p <= end_ && "JSON upper bound too small");
  }
  void Finish(char* p) { out_.resize(static_cast<size_t>(p - out_.data())); }

 private:
  static constexpr size_t kStep = 16 * 1024;
  void Grow(size_t n) {
    if (out_.capacity() - pos_ < n) out_.reserve(std::max(out_.capacity() * 2, pos_ + n));
    out_.resize(std::min(out_.capacity(), pos_ + std::max(n, step_)));
  }

  std::string& out_;
  size_t pos_;
  size_t step_;  // zero-filled ahead at most this much more than asked
  char* end_ = nullptr;
};

}  // namespace

namespace internal {

void AppendJsonString(std::string_view s, std::string& out) {
  JsonBuffer buf(out);
  char* p = buf.Reserve(buf.start(), StringBound(s.size()));
  p = JStr(p, s);
  buf.Check(p);
  buf.Finish(p);
}

}  // namespace internal

void EncodeTraceRequestJson(std::span<const SpanData* const> spans, std::string& out) {
  Grouping grouping(spans.size());
  for (size_t i = 0; i < spans.size(); ++i) {
    if (spans[i] != nullptr) grouping.Add(i, *spans[i]);
  }
  grouping.Finish();
  const auto& groups = grouping.groups();
  const auto& order = grouping.order();

  JsonBuffer buf(out, 64 + spans.size() * 600);  // a typical span takes 400 to 700 bytes
  char* p = buf.Reserve(buf.start(), 64);
  p = JLit(p, "{\"resourceSpans\":[");
  for (size_t g = 0; g < groups.size();) {
    const Resource* r = groups[g].resource;
    if (r != nullptr) {
      const OwnedAttributeViews attrs(r->attributes());
      p = buf.Reserve(p, 128 + AttributesJsonBound(attrs.kvs()));
      if (g != 0) *p++ = ',';
      p = JLit(p, "{\"resource\":{");
      JObj ro;
      p = ro.Attributes(p, "\"attributes\":", attrs.kvs());
      p = ro.OptCount(p, "\"droppedAttributesCount\":", r->dropped_attributes_count());
      p = JLit(p, "},\"scopeSpans\":[");
    } else {
      p = buf.Reserve(p, 64);
      if (g != 0) *p++ = ',';
      p = JLit(p, "{\"scopeSpans\":[");
    }
    buf.Check(p);
    size_t h = g;
    for (; h < groups.size() && groups[h].resource == r; ++h) {
      const ScopeGroup& sg = groups[h];
      if (sg.scope != nullptr) {
        const OwnedAttributeViews attrs(sg.scope->attributes);
        p = buf.Reserve(p, 128 + StringBound(sg.scope->name.size()) +
                               StringBound(sg.scope->version.size()) +
                               AttributesJsonBound(attrs.kvs()));
        if (h != g) *p++ = ',';
        p = JLit(p, "{\"scope\":{");
        JObj so;
        p = so.OptStr(p, "\"name\":", sg.scope->name);
        p = so.OptStr(p, "\"version\":", sg.scope->version);
        p = so.Attributes(p, "\"attributes\":", attrs.kvs());
        p = JLit(p, "},\"spans\":[");
      } else {
        p = buf.Reserve(p, 64);
        if (h != g) *p++ = ',';
        p = JLit(p, "{\"spans\":[");
      }
      buf.Check(p);
      for (uint32_t k = sg.begin; k < sg.begin + sg.count; ++k) {
        const SpanData& s = *spans[order[k]];
        p = buf.Reserve(p, 1 + SpanJsonBound(s));
        if (k != sg.begin) *p++ = ',';
        p = JSpan(p, s);
        buf.Check(p);
      }
      const std::string_view schema =
          sg.scope != nullptr ? std::string_view(sg.scope->schema_url) : std::string_view();
      p = buf.Reserve(p, 32 + StringBound(schema.size()));
      *p++ = ']';
      p = JObj{.first = false}.OptStr(p, "\"schemaUrl\":", schema);
      *p++ = '}';
      buf.Check(p);
    }
    const std::string_view schema =
        r != nullptr ? std::string_view(r->schema_url()) : std::string_view();
    p = buf.Reserve(p, 32 + StringBound(schema.size()));
    *p++ = ']';
    p = JObj{.first = false}.OptStr(p, "\"schemaUrl\":", schema);
    *p++ = '}';
    buf.Check(p);
    g = h;
  }
  p = buf.Reserve(p, 2);
  p = JLit(p, "]}");
  buf.Finish(p);
}

}  // namespace otlp::exporter
