// Wall-clock time in Unix nanoseconds at a fraction of clock_gettime's cost.
//
// On x86-64 Linux, when the kernel itself trusts the TSC (clocksource "tsc": invariant, synced
// across cores), the clock reads the TSC and scales it with a factor calibrated against
// CLOCK_REALTIME. The anchor is refreshed about every 250 ms so NTP adjustments are followed;
// until the first calibration (10 ms after the first call) and everywhere else it simply calls
// clock_gettime. A read costs a fraction of a clock_gettime call (bench/span_bench has that call
// as its reference row; bench/RESULTS.md). The slow path lives in fast_clock.cc.
#pragma once

#include <atomic>
#include <cstdint>
#include <ctime>

#if defined(__x86_64__) && defined(__linux__)
#include <x86intrin.h>
#define OTLP_FAST_CLOCK_TSC 1
#else
#define OTLP_FAST_CLOCK_TSC 0
#endif

namespace otlp::trace::internal {

inline int64_t SystemNowNanos() noexcept {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// One calibration: wall time = base_ns + ((tsc - base_tsc) * mult >> 32) while
// tsc - base_tsc < window (a window of 0 sends every read to the slow path).
struct FastClockAnchor {
  std::atomic<int64_t> base_ns{0};
  std::atomic<uint64_t> base_tsc{0};
  std::atomic<uint64_t> mult{0};    // ns per tick, 32.32 fixed point
  std::atomic<uint64_t> window{0};  // ticks until the anchor must be refreshed
};

// Two anchors and a sequence number that selects one (seq & 1). The one writer (the slow path)
// fills the other anchor, then bumps seq; a reader that sees seq unchanged after reading its
// anchor read a complete one (a second update, which would reuse it, changes seq).
struct FastClockState {
  std::atomic<uint32_t> seq{0};
  FastClockAnchor anchors[2];
  std::atomic<bool> enabled{false};  // TSC mode on (bookkeeping of the slow path)
};
extern FastClockState g_fast_clock;

// Slow path: calibrates, re-anchors, or falls back to clock_gettime.
int64_t FastClockSlow() noexcept;

// The clock without its slow path: false when FastClockSlow() must be asked instead (before
// the first calibration, when the anchor is due for a refresh, away from the TSC). Lets hot
// paths keep every call a tail call.
inline bool TryNowUnixNanos(int64_t& out) noexcept {
#if OTLP_FAST_CLOCK_TSC
  const uint32_t s1 = g_fast_clock.seq.load(std::memory_order_acquire);
  const FastClockAnchor& a = g_fast_clock.anchors[s1 & 1];
  const uint64_t tsc = __rdtsc();
  const uint64_t base_tsc = a.base_tsc.load(std::memory_order_relaxed);
  const uint64_t window = a.window.load(std::memory_order_relaxed);
  const uint64_t mult = a.mult.load(std::memory_order_relaxed);
  const int64_t base_ns = a.base_ns.load(std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_acquire);
  const uint32_t s2 = g_fast_clock.seq.load(std::memory_order_relaxed);
  const uint64_t ticks = tsc - base_tsc;
  if (s1 == s2 && ticks < window) [[likely]] {
    __extension__ using U128 = unsigned __int128;
    out = base_ns + static_cast<int64_t>((static_cast<U128>(ticks) * mult) >> 32);
    return true;
  }
  return false;
#else
  out = SystemNowNanos();
  return true;
#endif
}

inline int64_t NowUnixNanos() noexcept {
  int64_t t;
  return TryNowUnixNanos(t) ? t : FastClockSlow();
}

}  // namespace otlp::trace::internal
