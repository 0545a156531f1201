// A bounded single-producer single-consumer ring of trivially copyable items (pointers, in the
// batch processor): one thread pushes, one other thread pops, neither ever blocks or allocates.
//
//   SpscRing<char*> ring(1024);
//   // producer thread                     // consumer thread
//   if (!ring.Push(block)) Drop(block);    char* got[64];
//                                          size_t n = ring.Pop(got, 64);
//
// The capacity is exact (a ring of 5 holds 5 items); the slots are rounded up to a power of two
// so an index is a mask. Head and tail are free-running 64-bit counters on cache lines of their
// own; the producer keeps the last tail it saw and reads the consumer's line again only when
// the ring looks full, so a push that finds space touches nothing the consumer writes.
//
// Threading: the producer methods are called by one thread at a time, the consumer methods by
// one (other) thread at a time; Pending() may be called by the consumer or any thread that only
// wants an estimate.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>

namespace otlp::trace::internal {

template <typename T>
class SpscRing {
  static_assert(std::is_trivially_copyable_v<T>, "SpscRing holds trivially copyable items");

 public:
  // Holds up to `capacity` items (at least 1).
  explicit SpscRing(size_t capacity)
      : mask_(RoundUpPow2(std::max<size_t>(capacity, 1)) - 1),
        limit_(std::max<size_t>(capacity, 1)),
        slots_(new T[mask_ + 1]) {}
  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  size_t capacity() const noexcept { return static_cast<size_t>(limit_); }

  // ---- Producer ----

  // True when a push would succeed (it stays true until this thread pushes).
  bool HasSpace() noexcept {
    const uint64_t h = head_.load(std::memory_order_relaxed);
    if (h - cached_tail_ >= limit_) {
      cached_tail_ = tail_.load(std::memory_order_acquire);
      if (h - cached_tail_ >= limit_) return false;
    }
    return true;
  }
  // Pushes after HasSpace() returned true. Returns the items pending as the producer last saw the
  // consumer: an overestimate, at no cost (no read of the consumer's line).
  uint64_t PushUnchecked(T item) noexcept {
    const uint64_t h = head_.load(std::memory_order_relaxed);
    slots_[h & mask_] = item;
    head_.store(h + 1, std::memory_order_release);
    return h + 1 - cached_tail_;
  }
  // False (nothing pushed) when the ring is full.
  bool Push(T item) noexcept {
    if (!HasSpace()) return false;
    PushUnchecked(item);
    return true;
  }
  // Items pending now: reads the consumer's position (and remembers it, as HasSpace does).
  uint64_t ProducerPending() noexcept {
    cached_tail_ = tail_.load(std::memory_order_acquire);
    return head_.load(std::memory_order_relaxed) - cached_tail_;
  }

  // ---- Consumer ----

  // Items pushed and not yet popped (any thread may ask; from others it is an estimate).
  uint64_t Pending() const noexcept {
    return head_.load(std::memory_order_acquire) - tail_.load(std::memory_order_relaxed);
  }
  // Pops up to `max` items, oldest first, into `out`; returns how many.
  size_t Pop(T* out, size_t max) noexcept {
    const uint64_t t = tail_.load(std::memory_order_relaxed);
    const uint64_t h = head_.load(std::memory_order_acquire);
    const size_t n = static_cast<size_t>(std::min<uint64_t>(h - t, max));
    for (size_t i = 0; i < n; ++i) out[i] = slots_[(t + i) & mask_];
    tail_.store(t + n, std::memory_order_release);
    return n;
  }

 private:
  static size_t RoundUpPow2(size_t n) noexcept {
    size_t p = 1;
    while (p < n) p <<= 1;
    return p;
  }

  // Read by both sides, written by none.
  const uint64_t mask_;
  const uint64_t limit_;
  const std::unique_ptr<T[]> slots_;
  // The producer's line.
  alignas(64) std::atomic<uint64_t> head_{0};
  uint64_t cached_tail_ = 0;
  // The consumer's line.
  alignas(64) std::atomic<uint64_t> tail_{0};
};

}  // namespace otlp::trace::internal
