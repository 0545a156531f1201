#include "otlp/exporter/otlp_encoder.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "otlp/core/internal/bytes.h"
#include "otlp/core/internal/varint.h"
#include "otlp/trace/resource.h"

namespace otlp::exporter {

using trace::EventData;
using trace::InstrumentationScope;
using trace::LinkData;
using trace::Resource;
using trace::SpanData;

namespace {

// ---------------------------------------------------------------------------------------------
// Shared helpers.

// The index range of an event's/link's attributes, clamped so that a malformed SpanData cannot
// make us read out of bounds.
std::span<const KeyValue> AttrRange(const std::vector<KeyValue>& all, uint32_t begin,
                                    uint32_t count) noexcept {
  if (begin > all.size()) return {};
  const size_t n = std::min<size_t>(count, all.size() - begin);
  return {all.data() + begin, n};
}
std::span<const KeyValue> EventAttrs(const SpanData& s, const EventData& e) noexcept {
  return AttrRange(s.event_attributes, e.attr_begin, e.attr_count);
}
std::span<const KeyValue> LinkAttrs(const SpanData& s, const LinkData& l) noexcept {
  return AttrRange(s.link_attributes, l.attr_begin, l.attr_count);
}

// Views over an OwnedAttributes (resource and scope attributes), built once per batch.
class OwnedAttributeViews {
 public:
  explicit OwnedAttributeViews(const OwnedAttributes& attrs) {
    kvs_.reserve(attrs.size());
    for (const auto& [key, value] : attrs) {
      kvs_.push_back({key, View(value)});
    }
  }
  std::span<const KeyValue> kvs() const noexcept { return kvs_; }

 private:
  AttributeValue View(const OwnedAttributeValue& v) {
    switch (v.index()) {
      case 0: return std::get<bool>(v);
      case 1: return std::get<int64_t>(v);
      case 2: return std::get<double>(v);
      case 3: return std::string_view(std::get<std::string>(v));
      case 4: {
        const auto& src = std::get<std::vector<bool>>(v);
        auto copy = std::make_unique<bool[]>(src.size());
        std::copy(src.begin(), src.end(), copy.get());
        bools_.push_back(std::move(copy));
        return std::span<const bool>(bools_.back().get(), src.size());
      }
      case 5: return std::span<const int64_t>(std::get<std::vector<int64_t>>(v));
      case 6: return std::span<const double>(std::get<std::vector<double>>(v));
      default: {
        const auto& src = std::get<std::vector<std::string>>(v);
        // Moving the vector into strings_ keeps its heap buffer, so the span stays valid.
        strings_.emplace_back(src.begin(), src.end());
        return std::span<const std::string_view>(strings_.back());
      }
    }
  }

  std::vector<KeyValue> kvs_;
  std::vector<std::unique_ptr<bool[]>> bools_;
  std::vector<std::vector<std::string_view>> strings_;
};

// Spans of one (resource, scope) pair; order()[begin, begin + count) are their indices.
struct ScopeGroup {
  const Resource* resource;
  const InstrumentationScope* scope;
  uint32_t id;             // creation index, for per-group data kept by the caller
  uint32_t resource_rank;  // first-seen rank of `resource`
  uint32_t count = 0;
  uint32_t begin = 0;
};

// Groups a batch by resource, then scope, in first-seen order: Add() every span, then Finish().
// A few allocations per batch, none per span.
class Grouping {
 public:
  explicit Grouping(size_t n) : group_of_(n, kNone) {}

  // Returns the group (creation index) of spans[i]. The common case, a span in the same group
  // as the previous one, stays inline.
  uint32_t Add(size_t i, const SpanData& s) {
    if (s.resource != last_resource_ || s.scope != last_scope_ || last_ == kNone) [[unlikely]] {
      last_ = Find(s.resource, s.scope);
      last_resource_ = s.resource;
      last_scope_ = s.scope;
    }
    group_of_[i] = last_;
    ++groups_[last_].count;
    ++total_;
    return last_;
  }

  void Finish() {
    // Resource first-seen order, then scope first-seen order within it (stable).
    std::stable_sort(groups_.begin(), groups_.end(), [](const ScopeGroup& a, const ScopeGroup& b) {
      return a.resource_rank < b.resource_rank;
    });
    std::vector<uint32_t> next(groups_.size());  // by creation index: next free slot in order_
    uint32_t at = 0;
    for (ScopeGroup& g : groups_) {
      g.begin = at;
      next[g.id] = at;
      at += g.count;
    }
    order_.resize(total_);
    for (size_t i = 0; i < group_of_.size(); ++i) {
      if (group_of_[i] != kNone) order_[next[group_of_[i]]++] = static_cast<uint32_t>(i);
    }
  }

