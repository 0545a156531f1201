// Packed spans: a span as one contiguous block of bytes.
//
// A recording span keeps its attributes, events and links in this packed form from the start
// (span_record.h), so ending it is a few bulk copies into the batch processor's queue memory,
// and its record goes straight back to the thread's pool: the records a thread uses stay few
// and hot in its cache however many spans wait for export. The export thread unpacks blocks
// into SpanData whose strings and arrays point into the block. Blocks are written once,
// sequentially, and read once: the pattern caches and hardware prefetchers handle best.
//
// Block layout (every part 8-byte aligned):
//   PackedHeader | name | attributes | status message | events | links | TraceState objects
// (the record keeps name and attributes in one buffer, so the common span is two copies).
// An attribute is a PackedAttr followed by its key and its value's bytes (a string array also
// holds its string_view table, rewritten to point into the block when unpacked). An event is a
// PackedEvent, its name and its attributes; a link a PackedLink and its attributes. Tracestates
// (of the span, then of links that have one) are C++ objects at the end of the block.
//
// Threading: a block is written by one thread and, after a release/acquire hand-over, read by
// one other thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "otlp/core/internal/bytes.h"
#include "otlp/trace/span_data.h"

namespace otlp::trace::internal {

constexpr size_t Pad8(size_t n) noexcept { return (n + 7) & ~size_t{7}; }

enum PackedBits : uint8_t {
  kParentRemote = 1,
  kHasTraceState = 2,  // the span's tracestate is the first object at the end
};

struct PackedHeader {
  uint32_t size;      // of the whole block
  uint32_t n_states;  // TraceState objects at the end of the block
  uint32_t name_len;
  // From here to `trace_flags`: what every start sets to zero, in one run of bytes.
  uint32_t status_len;
  uint32_t n_attrs;
  uint32_t dropped_attrs;
  uint32_t n_events;
  uint32_t n_event_attrs;
  uint32_t n_links;
  uint32_t n_link_attrs;
  uint32_t dropped_events;
  uint32_t dropped_links;
  uint8_t status;
  uint8_t trace_flags;
  uint8_t kind;
  uint8_t bits;
  TraceId trace_id;
  SpanId span_id;
  SpanId parent_span_id;
  int64_t start;
  int64_t end;
  const InstrumentationScope* scope;
  const Resource* resource;
};
// The zeroed run: status_len .. status.
constexpr size_t kHeaderZeroBegin = offsetof(PackedHeader, status_len);
constexpr size_t kHeaderZeroEnd = offsetof(PackedHeader, trace_flags);
static_assert(sizeof(PackedHeader) % 8 == 0);

struct PackedAttr {
  uint32_t key_len;
  uint32_t size_type;  // entry size in bytes (a multiple of 8, header included) | type
  uint64_t value;      // scalar bits, string length or element count

  size_t size() const noexcept { return size_type & ~uint32_t{7}; }
  AttributeType type() const noexcept { return static_cast<AttributeType>(size_type & 7); }
  const char* key_data() const noexcept { return reinterpret_cast<const char*>(this + 1); }
  std::string_view key() const noexcept { return {key_data(), key_len}; }
  char* payload() noexcept { return reinterpret_cast<char*>(this + 1) + Pad8(key_len); }
};
static_assert(sizeof(PackedAttr) == 16);

struct PackedEvent {
  uint32_t name_len;
  uint32_t n_attrs;
  uint32_t dropped;
  uint32_t size;  // event bytes, attributes included
  int64_t time;
};
static_assert(sizeof(PackedEvent) % 8 == 0);

enum PackedLinkBits : uint8_t { kLinkRemote = 1, kLinkHasTraceState = 2 };

struct PackedLink {
  TraceId trace_id;
  SpanId span_id;
  uint8_t flags;
  uint8_t bits;
  uint16_t pad;
  uint32_t n_attrs;
  uint32_t dropped;
  uint32_t size;  // link bytes, attributes included
};
static_assert(sizeof(PackedLink) % 8 == 0);

static_assert(sizeof(TraceState) % 8 == 0 && alignof(TraceState) <= 8);

// Copies n bytes; inline for the short strings spans are made of.
inline void CopyBytes(char* dst, const char* src, size_t n) noexcept {
  otlp::internal::CopyShortBytes(dst, src, n);
}

// A scalar attribute value as the 64 bits PackedAttr::value holds.
inline uint64_t ScalarBits(const AttributeValue& v) noexcept {
  switch (v.type()) {
    case AttributeType::kBool: return v.as_bool() ? 1 : 0;
    case AttributeType::kInt: return static_cast<uint64_t>(v.as_int());
    case AttributeType::kDouble: {
      double d = v.as_double();
      uint64_t bits;
      std::memcpy(&bits, &d, 8);
      return bits;
    }
    default: return 0;
  }
}

// Byte length of the first `max_chars` UTF-8 characters of s (s.size() when shorter).
size_t Utf8Prefix(std::string_view s, uint32_t max_chars) noexcept;

// Entry size of key=value as a packed attribute, strings cut to `length_limit` characters
// (SpanLimits::kNoLimit: no cut).
size_t PackedAttrSize(std::string_view key, const AttributeValue& v,
                      uint32_t length_limit) noexcept;
// Writes the attribute at `dst` (PackedAttrSize bytes, 8-aligned).
void WritePackedAttr(char* dst, std::string_view key, const AttributeValue& v,
                     uint32_t length_limit) noexcept;
// The attribute with `key` in the packed attributes [begin, end), or null.
inline PackedAttr* FindPackedAttr(char* begin, char* end, std::string_view key) noexcept {
  for (char* p = begin; p < end;) {
    auto* a = reinterpret_cast<PackedAttr*>(p);
    if (a->key_len == key.size() &&
        otlp::internal::ShortBytesEqual(a->key_data(), key.data(), key.size())) {
      return a;
    }
    p += a->size();
  }
  return nullptr;
}

// Fills `out` from the block at `src`: strings and arrays point into the block (valid while it
// is), tracestates are moved out of it. Each block is unpacked at most once. Throws
// std::bad_alloc only before touching the block (when `out`'s vectors must grow), so a failed
// unpack can be followed by DestroyPacked().
void Unpack(char* src, SpanData& out);

// Releases what a block owns (its tracestates) when it will never be unpacked.
void DestroyPacked(char* src) noexcept;

}  // namespace otlp::trace::internal
