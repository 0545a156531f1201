#include "otlp/trace/internal/futex.h"

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <ctime>
#endif

namespace otlp::trace::internal {

void Futex::Wake() noexcept {
  seq_.fetch_add(1, std::memory_order_release);
#if defined(__linux__)
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&seq_), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr,
          0);
#else
  // Taking the lock orders the bump before a waiter's check-then-wait (which holds the lock).
  std::lock_guard<std::mutex> lock(mu_);
  cv_.notify_one();
#endif
}

bool Futex::Wait(uint32_t seen, std::chrono::nanoseconds timeout) noexcept {
  if (seq_.load(std::memory_order_acquire) != seen) return true;
  const int64_t ns = timeout.count();
  if (ns <= 0) return false;
#if defined(__linux__)
  // The kernel sleeps only while the counter still holds `seen` (checked atomically with
  // queueing the waiter), so a Wake between our load and this call is not lost.
  timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&seq_), FUTEX_WAIT_PRIVATE, seen, &ts, nullptr, 0);
#else
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return seq_.load(std::memory_order_acquire) != seen; });
#endif
  return seq_.load(std::memory_order_acquire) != seen;
}

}  // namespace otlp::trace::internal