  // After Finish(): groups in output order (groups of one resource are adjacent) and span
  // indices in output order.
  const std::vector<ScopeGroup>& groups() const noexcept { return groups_; }
  const std::vector<uint32_t>& order() const noexcept { return order_; }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  static constexpr size_t kLinearLimit = 16;
  struct PairHash {
    size_t operator()(const std::pair<const void*, const void*>& p) const noexcept {
      const auto a = reinterpret_cast<uintptr_t>(p.first);
      const auto b = reinterpret_cast<uintptr_t>(p.second);
      return std::hash<uintptr_t>()(a * 0x9E3779B97F4A7C15ull ^ b);
    }
  };

  [[gnu::noinline]] uint32_t Find(const Resource* r, const InstrumentationScope* sc) {
    if (groups_.size() <= kLinearLimit) {
      for (const ScopeGroup& g : groups_) {
        if (g.resource == r && g.scope == sc) return g.id;
      }
    } else {
      if (index_.empty()) {
        for (const ScopeGroup& g : groups_) {
          index_.emplace(std::make_pair(g.resource, g.scope), g.id);
        }
      }
      if (auto it = index_.find({r, sc}); it != index_.end()) return it->second;
    }
    uint32_t rank = 0;
    while (rank < resources_.size() && resources_[rank] != r) ++rank;
    if (rank == resources_.size()) resources_.push_back(r);
    const auto id = static_cast<uint32_t>(groups_.size());
    groups_.push_back({r, sc, id, rank});
    if (!index_.empty()) index_.emplace(std::make_pair(r, sc), id);
    return id;
  }

