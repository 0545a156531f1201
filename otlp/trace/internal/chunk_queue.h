// One producing thread's queue of variable-size blocks (packed spans) to one consumer thread.
// The producer writes blocks one after another into chunks of kChunkSize bytes and pushes each
// block's address into a single-producer/single-consumer ring; the consumer pops the addresses,
// reads the blocks, and hands every chunk it has finished back, through a second ring, for the
// producer to write again. Memory is therefore allocated and freed by the producer, never freed
// across threads on the hot path, and reused in the order that suits the cache (see NextChunk
// in chunk_queue.cc and the constants in batch_tuning.h).
//
//   ChunkQueue q(/*capacity=*/2048, /*notify_at=*/512, &DestroyBlock);
//   // Producer thread:
//   if (q.HasSpace()) {
//     if (char* b = q.Allocate(n)) {
//       Write(b, n);
//       if (q.Push(b)) WakeConsumer();
//     }
//   }
//   // Consumer thread:
//   char* got[256];
//   for (size_t i = 0, k = q.Pop(got, 256); i < k; ++i) {
//     if (char* c = q.Finished(got[i])) done.push_back(c);
//     Read(got[i]);
//   }
//   for (char* c : done) q.Recycle(c);  // once nothing reads their blocks any more
//
// A block is 8-byte aligned and lies within the first kChunkSize bytes of its chunk; a block too
// large for a chunk gets a chunk of its own. The consumer knows a chunk is finished when it meets
// a block of a later chunk (the producer never returns to a chunk it left).
//
// Threading: producer methods on one thread at a time, consumer methods on one other thread at a
// time; CloseProducer, producer_closed, Pending and bytes from any thread. The destructor runs
// when neither side uses the queue any more; it discards the blocks still queued.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "otlp/trace/internal/batch_tuning.h"
#include "otlp/trace/internal/spsc_ring.h"

namespace otlp::trace::internal {

// The clock (Unix ns) a producer reads when it moves to a new chunk, to tell a thread that fills
// chunks fast from a quiet one.
using ChunkSwitchClock = int64_t (*)() noexcept;
// Test hook: the clock of the queues created from now on that are not given one (null: the
// real clock). The batch processor's test steps it instead of sleeping.
void SetChunkSwitchClock(ChunkSwitchClock now) noexcept;

// Called by the destructor for every block still queued (e.g. to destroy what it owns).
using BlockDiscard = void (*)(char* block) noexcept;

class ChunkQueue {
 public:
  // Up to `capacity` blocks queued; Push reports when `notify_at` are pending. `clock`: see
  // ChunkSwitchClock (null: the test hook's, else the real clock).
  ChunkQueue(size_t capacity, uint64_t notify_at, BlockDiscard discard,
             ChunkSwitchClock clock = nullptr);
  ~ChunkQueue();
  ChunkQueue(const ChunkQueue&) = delete;
  ChunkQueue& operator=(const ChunkQueue&) = delete;

  // The chunk a block lies in.
  static char* ChunkOf(char* block) noexcept {
    return reinterpret_cast<char*>(reinterpret_cast<uintptr_t>(block) & ~uintptr_t{kChunkSize - 1});
  }

  // ---- Producer ----

  // True when the ring has room for one more block (then a Push will succeed).
  bool HasSpace() noexcept { return blocks_.HasSpace(); }
  // A block of `n` bytes (a multiple of 8) for the caller to write and then Push (every block
  // allocated must be pushed), in a new chunk when the current one is full; null when out of
  // memory.
  char* Allocate(size_t n) noexcept {
    if (Fits(n)) [[likely]] return AllocateHere(n);
    return NextChunk(n);
  }
  // True when a block of `n` bytes fits in the current chunk.
  bool Fits(size_t n) const noexcept { return used_ + n <= cap_; }
  // Allocate when Fits(n): never moves to another chunk, never fails.
  char* AllocateHere(size_t n) noexcept {
    char* block = chunk_ + used_;
    used_ += n;
    return block;
  }
  // Publishes the block allocated last, once written (HasSpace() must have returned true since
  // the previous push). True when at least notify_at() blocks are pending as far as the producer
  // knows (it counts from the last consumer position it read, so it may overestimate).
  bool Push(char* block) noexcept { return blocks_.PushUnchecked(block) >= notify_at_; }
  // Blocks pending now (reads the consumer's position).
  uint64_t ProducerPending() noexcept { return blocks_.ProducerPending(); }
  uint64_t notify_at() const noexcept { return notify_at_; }
  void set_notify_at(uint64_t n) noexcept { notify_at_ = n; }

  // The producing thread is gone: finished chunks are freed from now on instead of returned.
  void CloseProducer() noexcept { producer_closed_.store(true, std::memory_order_release); }
  bool producer_closed() const noexcept { return producer_closed_.load(std::memory_order_acquire); }

  // ---- Consumer ----

  // Blocks pushed and not popped yet.
  uint64_t Pending() const noexcept { return blocks_.Pending(); }
  // Pops up to `max` block addresses, oldest first.
  size_t Pop(char** out, size_t max) noexcept { return blocks_.Pop(out, max); }
  // Call for every popped block, in order: the chunk the producer left before this block's, or
  // null when the block is in the same chunk as the previous one. All of that chunk's blocks were
  // popped before; hand it to Recycle once they are no longer read.
  char* Finished(char* block) noexcept {
    char* c = ChunkOf(block);
    if (c == consumer_chunk_) return nullptr;
    char* done = consumer_chunk_;
    consumer_chunk_ = c;
    return done;
  }
  // Gives a finished chunk back to the producer for reuse, or frees it (an oversized chunk, a
  // closed producer, or the way back full).
  void Recycle(char* chunk) noexcept;

  // Bytes of the chunks this queue holds (being written, queued, on their way back, idle).
  int64_t bytes() const noexcept { return bytes_.load(std::memory_order_relaxed); }

 private:
  static size_t CapacityOf(const char* c) noexcept { return *reinterpret_cast<const size_t*>(c); }
  char* NextChunk(size_t n) noexcept;
  char* NewChunk(size_t size) noexcept;
  void FreeChunk(char* c) noexcept;
  void CollectIdle(size_t keep) noexcept;
  char* PopOldestIdle() noexcept;
  char* TakeIdleChunk(size_t depth) noexcept;

  SpscRing<char*> blocks_;       // producer → consumer
  SpscRing<char*> free_chunks_;  // consumer → producer: finished chunks, in the order finished
  std::atomic<bool> producer_closed_{false};
  // Changed once per chunk allocated or freed, by whichever side does it.
  std::atomic<int64_t> bytes_{0};
  const BlockDiscard discard_;
  const ChunkSwitchClock clock_;

  // Producer state, on cache lines of its own (the consumer writes its state often).
  alignas(64) char* chunk_ = nullptr;  // being written
  size_t used_ = 0;
  size_t cap_ = 0;
  uint64_t notify_at_;
  // Chunks taken back from free_chunks_, in the order they were finished.
  char* idle_[kFreeChunks] = {};
  size_t idle_n_ = 0;
  int64_t last_switch_ = 0;   // when the producer last moved to a new chunk
  size_t fast_switches_ = 0;  // switches in a row within kFastSwitchNanos of the previous one

  // Consumer state: the chunk of the last block popped.
  alignas(64) char* consumer_chunk_ = nullptr;
};

}  // namespace otlp::trace::internal
