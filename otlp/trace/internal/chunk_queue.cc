#include "otlp/trace/internal/chunk_queue.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "otlp/trace/internal/fast_clock.h"

namespace otlp::trace::internal {

namespace {
std::atomic<ChunkSwitchClock> g_chunk_switch_clock{nullptr};
}  // namespace

void SetChunkSwitchClock(ChunkSwitchClock now) noexcept {
  g_chunk_switch_clock.store(now, std::memory_order_relaxed);
}

ChunkQueue::ChunkQueue(size_t capacity, uint64_t notify_at, BlockDiscard discard,
                       ChunkSwitchClock clock)
    : blocks_(capacity),
      free_chunks_(kFreeChunks),
      discard_(discard),
      clock_(clock != nullptr ? clock : g_chunk_switch_clock.load(std::memory_order_relaxed)),
      notify_at_(notify_at) {}

ChunkQueue::~ChunkQueue() {
  std::vector<char*> chunks;
  try {
    chunks.reserve(16);
    char* buf[256];
    size_t n;
    while ((n = blocks_.Pop(buf, 256)) > 0) {
      for (size_t i = 0; i < n; ++i) {
        if (discard_ != nullptr) discard_(buf[i]);
        chunks.push_back(ChunkOf(buf[i]));
      }
    }
    while ((n = free_chunks_.Pop(buf, 256)) > 0) chunks.insert(chunks.end(), buf, buf + n);
    chunks.insert(chunks.end(), idle_, idle_ + idle_n_);
    chunks.push_back(chunk_);
    chunks.push_back(consumer_chunk_);
  } catch (...) {
    // Out of memory while cleaning up: leak rather than crash.
  }
  std::sort(chunks.begin(), chunks.end());
  chunks.erase(std::unique(chunks.begin(), chunks.end()), chunks.end());
  for (char* c : chunks) std::free(c);
}

void ChunkQueue::Recycle(char* chunk) noexcept {
  if (producer_closed() || CapacityOf(chunk) != kChunkSize || !free_chunks_.Push(chunk)) {
    FreeChunk(chunk);
  }
}

char* ChunkQueue::NewChunk(size_t size) noexcept {
  auto* c = static_cast<char*>(std::aligned_alloc(kChunkSize, size));
  if (c == nullptr) return nullptr;
  *reinterpret_cast<size_t*>(c) = size;
  bytes_.fetch_add(static_cast<int64_t>(size), std::memory_order_relaxed);
  return c;
}

void ChunkQueue::FreeChunk(char* c) noexcept {
  bytes_.fetch_sub(static_cast<int64_t>(CapacityOf(c)), std::memory_order_relaxed);
  std::free(c);
}

// Moves the chunks the consumer gave back to the end of idle_, then frees the oldest idle ones
// beyond `keep`.
void ChunkQueue::CollectIdle(size_t keep) noexcept {
  char* got[kFreeChunks];
  const size_t n = free_chunks_.Pop(got, kFreeChunks);
  for (size_t i = 0; i < n; ++i) {
    if (idle_n_ == kFreeChunks) FreeChunk(PopOldestIdle());
    idle_[idle_n_++] = got[i];
  }
  while (idle_n_ > keep) FreeChunk(PopOldestIdle());
}

// Removes the idle chunk finished longest ago (idle_n_ > 0).
char* ChunkQueue::PopOldestIdle() noexcept {
  char* c = idle_[0];
  std::memmove(idle_, idle_ + 1, (idle_n_ - 1) * sizeof(char*));
  --idle_n_;
  return c;
}

// The idle chunk finished longest ago, when more than `depth` are idle. Oldest first: the
// consumer's core has read every chunk, and rewriting lines that core still holds costs the
// producer a cross-core transfer per line (bench/RESULTS.md).
char* ChunkQueue::TakeIdleChunk(size_t depth) noexcept {
  CollectIdle(kFreeChunks);
  return idle_n_ > depth ? PopOldestIdle() : nullptr;
}

char* ChunkQueue::NextChunk(size_t n) noexcept {
  const size_t need = kChunkHeader + n;
  char* c = nullptr;
  if (need <= kChunkSize) {
    // Once per chunk: the clock says how fast this thread fills chunks.
    const int64_t now = clock_ != nullptr ? clock_() : NowUnixNanos();
    const int64_t since = now - last_switch_;
    last_switch_ = now;
    fast_switches_ = since < kFastSwitchNanos ? std::min(fast_switches_ + 1, kFastIdleDepth) : 0;
    if (since >= kQuietSwitchNanos) CollectIdle(kSlowIdle);
    c = TakeIdleChunk(fast_switches_ >= kFastIdleDepth ? kFastIdleDepth : 0);
    if (c == nullptr) c = NewChunk(kChunkSize);
  } else {
    c = NewChunk((need + kChunkSize - 1) & ~(kChunkSize - 1));
  }
  if (c == nullptr) return nullptr;
  // (The chunk left behind holds a block: the consumer will finish it.)
  chunk_ = c;
  used_ = need;
  // An oversized chunk holds its one block only: a block starting past its first kChunkSize
  // bytes would not map back to it.
  cap_ = need <= kChunkSize ? CapacityOf(c) : need;
  return chunk_ + kChunkHeader;
}

}  // namespace otlp::trace::internal
