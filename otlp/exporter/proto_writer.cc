// The protobuf wire writer: ExportTraceServiceRequest written directly from SpanData.
//
// Two passes. The first walks the batch once: it groups the spans and computes every span's
// body size into a per-span cache, summed per scope group; the ResourceSpans and ScopeSpans
// sizes follow from those sums. The second pass writes forward, so every length prefix is
// written before its body: no backpatching, no memmove, and no bounds check per field (one
// check per span makes sure the output has room for the whole span; see ProtoOut).
// Sizes below the span (attributes, events, links) are recomputed just before they are written:
// that is a few additions on data the writer reads anyway, cheaper than storing them.
//
// Tags are single bytes except Span.flags (field 16).
#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>
#include <memory>
#include <vector>

#include "otlp/core/internal/bytes.h"
#include "otlp/core/internal/varint.h"
#include "otlp/exporter/internal/proto_wire.h"
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
using internal::kWireFixed32;
using internal::kWireFixed64;
using internal::kWireLen;
using internal::kWireVarint;
using internal::LinkAttrs;
using internal::OwnedAttributeViews;
using internal::ScopeGroup;
using internal::Tag;
using otlp::internal::VarintSize;

// --- sizes

// Length prefixes are nearly always below 128: a well-predicted branch beats the bit count.
inline size_t LenSize(size_t n) noexcept {
  return n < 0x80 ? 1 : VarintSize(n);
}
// Size of a length-delimited field with a one-byte tag and an n-byte body.
inline size_t LenField(size_t n) noexcept {
  return 1 + LenSize(n) + n;
}
inline size_t StrField(std::string_view s) noexcept {
  return s.empty() ? 0 : LenField(s.size());
}
inline size_t VarintField(uint64_t v) noexcept {
  return v == 0 ? 0 : 1 + VarintSize(v);
}

// TraceState::header() is compiled elsewhere; most spans have no trace state, which empty()
// tells inline.
inline std::string_view TraceStateOf(const trace::SpanContext& c) noexcept {
  return c.trace_state().empty() ? std::string_view() : c.trace_state().header();
}

// ArrayValue body of an array attribute: one AnyValue per element.
size_t ArrayBodySize(const AttributeValue& v) noexcept {
  switch (v.type()) {
    case AttributeType::kBoolArray: return v.array_size() * LenField(2);
    case AttributeType::kIntArray: {
      size_t n = 0;
      for (int64_t x : v.as_int_array()) n += LenField(1 + VarintSize(static_cast<uint64_t>(x)));
      return n;
    }
    case AttributeType::kDoubleArray: return v.array_size() * LenField(9);
    case AttributeType::kStringArray: {
      size_t n = 0;
      for (std::string_view x : v.as_string_array()) n += LenField(LenField(x.size()));
      return n;
    }
    default: return 0;
  }
}

inline size_t AnyValueSize(const AttributeValue& v) noexcept {
  switch (v.type()) {
    case AttributeType::kBool: return 2;
    case AttributeType::kInt: return 1 + VarintSize(static_cast<uint64_t>(v.as_int()));
    case AttributeType::kDouble: return 9;
    case AttributeType::kString: return LenField(v.as_string().size());
    default: return LenField(ArrayBodySize(v));
  }
}

inline size_t KeyValueSize(std::string_view key, size_t any_size) noexcept {
  return StrField(key) + LenField(any_size);
}

// Most attributes have a non-empty key and a string or integer value, with a KeyValue body
// under 128 bytes, so that every length prefix inside is one byte:
//   tag, body length, 0x0A, key length, key, 0x12, AnyValue length, then
//   0x0A, value length, value          (string: body = key + value + 6 < 128)
//   0x18, varint                       (integer: body = key + varint + 5 < 128)
// Both passes take a shortcut for these.
inline bool IsShortStringAttribute(const KeyValue& kv) noexcept {
  return kv.value.type() == AttributeType::kString && !kv.key.empty() &&
         kv.key.size() + kv.value.as_string().size() < 122;
}
inline bool IsShortIntAttribute(const KeyValue& kv) noexcept {
  return kv.value.type() == AttributeType::kInt && !kv.key.empty() && kv.key.size() < 113;
}