  std::vector<uint32_t> group_of_;
  std::vector<ScopeGroup> groups_;
  std::vector<const Resource*> resources_;
  std::vector<uint32_t> order_;
  std::unordered_map<std::pair<const void*, const void*>, uint32_t, PairHash> index_;
  const Resource* last_resource_ = nullptr;
  const InstrumentationScope* last_scope_ = nullptr;
  uint32_t last_ = kNone;
  uint32_t total_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Protobuf.
//
// Two passes. The first walks the batch once: it groups the spans and computes every span's
// body size into a per-span cache, summed per scope group; the ResourceSpans and ScopeSpans
// sizes follow from those sums. The second pass writes forward, so every length prefix is
// written before its body: no backpatching, no memmove, and no bounds check per field (one
// check per span makes sure the output has room for the whole span; see ProtoOut).
// Sizes below the span (attributes, events, links) are recomputed just before they are written:
// that is a few additions on data the writer reads anyway, cheaper than storing them.
//
// Every helper here is internal and inline. An exported function such as internal::VarintSize
// is not inlined under -fPIC (it could be interposed), and on this path a call costs more than
// the work it does; for the same reason the small helpers on the per-span path are forced
// inline (OTLP_INLINE), which GCC's size heuristics would otherwise not always do.
//
// Tags are single bytes except Span.flags (field 16).

#define OTLP_INLINE [[gnu::always_inline]] inline

enum : uint8_t {
  kWireVarint = 0,
  kWireFixed64 = 1,
  kWireLen = 2,
  kWireFixed32 = 5,
};
constexpr uint8_t Tag(uint8_t field, uint8_t wire) {
  return static_cast<uint8_t>(field << 3 | wire);
}

// --- sizes

OTLP_INLINE size_t VarSize(uint64_t v) noexcept {
  const int bits = 64 - std::countl_zero(v | 1);
  return static_cast<size_t>((bits * 9 + 64) / 64);  // ceil(bits / 7) for 1..64
}
// Length prefixes are nearly always below 128: a well-predicted branch beats the bit count.
OTLP_INLINE size_t LenSize(size_t n) noexcept {
  return n < 0x80 ? 1 : VarSize(n);
}
// Size of a length-delimited field with a one-byte tag and an n-byte body.
OTLP_INLINE size_t LenField(size_t n) noexcept {
  return 1 + LenSize(n) + n;
}
OTLP_INLINE size_t StrField(std::string_view s) noexcept {
  return s.empty() ? 0 : LenField(s.size());
}
OTLP_INLINE size_t VarintField(uint64_t v) noexcept {
  return v == 0 ? 0 : 1 + VarSize(v);
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
      for (int64_t x : v.as_int_array()) n += LenField(1 + VarSize(static_cast<uint64_t>(x)));
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

OTLP_INLINE size_t AnyValueSize(const AttributeValue& v) noexcept {
  switch (v.type()) {
    case AttributeType::kBool: return 2;
    case AttributeType::kInt: return 1 + VarSize(static_cast<uint64_t>(v.as_int()));
    case AttributeType::kDouble: return 9;
    case AttributeType::kString: return LenField(v.as_string().size());
    default: return LenField(ArrayBodySize(v));
  }
}

OTLP_INLINE size_t KeyValueSize(std::string_view key, size_t any_size) noexcept {
  return StrField(key) + LenField(any_size);
}

// Most attributes have a non-empty key and a string or integer value, with a KeyValue body
// under 128 bytes, so that every length prefix inside is one byte:
//   tag, body length, 0x0A, key length, key, 0x12, AnyValue length, then
//   0x0A, value length, value          (string: body = key + value + 6 < 128)
//   0x18, varint                       (integer: body = key + varint + 5 < 128)
// Both passes take a shortcut for these.
OTLP_INLINE bool IsShortStringAttribute(const KeyValue& kv) noexcept {
  return kv.value.type() == AttributeType::kString && !kv.key.empty() &&
         kv.key.size() + kv.value.as_string().size() < 122;
}
OTLP_INLINE bool IsShortIntAttribute(const KeyValue& kv) noexcept {
  return kv.value.type() == AttributeType::kInt && !kv.key.empty() && kv.key.size() < 113;
}

OTLP_INLINE size_t AttributesSize(std::span<const KeyValue> kvs) noexcept {
  size_t n = 0;
  for (const KeyValue& kv : kvs) {
    if (IsShortStringAttribute(kv)) {
      n += kv.key.size() + kv.value.as_string().size() + 8;
    } else if (IsShortIntAttribute(kv)) {
      n += kv.key.size() + VarSize(static_cast<uint64_t>(kv.value.as_int())) + 7;
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

OTLP_INLINE size_t StatusSize(const SpanData& s) noexcept {
  return StrField(s.status_message) + VarintField(static_cast<uint64_t>(s.status_code));
}

// Body size of a Span message. Events and links are rare, so they are sized out of line.
OTLP_INLINE size_t SpanSize(const SpanData& s) noexcept {
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

OTLP_INLINE char* PutByte(char* p, uint8_t b) noexcept {
  *p = static_cast<char>(b);
  return p + 1;
}

OTLP_INLINE char* PutVarint(char* p, uint64_t v) noexcept {
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

// Copies n bytes (short strings without a call to memcpy: core/internal/bytes.h).
OTLP_INLINE char* PutRaw(char* p, const void* data, size_t n) noexcept {
  otlp::internal::CopyShortBytes(p, static_cast<const char*>(data), n);
  return p + n;
}

OTLP_INLINE char* PutFixed64(char* p, uint64_t v) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(p, &v, 8);
    return p + 8;
  } else {
    for (int i = 0; i < 8; ++i) *p++ = static_cast<char>(v >> (8 * i));
    return p;
  }
}

OTLP_INLINE char* PutFixed32(char* p, uint32_t v) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(p, &v, 4);
    return p + 4;
  } else {
    for (int i = 0; i < 4; ++i) *p++ = static_cast<char>(v >> (8 * i));
    return p;
  }
}

OTLP_INLINE char* PutLenHeader(char* p, uint8_t tag, size_t n) noexcept {
  *p++ = static_cast<char>(tag);
  if (n < 0x80) {
    *p++ = static_cast<char>(n);
    return p;
  }
  return PutVarint(p, n);
}

OTLP_INLINE char* PutBytes(char* p, uint8_t tag, const void* data, size_t n) noexcept {
  return PutRaw(PutLenHeader(p, tag, n), data, n);
}

// Optional string: left out when empty.
OTLP_INLINE char* PutStr(char* p, uint8_t tag, std::string_view s) noexcept {
  return s.empty() ? p : PutBytes(p, tag, s.data(), s.size());
}

// Optional varint: left out when zero.
OTLP_INLINE char* PutVarintField(char* p, uint8_t tag, uint64_t v) noexcept {
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
        p = PutLenHeader(p, Tag(1, kWireLen), 1 + VarSize(u));
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
      const size_t vs = VarSize(u);
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
        const size_t any = 1 + VarSize(u);
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
OTLP_INLINE char* PutSpan(char* p, const SpanData& s, size_t size) noexcept {
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

#undef OTLP_INLINE

// ---------------------------------------------------------------------------------------------
// JSON.
//
// Written through a raw position like the protobuf writer. Before each span (and each resource
// or scope header) the buffer is grown to an upper bound of what will be written: every
// primitive below states its maximum size, and the *Bound() functions add them up.

namespace {

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

// Length of the well-formed UTF-8 sequence at s[0..n) (n > 0, s[0] >= 0x80), or the negated
// length of its maximal ill-formed subpart (at least 1).
int Utf8Sequence(const unsigned char* s, size_t n) noexcept {
  const unsigned char c = s[0];
  int need;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    need = 1;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 2;
    if (c == 0xE0) lo = 0xA0;  // no overlong forms
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 3;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return -1;
  }
  int got = 0;
  for (int k = 1; k <= need; ++k) {
    if (static_cast<size_t>(k) >= n) return -(1 + got);
    const unsigned char b = s[k];
    const bool ok = k == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
    if (!ok) return -(1 + got);
    ++got;
  }
  return 1 + need;
}

// Bytes that cannot be copied as they are: controls, '"', '\\' and every non-ASCII byte
// (checked as UTF-8).
constexpr std::array<bool, 256> kJsonSpecial = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = true;
  t['"'] = t['\\'] = true;
  for (int c = 0x80; c < 0x100; ++c) t[c] = true;
  return t;
}();

// Whether some byte of the word is special (as kJsonSpecial says): a byte below 0x20, a byte
// equal to '"' or '\\', or a byte with the high bit set. The hasless / haszero bit tricks can
// flag a byte above a special one by mistake, never a word without one, so the answer for the
// whole word is exact.
inline bool HasSpecialByte(uint64_t x) noexcept {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  const uint64_t quote = x ^ (kOnes * '"'), backslash = x ^ (kOnes * '\\');
  const uint64_t special = ((x - kOnes * 0x20) & ~x) | ((quote - kOnes) & ~quote) |
                           ((backslash - kOnes) & ~backslash) | x;
  return (special & kHigh) != 0;
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

// ---------------------------------------------------------------------------------------------
// Response decoding.

namespace {

Status Malformed(std::string_view what) {
  return InvalidArgumentError("malformed OTLP response: " + std::string(what));
}

// A bounds-checked protobuf field reader.
class ProtoReader {
 public:
  explicit ProtoReader(std::string_view in) noexcept : in_(in) {}
  bool done() const noexcept { return in_.empty(); }

  // Reads the next field header; false on malformed input.
  bool Next(uint32_t& field, uint32_t& wire) noexcept {
    uint64_t key;
    if (!otlp::internal::ReadVarint(in_, key)) return false;
    field = static_cast<uint32_t>(key >> 3);
    wire = static_cast<uint32_t>(key & 7);
    return field != 0 && (key >> 3) <= 0x1FFFFFFF;
  }
  bool Varint(uint64_t& v) noexcept { return otlp::internal::ReadVarint(in_, v); }
  bool Len(std::string_view& v) noexcept {
    uint64_t n;
    if (!otlp::internal::ReadVarint(in_, n) || n > in_.size()) return false;
    v = in_.substr(0, static_cast<size_t>(n));
    in_.remove_prefix(static_cast<size_t>(n));
    return true;
  }
  bool Skip(uint32_t wire) noexcept {
    switch (wire) {
      case kWireVarint: {
        uint64_t v;
        return Varint(v);
      }
      case kWireFixed64: return Advance(8);
      case kWireLen: {
        std::string_view v;
        return Len(v);
      }
      case kWireFixed32: return Advance(4);
      default: return false;  // groups (3, 4) are not used by OTLP; 6, 7 do not exist
    }
  }

 private:
  bool Advance(size_t n) noexcept {
    if (in_.size() < n) return false;
    in_.remove_prefix(n);
    return true;
  }
  std::string_view in_;
};

// A small strict JSON reader (RFC 8259) for response bodies: skips what it does not need.
class JsonReader {
 public:
  explicit JsonReader(std::string_view in) noexcept : in_(in) {}

  void Ws() noexcept {
    while (pos_ < in_.size() &&
           (in_[pos_] == ' ' || in_[pos_] == '\t' || in_[pos_] == '\n' || in_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool AtEnd() noexcept {
    Ws();
    return pos_ == in_.size();
  }
  char Peek() noexcept {
    Ws();
    return pos_ < in_.size() ? in_[pos_] : '\0';
  }
  bool Consume(char c) noexcept {
    if (Peek() != c) return false;
    ++pos_;
    return true;
  }
  bool Literal(std::string_view word) noexcept {
    Ws();
    if (in_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  // Iterates the members of an object: call with the reader before '{'; `on_member(key)` must
  // consume the value (e.g. with SkipValue) and return false on error.
  template <typename F>
  bool Object(F&& on_member) {
    if (!Consume('{')) return false;
    if (++depth_ > kMaxDepth) return false;
    if (Consume('}')) {
      --depth_;
      return true;
    }
    while (true) {
      std::string key;
      if (Peek() != '"' || !String(key) || !Consume(':')) return false;
      if (!on_member(key)) return false;
      if (Consume(',')) continue;
      if (Consume('}')) break;
      return false;
    }
    --depth_;
    return true;
  }

  bool SkipValue() {
    switch (Peek()) {
      case '{': return Object([this](const std::string&) { return SkipValue(); });
      case '[': {
        ++pos_;
        if (++depth_ > kMaxDepth) return false;
        if (!Consume(']')) {
          do {
            if (!SkipValue()) return false;
          } while (Consume(','));
          if (!Consume(']')) return false;
        }
        --depth_;
        return true;
      }
      case '"': {
        std::string ignored;
        return String(ignored);
      }
      case 't': return Literal("true");
      case 'f': return Literal("false");
      case 'n': return Literal("null");
      default: {
        std::string_view tok;
        return Number(tok);
      }
    }
  }

  // A JSON string (the reader is before the opening quote), unescaped into `out` as UTF-8.
  bool String(std::string& out) {
    if (!Consume('"')) return false;
    while (pos_ < in_.size()) {
      const auto c = static_cast<unsigned char>(in_[pos_++]);
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c != '\\') {
        out.push_back(static_cast<char>(c));
        continue;
      }
      if (pos_ >= in_.size()) return false;
      const char e = in_[pos_++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          uint32_t cp;
          if (!Hex4(cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {  // a high surrogate needs its low half
            uint32_t lo;
            if (in_.substr(pos_, 2) == "\\u") {
              pos_ += 2;
              if (!Hex4(lo)) return false;
              if (lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
              } else {
                AppendUtf8(0xFFFD, out);
                cp = lo;
              }
            } else {
              cp = 0xFFFD;
            }
          }
          if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;  // lone surrogate
          AppendUtf8(cp, out);
          break;
        }
        default: return false;
      }
    }
    return false;
  }

  // A JSON number token (validated against the RFC 8259 grammar).
  bool Number(std::string_view& tok) noexcept {
    Ws();
    const size_t start = pos_;
    auto digit = [&] { return pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9'; };
    if (pos_ < in_.size() && in_[pos_] == '-') ++pos_;
    if (!digit()) return false;
    if (in_[pos_] == '0') {
      ++pos_;
    } else {
      while (digit()) ++pos_;
    }
    if (pos_ < in_.size() && in_[pos_] == '.') {
      ++pos_;
      if (!digit()) return false;
      while (digit()) ++pos_;
    }
    if (pos_ < in_.size() && (in_[pos_] == 'e' || in_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < in_.size() && (in_[pos_] == '+' || in_[pos_] == '-')) ++pos_;
      if (!digit()) return false;
      while (digit()) ++pos_;
    }
    tok = in_.substr(start, pos_ - start);
    return true;
  }

  // proto3 JSON int64: a number or a decimal string, integral and in range.
  bool Int64(int64_t& v) {
    std::string_view tok;
    std::string str;
    if (Peek() == '"') {
      if (!String(str)) return false;
      tok = str;
    } else if (!Number(tok)) {
      return false;
    }
    if (tok.empty()) return false;
    auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), v);
    if (ec == std::errc() && p == tok.data() + tok.size()) return true;
    // Exponent or fraction forms ("3e2", "5.0") are accepted when integral.
    double d;
    auto [pd, ecd] = std::from_chars(tok.data(), tok.data() + tok.size(), d);
    if (ecd != std::errc() || pd != tok.data() + tok.size()) return false;
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || d != std::trunc(d)) {
      return false;
    }
    v = static_cast<int64_t>(d);
    return true;
  }

 private:
  static constexpr int kMaxDepth = 64;

  bool Hex4(uint32_t& cp) noexcept {
    if (in_.size() - pos_ < 4) return false;
    cp = 0;
    for (int k = 0; k < 4; ++k) {
      const char h = in_[pos_++];
      cp <<= 4;
      if (h >= '0' && h <= '9') {
        cp |= static_cast<uint32_t>(h - '0');
      } else if (h >= 'a' && h <= 'f') {
        cp |= static_cast<uint32_t>(h - 'a' + 10);
      } else if (h >= 'A' && h <= 'F') {
        cp |= static_cast<uint32_t>(h - 'A' + 10);
      } else {
        return false;
      }
    }
    return true;
  }
  static void AppendUtf8(uint32_t cp, std::string& out) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  std::string_view in_;
  size_t pos_ = 0;
  int depth_ = 0;
};

bool IsBlank(std::string_view body) noexcept {
  return body.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

}  // namespace

Result<PartialSuccess> DecodeTraceResponseProto(std::string_view body) {
  PartialSuccess result;
  ProtoReader top(body);
  while (!top.done()) {
    uint32_t field, wire;
    if (!top.Next(field, wire)) return Malformed("bad protobuf field header");
    if (field != 1) {
      if (!top.Skip(wire)) return Malformed("truncated protobuf field");
      continue;
    }
    std::string_view ps;
    if (wire != kWireLen || !top.Len(ps)) return Malformed("bad partial_success field");
    // Repeated occurrences of a message field merge, as protobuf parsers do.
    ProtoReader r(ps);
    while (!r.done()) {
      if (!r.Next(field, wire)) return Malformed("bad partial_success field header");
      if (field == 1) {
        uint64_t v;
        if (wire != kWireVarint || !r.Varint(v)) return Malformed("bad rejected_spans");
        result.rejected_spans = static_cast<int64_t>(v);
      } else if (field == 2) {
        std::string_view msg;
        if (wire != kWireLen || !r.Len(msg)) return Malformed("bad error_message");
        result.error_message.assign(msg);
      } else if (!r.Skip(wire)) {
        return Malformed("truncated partial_success field");
      }
    }
  }
  return result;
}

Result<PartialSuccess> DecodeTraceResponseJson(std::string_view body) {
  PartialSuccess result;
  if (IsBlank(body)) return result;
  JsonReader j(body);
  const bool ok = j.Object([&](const std::string& key) {
    if (key != "partialSuccess" && key != "partial_success") return j.SkipValue();
    if (j.Peek() == 'n') return j.Literal("null");
    return j.Object([&](const std::string& k) {
      if (k == "rejectedSpans" || k == "rejected_spans") {
        if (j.Peek() == 'n') return j.Literal("null");
        return j.Int64(result.rejected_spans);
      }
      if (k == "errorMessage" || k == "error_message") {
        if (j.Peek() == 'n') return j.Literal("null");
        result.error_message.clear();
        return j.Peek() == '"' && j.String(result.error_message);
      }
      return j.SkipValue();
    });
  });
  if (!ok || !j.AtEnd()) return Malformed("invalid JSON ExportTraceServiceResponse");
  return result;
}

std::string DecodeRpcStatusMessage(std::string_view body, bool json) {
  std::string message;
  if (json) {
    JsonReader j(body);
    const bool ok = j.Object([&](const std::string& key) {
      if (key == "message" && j.Peek() == '"') {
        message.clear();
        return j.String(message);
      }
      return j.SkipValue();
    });
    if (!ok || !j.AtEnd()) return {};
    return message;
  }
  ProtoReader r(body);
  while (!r.done()) {
    uint32_t field, wire;
    if (!r.Next(field, wire)) return {};
    if (field == 2 && wire == kWireLen) {
      std::string_view msg;
      if (!r.Len(msg)) return {};
      message.assign(msg);
    } else if (!r.Skip(wire)) {
      return {};
    }
  }
  return message;
}

}  // namespace otlp::exporter
