// A wake-up counter one thread sleeps on and others bump: the batch processor's export thread
// sleeps on it, application threads (and Flush/Shutdown) wake it. On Linux it is a futex (a
// wake is one syscall, a waiter sleeps in the kernel on the counter's address); elsewhere a
// mutex and condition variable do the same.
//
//   Futex f;
//   // sleeper                                   // waker
//   uint32_t seen = f.Load();                    publish work; f.Wake();
//   if (!work_visible) f.Wait(seen, timeout);
//
// No wake-up is lost: Wait returns at once when a Wake came after the Load that gave `seen`,
// so a sleeper that checks for work between Load and Wait cannot sleep through a Wake that
// followed the work. Wait may also return early without a Wake (a signal, a spurious wake-up);
// callers re-check their condition.
//
// Threading: thread-safe; any number of wakers, one or more waiters (Wake wakes one).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#if !defined(__linux__)
#include <condition_variable>
#include <mutex>
#endif

namespace otlp::trace::internal {

class Futex {
 public:
  Futex() noexcept = default;
  Futex(const Futex&) = delete;
  Futex& operator=(const Futex&) = delete;

  // The counter now, for a later Wait.
  uint32_t Load() const noexcept { return seq_.load(std::memory_order_acquire); }
  // Bumps the counter and wakes one waiter, if any.
  void Wake() noexcept;
  // Sleeps until the counter differs from `seen` or `timeout` passes (0 or less: returns at
  // once). True when the counter has moved on (a Wake came after `seen` was loaded).
  bool Wait(uint32_t seen, std::chrono::nanoseconds timeout) noexcept;

 private:
  std::atomic<uint32_t> seq_{0};
#if !defined(__linux__)
  std::mutex mu_;
  std::condition_variable cv_;
#endif
};

}  // namespace otlp::trace::internal