inline size_t AttributesSize(std::span<const KeyValue> kvs) noexcept {
  size_t n = 0;
  for (const KeyValue& kv : kvs) {
    if (IsShortStringAttribute(kv)) {
      n += kv.key.size() + kv.value.as_string().size() + 8;
    } else if (IsShortIntAttribute(kv)) {
      n += kv.key.size() + VarintSize(static_cast<uint64_t>(kv.value.as_int())) + 7;
    } else {
      n += LenField(KeyValueSize(kv.key, AnyValueSize(kv.value)));
    }
  }
  return n;
}

size_t EventSize(const SpanData& s, const EventData& e) noexcept {
  return (e.time_unix_nano != 0 ? 9 : 0) + StrField(e.name) + AttributesSize(EventAttrs(s, e)) +
         VarintField(e.dropped_attributes_count);
}

size_t LinkSize(const SpanData& s, const LinkData& l) noexcept {
  const uint32_t flags = SpanData::OtlpLinkFlags(l.context);
  return 18 + 10 + StrField(TraceStateOf(l.context)) + AttributesSize(LinkAttrs(s, l)) +
         VarintField(l.dropped_attributes_count) + (flags != 0 ? 5 : 0);
}

inline size_t StatusSize(const SpanData& s) noexcept {
  return StrField(s.status_message) + VarintField(static_cast<uint64_t>(s.status_code));
}

// Body size of a Span message. Events and links are rare, so they are sized out of line.
inline size_t SpanSize(const SpanData& s) noexcept {
  size_t n = 18 + 10;  // trace_id, span_id
  n += StrField(TraceStateOf(s.context));
  if (s.HasParent()) n += 10;
  n += StrField(s.name);
  n += VarintField(static_cast<uint64_t>(s.kind));
  if (s.start_unix_nano != 0) n += 9;
  if (s.end_unix_nano != 0) n += 9;
  n += AttributesSize(s.attributes);
  n += VarintField(s.dropped_attributes_count);
  for (const EventData& e : s.events) n += LenField(EventSize(s, e));
  n += VarintField(s.dropped_events_count);
  for (const LinkData& l : s.links) n += LenField(LinkSize(s, l));
  n += VarintField(s.dropped_links_count);
  if (const size_t st = StatusSize(s); st != 0) n += LenField(st);
  if (s.OtlpFlags() != 0) n += 2 + 4;
  return n;
}

size_t ResourceSize(std::span<const KeyValue> attrs, uint32_t dropped) noexcept {
  return AttributesSize(attrs) + VarintField(dropped);
}

size_t ScopeSize(const InstrumentationScope& sc, std::span<const KeyValue> attrs) noexcept {
  return StrField(sc.name) + StrField(sc.version) + AttributesSize(attrs);
}

// --- writing
//
// Free functions taking and returning the write position: a position kept in a local variable
// stays in a register, where a member would be reloaded after every byte store (char stores
// may alias it).

inline char* PutByte(char* p, uint8_t b) noexcept {
  *p = static_cast<char>(b);
  return p + 1;
}

inline char* PutVarint(char* p, uint64_t v) noexcept {
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

// Copies n bytes (short strings without a call to memcpy: core/internal/bytes.h).
inline char* PutRaw(char* p, const void* data, size_t n) noexcept {
  otlp::internal::CopyShortBytes(p, static_cast<const char*>(data), n);
  return p + n;
}

inline char* PutFixed64(char* p, uint64_t v) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(p, &v, 8);
    return p + 8;
  } else {
    for (int i = 0; i < 8; ++i) *p++ = static_cast<char>(v >> (8 * i));
    return p;
  }
}

inline char* PutFixed32(char* p, uint32_t v) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(p, &v, 4);
    return p + 4;
  } else {
    for (int i = 0; i < 4; ++i) *p++ = static_cast<char>(v >> (8 * i));
    return p;
  }
}

inline char* PutLenHeader(char* p, uint8_t tag, size_t n) noexcept {
  *p++ = static_cast<char>(tag);
  if (n < 0x80) {
    *p++ = static_cast<char>(n);
    return p;
  }
  return PutVarint(p, n);
}

