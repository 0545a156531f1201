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
#include <cstring>
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
  // Appends n uninitialized bytes when they fit the capacity; else null (nothing appended).
  char* TryExtend(size_t n) noexcept {
    if (size_ + n > cap_) [[unlikely]] return nullptr;
    char* p = data_ + size_;
    size_ += static_cast<uint32_t>(n);
    return p;
  }
  // Removes [off, off + n).
  void Erase(size_t off, size_t n) noexcept;
  // Inserts n uninitialized bytes at off and returns them; null (unchanged) when out of memory.
  char* Insert(size_t off, size_t n) noexcept;
  // Makes room for `n` bytes in all; false when out of memory.
  bool Reserve(size_t n) noexcept;

 private:
  char* ExtendSlow(size_t n) noexcept;
  char* data_ = nullptr;
  uint32_t size_ = 0;
  uint32_t cap_ = 0;
};

// Bit of the record's key filter for an attribute key (not empty): mixes the length with the
// first and last bytes, so the usual keys of one span rarely share a bit.
inline uint64_t KeyFilterBit(std::string_view key) noexcept {
  const auto first = static_cast<unsigned char>(key.front());
  const auto last = static_cast<unsigned char>(key.back());
  return uint64_t{1} << ((key.size() + 31 * first + 7 * last) & 63);
}

struct SpanRecord {
  // Identity, times and counts, in the form they are packed in (Pack() fills `size` and
  // `n_states`).
  PackedHeader h{};
  // The name (padded to 8) and then the packed attributes: the part of the block after the
  // header, as Pack() copies it. Never null once the record exists (NewRecord reserves it).
  ByteBuffer body;
  ProviderState* provider = nullptr;  // its limits apply
  // The attribute count limit when no value-length limit applies, else 0: the one number the
  // common SetAttribute needs.
  uint32_t fast_attr_limit = 0;
  bool status_final = false;  // Ok was set
  // Any of the rarely used parts may be in use: status message, events, links, tracestate.
  // Pack, PackedSize and Reset look at them only when this is set.
  bool extras = false;
  // Bit KeyFilterBit(key) is set for every attribute key of the span (a superset): a key whose
  // bit is clear cannot be present, and the duplicate scan is skipped.
  uint64_t key_filter = 0;
  SpanRecord* next_free = nullptr;  // in the thread's pool
  TraceState trace_state;
  ByteBuffer status;  // the status message, padded
  ByteBuffer events;  // packed events, each followed by its attributes
  ByteBuffer links;   // packed links, each followed by its attributes
  std::vector<TraceState> link_states;  // of the links flagged kLinkHasTraceState, in order

  // Clears for reuse, keeping capacity. Identity fields are written by every start.
  void Reset() noexcept {
    if (extras) [[unlikely]] ClearExtras();
    ResetPlain();
  }
  // Reset of a record known to have no extras.
  void ResetPlain() noexcept {
    std::memset(reinterpret_cast<char*>(&h) + kHeaderZeroBegin, 0,
                kHeaderZeroEnd - kHeaderZeroBegin);
    key_filter = 0;
    status_final = false;
    body.clear();
  }

  std::string_view name() const noexcept { return {body.data(), h.name_len}; }
  std::string_view status_message() const noexcept { return {status.data(), h.status_len}; }

  // The name of a span being started (the body is empty). False when out of memory.
  bool SetFirstName(std::string_view name) noexcept {
    char* p = body.Extend(Pad8(name.size()));
    if (p == nullptr) [[unlikely]] return false;
    CopyBytes(p, name.data(), name.size());
    h.name_len = static_cast<uint32_t>(name.size());
    return true;
  }
  // Replaces the name (moving the attributes when its padded size changes).
  void SetName(std::string_view name) noexcept;
  void SetStatusMessage(std::string_view message) noexcept;
  // Always inlined: at a call site with a literal key and a value of known type, the checks
  // and copies fold into a few fixed-size stores.
  [[gnu::always_inline]] inline void SetAttribute(std::string_view key,
                                                  const AttributeValue& v) noexcept;
  // Replacement, limits, arrays: kept out of line so the common append stays lean.
  [[gnu::noinline]] void SetAttributeSlow(std::string_view key, const AttributeValue& v) noexcept;
  void AddEvent(const SpanLimits& l, std::string_view name, int64_t time_unix_nano,
                std::span<const KeyValue> attributes) noexcept;
  void AddLink(const SpanLimits& l, const SpanContext& ctx,
               std::span<const KeyValue> attributes) noexcept;

