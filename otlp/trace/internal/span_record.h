// The SDK's mutable span. It keeps its attributes, events and links in the packed form of
// packed_span.h from the start, so ending a span is a few bulk copies. Records are pooled per
// thread and reused with their buffers' capacity, so a steady-state span allocates nothing; a
// record never leaves its thread's pool for long (processors copy what they keep when the span
// ends), so a thread cycles through as many records as it has spans open at once, and they stay
// in its cache.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>
#include <vector>

#include "otlp/trace/internal/packed_span.h"
#include "otlp/trace/span_data.h"

namespace otlp::trace {
struct SpanLimits;
}

namespace otlp::trace::internal {

struct TracerImpl;
struct ProviderState;

// Growable byte buffer that keeps its capacity when cleared. Contents are position-independent
// (offsets, never pointers), so growing may move them.
class ByteBuffer {
 public:
  ByteBuffer() noexcept = default;
  ByteBuffer(const ByteBuffer&) = delete;
  ByteBuffer& operator=(const ByteBuffer&) = delete;
  ~ByteBuffer() { std::free(data_); }

  char* data() const noexcept { return data_; }
  size_t size() const noexcept { return size_; }
  void clear() noexcept { size_ = 0; }
  // Appends n uninitialized bytes and returns them; null (nothing appended) when out of memory.
  char* Extend(size_t n) noexcept {
    if (size_ + n <= cap_) [[likely]] {
      char* p = data_ + size_;
      size_ += static_cast<uint32_t>(n);
      return p;
    }
    return ExtendSlow(n);
  }
  // Removes [off, off + n).
  void Erase(size_t off, size_t n) noexcept;

 private:
  char* ExtendSlow(size_t n) noexcept;
  char* data_ = nullptr;
  uint32_t size_ = 0;
  uint32_t cap_ = 0;
};

struct SpanRecord {
  // Identity, times and counts, in the form they are packed in. `size` and `n_states` are
  // filled in by Pack().
  PackedHeader h{};
  ProviderState* provider = nullptr;
  const SpanLimits* limits = nullptr;  // the provider's
  // The attribute count limit when no value-length limit applies, else 0: the one number the
  // common SetAttribute needs.
  uint32_t fast_attr_limit = 0;
  // Bit (length % 64) is set for every key length among the span's attributes (a superset):
  // a key whose bit is clear cannot be present, and the duplicate scan is skipped.
  uint64_t key_lengths = 0;
  SpanRecord* next_free = nullptr;     // in the thread's pool
  bool status_final = false;           // Ok was set
  TraceState trace_state;
  // The name at [name_off, +h.name_len) and the status message at [status_off,
  // +h.status_len); UpdateName and SetStatus append.
  ByteBuffer strings;
  uint32_t name_off = 0;
  uint32_t status_off = 0;
  ByteBuffer attrs;   // packed attributes
  ByteBuffer events;  // packed events, each followed by its attributes
  ByteBuffer links;   // packed links, each followed by its attributes
  std::vector<TraceState> link_states;  // of the links flagged kLinkHasTraceState, in order

  // Clears for reuse, keeping capacity. Identity fields are written by every start.
  void Reset() noexcept {
    h.n_attrs = h.n_events = h.n_event_attrs = h.n_links = h.n_link_attrs = 0;
    h.dropped_attrs = h.dropped_events = h.dropped_links = 0;
    key_lengths = 0;
    h.status = static_cast<uint8_t>(SpanStatusCode::kUnset);
    h.status_len = 0;
    status_final = false;
    if (!trace_state.empty()) [[unlikely]] trace_state = TraceState();
    strings.clear();
    attrs.clear();
    if (events.size() != 0) [[unlikely]] events.clear();
    if (links.size() != 0) [[unlikely]] {
      links.clear();
      link_states.clear();
    }
  }

  std::string_view name() const noexcept { return {strings.data() + name_off, h.name_len}; }
  std::string_view status_message() const noexcept {
    return {strings.data() + status_off, h.status_len};
  }
  bool SetName(std::string_view name) noexcept {
    char* p = strings.Extend(Pad8(name.size()));
    if (p == nullptr) [[unlikely]] return false;
    CopyBytes(p, name.data(), name.size());
    name_off = static_cast<uint32_t>(p - strings.data());
    h.name_len = static_cast<uint32_t>(name.size());
    return true;
  }
  void SetStatusMessage(std::string_view message) noexcept;
  void SetAttribute(std::string_view key, const AttributeValue& v) noexcept;
  // Replacement, limits, arrays: kept out of line so the common append stays lean.
  [[gnu::noinline]] void SetAttributeSlow(std::string_view key, const AttributeValue& v) noexcept;
  void AddEvent(const SpanLimits& l, std::string_view name, int64_t time_unix_nano,
                std::span<const KeyValue> attributes) noexcept;
  void AddLink(const SpanLimits& l, const SpanContext& ctx,
               std::span<const KeyValue> attributes) noexcept;

  // Bytes Pack() writes (a multiple of 8).
  size_t PackedSize() const noexcept {
    return sizeof(PackedHeader) + Pad8(h.name_len) + Pad8(h.status_len) + attrs.size() +
           events.size() + links.size() +
           ((h.bits & kHasTraceState) != 0 ? 1 + link_states.size() : link_states.size()) *
               sizeof(TraceState);
  }
  // Writes the span as a block at `dst` (8-byte aligned, PackedSize() bytes).
  void Pack(char* dst) const noexcept;
};

inline void SpanRecord::SetAttribute(std::string_view key, const AttributeValue& v) noexcept {
  const AttributeType type = v.type();
  // Fast path: a new key with a scalar or string value and no length limit, appended in one go.
  const uint64_t length_bit = uint64_t{1} << (key.size() & 63);
  if (type <= AttributeType::kString && !key.empty() && h.n_attrs < fast_attr_limit &&
      ((key_lengths & length_bit) == 0 ||
       FindPackedAttr(attrs.data(), attrs.data() + attrs.size(), key) == nullptr)) [[likely]] {
    const size_t key_pad = Pad8(key.size());
    const std::string_view s = type == AttributeType::kString ? v.as_string() : std::string_view();
    const size_t size = sizeof(PackedAttr) + key_pad + Pad8(s.size());
    char* dst = attrs.Extend(size);
    if (dst == nullptr) [[unlikely]] {
      ++h.dropped_attrs;
      return;
    }
    auto* a = reinterpret_cast<PackedAttr*>(dst);
    a->key_len = static_cast<uint32_t>(key.size());
    a->size_type = static_cast<uint32_t>(size) | static_cast<uint32_t>(type);
    CopyBytes(dst + sizeof(PackedAttr), key.data(), key.size());
    if (type == AttributeType::kString) {
      a->value = s.size();
      CopyBytes(dst + sizeof(PackedAttr) + key_pad, s.data(), s.size());
    } else {
      a->value = ScalarBits(v);
    }
    ++h.n_attrs;
    key_lengths |= length_bit;
    return;
  }
  SetAttributeSlow(key, v);
}

// A reset record from this thread's pool (or a new one); null only when out of memory.
SpanRecord* AcquireRecord() noexcept;
// Returns a record (in any state) to this thread's pool, or frees it when the pool is full.
void ReleaseRecord(SpanRecord* rec) noexcept;

}  // namespace otlp::trace::internal