inline char* PutBytes(char* p, uint8_t tag, const void* data, size_t n) noexcept {
  return PutRaw(PutLenHeader(p, tag, n), data, n);
}

// Optional string: left out when empty.
inline char* PutStr(char* p, uint8_t tag, std::string_view s) noexcept {
  return s.empty() ? p : PutBytes(p, tag, s.data(), s.size());
}

// Optional varint: left out when zero.
inline char* PutVarintField(char* p, uint8_t tag, uint64_t v) noexcept {
  return v == 0 ? p : PutVarint(PutByte(p, tag), v);
}

// AnyValue.array_value (field 5) of an array attribute: ArrayValue { repeated AnyValue 1 }.
char* PutArrayValue(char* p, const AttributeValue& v) noexcept {
  p = PutLenHeader(p, Tag(5, kWireLen), ArrayBodySize(v));
  switch (v.type()) {
    case AttributeType::kBoolArray:
      for (bool b : v.as_bool_array()) {
        p = PutLenHeader(p, Tag(1, kWireLen), 2);
        p = PutByte(p, Tag(2, kWireVarint));
        p = PutByte(p, b ? 1 : 0);
      }
      break;
    case AttributeType::kIntArray:
      for (int64_t x : v.as_int_array()) {
        const auto u = static_cast<uint64_t>(x);
        p = PutLenHeader(p, Tag(1, kWireLen), 1 + VarintSize(u));
        p = PutVarint(PutByte(p, Tag(3, kWireVarint)), u);
      }
      break;
    case AttributeType::kDoubleArray:
      for (double d : v.as_double_array()) {
        p = PutLenHeader(p, Tag(1, kWireLen), 9);
        p = PutFixed64(PutByte(p, Tag(4, kWireFixed64)), std::bit_cast<uint64_t>(d));
      }
      break;
    default:
      for (std::string_view s : v.as_string_array()) {
        p = PutLenHeader(p, Tag(1, kWireLen), LenField(s.size()));
        p = PutBytes(p, Tag(1, kWireLen), s.data(), s.size());
      }
      break;
  }
  return p;
}

// Repeated KeyValue field `tag`: KeyValue { string key = 1; AnyValue value = 2 } with
// AnyValue { string 1; bool 2; int64 3; double 4; ArrayValue 5 }. Each case computes the sizes
// of the two nested messages from what it is about to write.
char* PutAttributes(char* p, uint8_t tag, std::span<const KeyValue> kvs) noexcept {
  for (const KeyValue& kv : kvs) {
    const AttributeValue& v = kv.value;
    if (IsShortStringAttribute(kv)) {
      const std::string_view s = v.as_string();
      p[0] = static_cast<char>(tag);
      p[1] = static_cast<char>(kv.key.size() + s.size() + 6);
      p[2] = Tag(1, kWireLen);
      p[3] = static_cast<char>(kv.key.size());
      p = PutRaw(p + 4, kv.key.data(), kv.key.size());
      p[0] = Tag(2, kWireLen);
      p[1] = static_cast<char>(s.size() + 2);
      p[2] = Tag(1, kWireLen);
      p[3] = static_cast<char>(s.size());
      p = PutRaw(p + 4, s.data(), s.size());
      continue;
    }
    if (IsShortIntAttribute(kv)) {
      const auto u = static_cast<uint64_t>(v.as_int());
      const size_t vs = VarintSize(u);
      p[0] = static_cast<char>(tag);
      p[1] = static_cast<char>(kv.key.size() + vs + 5);
      p[2] = Tag(1, kWireLen);
      p[3] = static_cast<char>(kv.key.size());
      p = PutRaw(p + 4, kv.key.data(), kv.key.size());
      p[0] = Tag(2, kWireLen);
      p[1] = static_cast<char>(vs + 1);
      p[2] = Tag(3, kWireVarint);
      p = PutVarint(p + 3, u);
      continue;
    }
    switch (v.type()) {
      case AttributeType::kString: {
        const std::string_view s = v.as_string();
        const size_t any = LenField(s.size());
        p = PutLenHeader(p, tag, KeyValueSize(kv.key, any));
        p = PutStr(p, Tag(1, kWireLen), kv.key);
        p = PutLenHeader(p, Tag(2, kWireLen), any);
        p = PutBytes(p, Tag(1, kWireLen), s.data(), s.size());
        break;
      }
      case AttributeType::kInt: {
        const auto u = static_cast<uint64_t>(v.as_int());
        const size_t any = 1 + VarintSize(u);
        p = PutLenHeader(p, tag, KeyValueSize(kv.key, any));
        p = PutStr(p, Tag(1, kWireLen), kv.key);
        p = PutLenHeader(p, Tag(2, kWireLen), any);
        p = PutVarint(PutByte(p, Tag(3, kWireVarint)), u);
        break;
      }
      case AttributeType::kBool:
        p = PutLenHeader(p, tag, KeyValueSize(kv.key, 2));
        p = PutStr(p, Tag(1, kWireLen), kv.key);
        p = PutLenHeader(p, Tag(2, kWireLen), 2);
        p = PutByte(p, Tag(2, kWireVarint));
        p = PutByte(p, v.as_bool() ? 1 : 0);
        break;
      case AttributeType::kDouble:
        p = PutLenHeader(p, tag, KeyValueSize(kv.key, 9));
        p = PutStr(p, Tag(1, kWireLen), kv.key);
        p = PutLenHeader(p, Tag(2, kWireLen), 9);
        p = PutFixed64(PutByte(p, Tag(4, kWireFixed64)), std::bit_cast<uint64_t>(v.as_double()));
        break;
      default: {
        const size_t any = AnyValueSize(v);
        p = PutLenHeader(p, tag, KeyValueSize(kv.key, any));
        p = PutStr(p, Tag(1, kWireLen), kv.key);
        p = PutLenHeader(p, Tag(2, kWireLen), any);
        p = PutArrayValue(p, v);
        break;
      }
    }
  }
  return p;
}