  // Bytes Pack() writes (a multiple of 8).
  size_t PackedSize() const noexcept {
    const size_t n = sizeof(PackedHeader) + body.size();
    return extras ? n + ExtrasSize() : n;
  }
  // Writes the span as a block of `size` == PackedSize() bytes at `dst` (8-byte aligned).
  void Pack(char* dst, size_t size) const noexcept {
    auto* out = reinterpret_cast<PackedHeader*>(dst);
    std::memcpy(static_cast<void*>(out), &h, sizeof(PackedHeader));
    out->size = static_cast<uint32_t>(size);
    out->n_states = 0;
    otlp::internal::CopyBytesInline64(dst + sizeof(PackedHeader), body.data(), body.size());
    if (extras) [[unlikely]] PackExtras(dst + sizeof(PackedHeader) + body.size(), *out);
  }

 private:
  [[gnu::noinline]] void ClearExtras() noexcept;
  size_t ExtrasSize() const noexcept;
  void PackExtras(char* p, PackedHeader& out) const noexcept;
};

inline void SpanRecord::SetAttribute(std::string_view key, const AttributeValue& v) noexcept {
  // Fast path: a key of 1-32 bytes that the span surely lacks, with a scalar or a string of at
  // most 32 bytes, no length limit, and room in the body: appended in one go, without a call.
  // Everything else (and the rare filter collision) takes the slow path.
  const AttributeType type = v.type();
  const size_t key_len = key.size();
  if (type > AttributeType::kString || key_len - 1 >= 32 || h.n_attrs >= fast_attr_limit)
      [[unlikely]] {
    return SetAttributeSlow(key, v);
  }
  const uint64_t bit = KeyFilterBit(key);
  if ((key_filter & bit) != 0) [[unlikely]] return SetAttributeSlow(key, v);
  std::string_view s;
  uint64_t value;
  if (type == AttributeType::kString) {
    s = v.as_string();
    if (s.size() > 32) [[unlikely]] return SetAttributeSlow(key, v);
    value = s.size();
  } else {
    value = ScalarBits(v);
  }
  const size_t key_pad = Pad8(key_len);
  const size_t size = sizeof(PackedAttr) + key_pad + Pad8(s.size());
  char* dst = body.TryExtend(size);
  if (dst == nullptr) [[unlikely]] return SetAttributeSlow(key, v);
  auto* a = reinterpret_cast<PackedAttr*>(dst);
  a->key_len = static_cast<uint32_t>(key_len);
  a->size_type = static_cast<uint32_t>(size) | static_cast<uint32_t>(type);
  a->value = value;
  otlp::internal::CopyUpTo32(dst + sizeof(PackedAttr), key.data(), key_len);
  otlp::internal::CopyUpTo32(dst + sizeof(PackedAttr) + key_pad, s.data(), s.size());
  ++h.n_attrs;
  key_filter |= bit;
}

// ---- The per-thread record pool ----

// LIFO free list: the most recently used record is the hottest. Plain data, so the hot path
// reads it without the guard a thread_local with a destructor needs; the cleanup at thread
// exit lives in a separate object registered the first time the pool is empty.
enum RecordPoolState : uint8_t { kPoolUnregistered, kPoolActive, kPoolDead };
struct RecordPool {
  SpanRecord* head;
  uint32_t count;
  RecordPoolState state;  // kPoolDead: the thread is exiting, pooling is over
};
extern thread_local constinit RecordPool t_record_pool;
// Records beyond this many idle ones are freed (a burst of nested or concurrent spans on one
// thread can need many; steady state needs as many as are open at once).
constexpr uint32_t kMaxPooledRecords = 4096;

[[gnu::noinline]] SpanRecord* NewRecord() noexcept;
// Frees `rec` when pooling is over or the pool is full (true); else registers the pool's
// cleanup (false).
[[gnu::noinline]] bool ReleaseRecordSlow(SpanRecord* rec) noexcept;

// A reset record from this thread's pool (or a new one); null only when out of memory.
inline SpanRecord* AcquireRecord() noexcept {
  RecordPool& c = t_record_pool;
  SpanRecord* r = c.head;
  if (r == nullptr) [[unlikely]] return NewRecord();
  c.head = r->next_free;
  --c.count;
  r->Reset();
  return r;
}

// True when PushRecord may be used: the pool is registered and not full.
inline bool PoolTakesRecord() noexcept {
  const RecordPool& c = t_record_pool;
  return c.state == kPoolActive && c.count < kMaxPooledRecords;
}
inline void PushRecord(SpanRecord* rec) noexcept {
  RecordPool& c = t_record_pool;
  rec->next_free = c.head;
  c.head = rec;
  ++c.count;
}

// Returns a record (in any state) to this thread's pool, or frees it when the pool is full.
inline void ReleaseRecord(SpanRecord* rec) noexcept {
  if (!PoolTakesRecord()) [[unlikely]] {
    if (ReleaseRecordSlow(rec)) return;
  }
  PushRecord(rec);
}

}  // namespace otlp::trace::internal
