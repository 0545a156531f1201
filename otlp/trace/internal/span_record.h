// The SDK's mutable span: SpanData plus the arena its strings live in. Records are pooled per
// thread and reused with their capacity, so a steady-state span allocates nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "otlp/trace/span_data.h"

namespace otlp::trace::internal {

struct TracerImpl;

// Bump allocator with stable addresses: blocks are kept across Reset(), so a reused record
// copies strings without touching malloc.
class Arena {
 public:
  Arena() noexcept = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  void* Allocate(size_t n, size_t align) noexcept {
    size_t off = (used_ + align - 1) & ~(align - 1);
    if (off + n <= cap_) [[likely]] {
      used_ = off + n;
      return cur_ + off;
    }
    return AllocateSlow(n, align);
  }
  std::string_view Copy(std::string_view s) noexcept {
    if (s.empty()) return {};
    char* p = static_cast<char*>(Allocate(s.size(), 1));
    if (p == nullptr) return {};
    std::memcpy(p, s.data(), s.size());
    return {p, s.size()};
  }
  void Reset() noexcept {
    cur_ = inline_;
    cap_ = kInline;
    used_ = 0;
    block_index_ = 0;
    if (!large_.empty()) [[unlikely]] large_.clear();
  }
  void Prefetch() const noexcept {
    __builtin_prefetch(inline_, 1, 3);
    __builtin_prefetch(&cur_, 1, 3);
  }
  // Bytes held in blocks (for tests).
  size_t capacity() const noexcept;

 private:
  static constexpr size_t kInline = 384;
  static constexpr size_t kBlock = 4096;
  void* AllocateSlow(size_t n, size_t align) noexcept;

  alignas(16) char inline_[kInline];
  char* cur_ = inline_;
  size_t used_ = 0;
  size_t cap_ = kInline;
  size_t block_index_ = 0;  // blocks_[block_index_ - 1] is current when > 0
  std::vector<std::unique_ptr<char[]>> blocks_;   // kBlock each, reused
  std::vector<std::unique_ptr<char[]>> large_;    // oversized, freed at Reset
};

struct SpanRecord {
  SpanData data;
  Arena arena;
  TracerImpl* tracer = nullptr;
  bool status_final = false;  // Ok was set

  // Hints the cache lines a span start will write, so the next record of a deep pool (the
  // batch processor keeps thousands in circulation) is in L1 by the time it is used.
  void Prefetch() const noexcept {
    const char* p = reinterpret_cast<const char*>(&data);
    for (size_t off = 0; off < sizeof(SpanData); off += 64) __builtin_prefetch(p + off, 1, 3);
    arena.Prefetch();
  }

  // Clears for reuse, keeping capacity. Identity fields (context, parent, name, kind, times,
  // scope, resource) are not cleared: every start writes them.
  void Reset() noexcept {
    data.attributes.clear();
    data.dropped_attributes_count = 0;
    data.events.clear();
    data.event_attributes.clear();
    data.dropped_events_count = 0;
    data.links.clear();
    data.link_attributes.clear();
    data.dropped_links_count = 0;
    data.status_code = SpanStatusCode::kUnset;
    data.status_message = {};
    status_final = false;
    arena.Reset();
  }
};

// A reset record from this thread's pool (or a new one); null only when out of memory.
//
// Records are reset here, by the thread that reuses them, never by the export thread: the
// export thread only reads a record, so its cache lines stay owned by the producing thread and
// refilling a record does not pull lines back across cores.
SpanRecord* AcquireRecord() noexcept;
// Returns a record (in any state) to this thread's pool, or frees it when the pool is full.
void ReleaseRecord(SpanRecord* rec) noexcept;

// Hook so a processor can supply spare records to the pool of the calling thread (the batch
// processor returns exported records to the producing thread this way).
struct RecordSource {
  virtual ~RecordSource() = default;
  // Moves up to `max` used records (not reset) into `out`; returns how many.
  virtual size_t TakeRecycled(SpanRecord** out, size_t max) noexcept = 0;
};
// The calling thread's current recycled-record source (set by the batch processor).
void SetThreadRecordSource(std::shared_ptr<RecordSource> source) noexcept;

}  // namespace otlp::trace::internal

namespace otlp::trace::internal {
// A deep copy of `src` in a record from this thread's pool (null when out of memory).
SpanRecord* CloneRecord(const SpanRecord& src) noexcept;
}  // namespace otlp::trace::internal