char* PutEvent(char* p, const SpanData& s, const EventData& e) noexcept {
  p = PutLenHeader(p, Tag(11, kWireLen), EventSize(s, e));
  if (e.time_unix_nano != 0) {
    p = PutFixed64(PutByte(p, Tag(1, kWireFixed64)), static_cast<uint64_t>(e.time_unix_nano));
  }
  p = PutStr(p, Tag(2, kWireLen), e.name);
  p = PutAttributes(p, Tag(3, kWireLen), EventAttrs(s, e));
  return PutVarintField(p, Tag(4, kWireVarint), e.dropped_attributes_count);
}

char* PutLink(char* p, const SpanData& s, const LinkData& l) noexcept {
  p = PutLenHeader(p, Tag(13, kWireLen), LinkSize(s, l));
  p = PutBytes(p, Tag(1, kWireLen), l.context.trace_id().bytes().data(), 16);
  p = PutBytes(p, Tag(2, kWireLen), l.context.span_id().bytes().data(), 8);
  p = PutStr(p, Tag(3, kWireLen), TraceStateOf(l.context));
  p = PutAttributes(p, Tag(4, kWireLen), LinkAttrs(s, l));
  p = PutVarintField(p, Tag(5, kWireVarint), l.dropped_attributes_count);
  if (const uint32_t flags = SpanData::OtlpLinkFlags(l.context); flags != 0) {
    p = PutFixed32(PutByte(p, Tag(6, kWireFixed32)), flags);
  }
  return p;
}

// ScopeSpans.spans entry of `size` body bytes.
inline char* PutSpan(char* p, const SpanData& s, size_t size) noexcept {
  p = PutLenHeader(p, Tag(2, kWireLen), size);
  p = PutBytes(p, Tag(1, kWireLen), s.context.trace_id().bytes().data(), 16);
  p = PutBytes(p, Tag(2, kWireLen), s.context.span_id().bytes().data(), 8);
  p = PutStr(p, Tag(3, kWireLen), TraceStateOf(s.context));
  if (s.HasParent()) p = PutBytes(p, Tag(4, kWireLen), s.parent_span_id.bytes().data(), 8);
  p = PutStr(p, Tag(5, kWireLen), s.name);
  p = PutVarintField(p, Tag(6, kWireVarint), static_cast<uint64_t>(s.kind));
  if (s.start_unix_nano != 0) {
    p = PutFixed64(PutByte(p, Tag(7, kWireFixed64)), static_cast<uint64_t>(s.start_unix_nano));
  }
  if (s.end_unix_nano != 0) {
    p = PutFixed64(PutByte(p, Tag(8, kWireFixed64)), static_cast<uint64_t>(s.end_unix_nano));
  }
  p = PutAttributes(p, Tag(9, kWireLen), s.attributes);
  p = PutVarintField(p, Tag(10, kWireVarint), s.dropped_attributes_count);
  for (const EventData& e : s.events) p = PutEvent(p, s, e);
  p = PutVarintField(p, Tag(12, kWireVarint), s.dropped_events_count);
  for (const LinkData& l : s.links) p = PutLink(p, s, l);
  p = PutVarintField(p, Tag(14, kWireVarint), s.dropped_links_count);
  if (const size_t st = StatusSize(s); st != 0) {
    p = PutLenHeader(p, Tag(15, kWireLen), st);
    p = PutStr(p, Tag(2, kWireLen), s.status_message);
    p = PutVarintField(p, Tag(3, kWireVarint), static_cast<uint64_t>(s.status_code));
  }
  if (const uint32_t flags = s.OtlpFlags(); flags != 0) {
    p = PutByte(p, 0x85);  // field 16, fixed32: (16 << 3 | 5) as a two-byte varint
    p = PutByte(p, 0x01);
    p = PutFixed32(p, flags);
  }
  return p;
}

// Resource and scope encodings of one group, with their attribute views.
struct GroupHeader {
  std::unique_ptr<OwnedAttributeViews> resource_attrs;  // null when resource is null
  std::unique_ptr<OwnedAttributeViews> scope_attrs;     // null when scope is null
};

// The output string, grown just ahead of the writer. A std::string can only be grown by
// resize(), which zero-fills: growing it to the whole request at once (2 MB for 8192 spans)
// would stream every byte through the caches twice, while a step of kStep bytes is zero-filled
// in L1 right before it is overwritten. The capacity is reserved once, so the data pointer
// does not move.
class ProtoOut {
 public:
  ProtoOut(std::string& out, size_t total) : out_(out), end_(out.size() + total) {
    out_.reserve(end_);
    limit_ = out_.data() + out_.size();
  }
  char* start() noexcept { return limit_; }

  // Makes [p, p + n) writable; returns p (which stays valid).
  char* Ensure(char* p, size_t n) {
    if (static_cast<size_t>(limit_ - p) >= n) [[likely]]
      return p;
    const auto pos = static_cast<size_t>(p - out_.data());
    assert(pos + n <= end_ && "protobuf size pass and write pass disagree");
    out_.resize(std::min(end_, pos + std::max(n, kStep)));
    limit_ = out_.data() + out_.size();
    return out_.data() + pos;
  }

  // Checks that everything computed was written.
  void Finish([[maybe_unused]] char* p) const noexcept {
    assert(p == limit_ && out_.size() == end_ && "protobuf size pass and write pass disagree");
  }

 private:
  static constexpr size_t kStep = 16 * 1024;
  std::string& out_;
  size_t end_;
  char* limit_;
};

}  // namespace

void EncodeTraceRequestProto(std::span<const SpanData* const> spans, std::string& out) {
  // Pass 1: group and size in one walk over the spans. Span sizes are kept by span index,
  // scope-group body sizes by group creation index.
  Grouping grouping(spans.size());
  std::vector<uint32_t> span_sizes(spans.size());
  std::vector<size_t> scope_sizes;
  for (size_t i = 0; i < spans.size(); ++i) {
    if (spans[i] == nullptr) continue;
    const uint32_t g = grouping.Add(i, *spans[i]);
    if (g >= scope_sizes.size()) [[unlikely]]
      scope_sizes.resize(g + 1, 0);
    const size_t n = SpanSize(*spans[i]);
    span_sizes[i] = static_cast<uint32_t>(n);
    scope_sizes[g] += LenField(n);
  }
  grouping.Finish();
  const auto& groups = grouping.groups();
  const auto& order = grouping.order();

  // Resource and scope headers, once per group.
  std::vector<GroupHeader> headers(groups.size());  // by output position
  std::vector<size_t> resource_sizes;               // one per run of groups sharing a resource
  size_t total = 0;
  for (size_t g = 0; g < groups.size();) {
    const Resource* r = groups[g].resource;
    size_t rs = 0;
    if (r != nullptr) {
      headers[g].resource_attrs = std::make_unique<OwnedAttributeViews>(r->attributes());
      rs += LenField(ResourceSize(headers[g].resource_attrs->kvs(), r->dropped_attributes_count()));
      rs += StrField(r->schema_url());
    }
    size_t h = g;
    for (; h < groups.size() && groups[h].resource == r; ++h) {
      const ScopeGroup& sg = groups[h];
      size_t& ss = scope_sizes[sg.id];
      if (sg.scope != nullptr) {
        headers[h].scope_attrs = std::make_unique<OwnedAttributeViews>(sg.scope->attributes);
        ss += LenField(ScopeSize(*sg.scope, headers[h].scope_attrs->kvs()));
        ss += StrField(sg.scope->schema_url);
      }
      rs += LenField(ss);
    }
    resource_sizes.push_back(rs);
    total += LenField(rs);
    g = h;
  }

  // Pass 2: write exactly `total` bytes, each piece after an Ensure() of its exact size.
  ProtoOut w(out, total);
  char* p = w.start();
  size_t run = 0;
  for (size_t g = 0; g < groups.size(); ++run) {
    const Resource* r = groups[g].resource;
    const size_t rs = resource_sizes[run];
    if (r != nullptr) {
      const auto kvs = headers[g].resource_attrs->kvs();
      const size_t body = ResourceSize(kvs, r->dropped_attributes_count());
      p = w.Ensure(p, 1 + LenSize(rs) + LenField(body));
      p = PutLenHeader(p, Tag(1, kWireLen), rs);  // request.resource_spans
      p = PutLenHeader(p, Tag(1, kWireLen), body);
      p = PutAttributes(p, Tag(1, kWireLen), kvs);
      p = PutVarintField(p, Tag(2, kWireVarint), r->dropped_attributes_count());
    } else {
      p = w.Ensure(p, 1 + LenSize(rs));
      p = PutLenHeader(p, Tag(1, kWireLen), rs);
    }
    size_t h = g;
    for (; h < groups.size() && groups[h].resource == r; ++h) {
      const ScopeGroup& sg = groups[h];
      const size_t ss = scope_sizes[sg.id];
      if (sg.scope != nullptr) {
        const auto kvs = headers[h].scope_attrs->kvs();
        const size_t body = ScopeSize(*sg.scope, kvs);
        p = w.Ensure(p, 1 + LenSize(ss) + LenField(body));
        p = PutLenHeader(p, Tag(2, kWireLen), ss);  // ResourceSpans.scope_spans
        p = PutLenHeader(p, Tag(1, kWireLen), body);
        p = PutStr(p, Tag(1, kWireLen), sg.scope->name);
        p = PutStr(p, Tag(2, kWireLen), sg.scope->version);
        p = PutAttributes(p, Tag(3, kWireLen), kvs);
      } else {
        p = w.Ensure(p, 1 + LenSize(ss));
        p = PutLenHeader(p, Tag(2, kWireLen), ss);
      }
      for (uint32_t k = sg.begin; k < sg.begin + sg.count; ++k) {
        const uint32_t i = order[k];
        p = w.Ensure(p, LenField(span_sizes[i]));
        p = PutSpan(p, *spans[i], span_sizes[i]);
      }
      if (sg.scope != nullptr) {
        p = w.Ensure(p, StrField(sg.scope->schema_url));
        p = PutStr(p, Tag(3, kWireLen), sg.scope->schema_url);
      }
    }
    if (r != nullptr) {
      p = w.Ensure(p, StrField(r->schema_url()));
      p = PutStr(p, Tag(3, kWireLen), r->schema_url());
    }
    g = h;
  }
  w.Finish(p);
}

}  // namespace otlp::exporter
