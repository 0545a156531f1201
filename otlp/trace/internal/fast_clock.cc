// The fast clock's slow path: TSC calibration against CLOCK_REALTIME, re-anchoring, and the
// fall-back to clock_gettime (fast_clock.h has the read side).
#include "otlp/trace/internal/fast_clock.h"

#include <fstream>
#include <string>

namespace otlp::trace::internal {

FastClockState g_fast_clock;

#if OTLP_FAST_CLOCK_TSC
namespace {

constexpr int64_t kCalibrateAfterNs = 10'000'000;   // first calibration window
constexpr int64_t kRefreshEveryNs = 250'000'000;    // re-anchor interval

struct Calibration {
  std::atomic<int> state{0};  // 0 unknown, 1 usable (collecting), 2 not usable
  std::atomic<bool> busy{false};
  std::atomic<int64_t> first_ns{0};
  std::atomic<uint64_t> first_tsc{0};
};
Calibration g_cal;

bool KernelUsesTsc() {
  std::ifstream f("/sys/devices/system/clocksource/clocksource0/current_clocksource");
  std::string s;
  return f && (f >> s) && s == "tsc";
}

// A (wall, tsc) pair taken as close together as possible.
void ReadPair(int64_t& ns, uint64_t& tsc) {
  uint64_t best_gap = UINT64_MAX;
  ns = 0;
  tsc = 0;
  for (int i = 0; i < 3; ++i) {
    uint64_t a = __rdtsc();
    int64_t w = SystemNowNanos();
    uint64_t b = __rdtsc();
    if (b - a < best_gap) {
      best_gap = b - a;
      ns = w;
      tsc = a + (b - a) / 2;
    }
  }
}

void Publish(int64_t ns, uint64_t tsc, uint64_t mult) {
  uint64_t refresh_ticks = static_cast<uint64_t>(
      (static_cast<long double>(kRefreshEveryNs) * 4294967296.0L) / static_cast<long double>(mult));
  const uint32_t s = g_fast_clock.seq.load(std::memory_order_relaxed);
  FastClockAnchor& a = g_fast_clock.anchors[(s + 1) & 1];
  a.base_ns.store(ns, std::memory_order_relaxed);
  a.base_tsc.store(tsc, std::memory_order_relaxed);
  a.mult.store(mult, std::memory_order_relaxed);
  a.window.store(refresh_ticks, std::memory_order_relaxed);
  g_fast_clock.seq.store(s + 1, std::memory_order_release);
  g_fast_clock.enabled.store(true, std::memory_order_relaxed);
}

// Sends every read to the slow path (which then calls clock_gettime).
void Unpublish() {
  const uint32_t s = g_fast_clock.seq.load(std::memory_order_relaxed);
  g_fast_clock.anchors[(s + 1) & 1].window.store(0, std::memory_order_relaxed);
  g_fast_clock.seq.store(s + 1, std::memory_order_release);
  g_fast_clock.enabled.store(false, std::memory_order_relaxed);
}

}  // namespace

int64_t FastClockSlow() noexcept {
  int st = g_cal.state.load(std::memory_order_acquire);
  if (st == 2) return SystemNowNanos();
  if (g_cal.busy.exchange(true, std::memory_order_acquire)) return SystemNowNanos();
  int64_t ns = 0;
  uint64_t tsc = 0;
  ReadPair(ns, tsc);
  if (st == 0) {
    if (!KernelUsesTsc()) {
      g_cal.state.store(2, std::memory_order_release);
    } else {
      g_cal.first_ns.store(ns, std::memory_order_relaxed);
      g_cal.first_tsc.store(tsc, std::memory_order_relaxed);
      g_cal.state.store(1, std::memory_order_release);
    }
  } else {
    int64_t dn = ns - g_cal.first_ns.load(std::memory_order_relaxed);
    uint64_t dt = tsc - g_cal.first_tsc.load(std::memory_order_relaxed);
    const FastClockAnchor& cur =
        g_fast_clock.anchors[g_fast_clock.seq.load(std::memory_order_relaxed) & 1];
    uint64_t old_mult = cur.mult.load(std::memory_order_relaxed);
    bool stepped = false;
    if (g_fast_clock.enabled.load(std::memory_order_relaxed) && old_mult != 0) {
      __extension__ using U128 = unsigned __int128;
      uint64_t base_tsc = cur.base_tsc.load(std::memory_order_relaxed);
      int64_t predicted = cur.base_ns.load(std::memory_order_relaxed) +
                          static_cast<int64_t>((static_cast<U128>(tsc - base_tsc) * old_mult) >> 32);
      int64_t diff = ns - predicted;
      // The wall clock was stepped (settimeofday, NTP step): restart the long baseline.
      stepped = diff > 1'000'000 || diff < -1'000'000;
    }
    if (stepped) {
      g_cal.first_ns.store(ns, std::memory_order_relaxed);
      g_cal.first_tsc.store(tsc, std::memory_order_relaxed);
      Publish(ns, tsc, old_mult);
    } else if (dn >= kCalibrateAfterNs && dt > 0) {
      auto mult = static_cast<uint64_t>((static_cast<long double>(dn) * 4294967296.0L) /
                                        static_cast<long double>(dt));
      if (mult == 0) {
        g_cal.state.store(2, std::memory_order_release);
        Unpublish();
      } else {
        Publish(ns, tsc, mult);
      }
    } else if (dn < 0) {
      // The wall clock stepped back during calibration: start over.
      g_cal.first_ns.store(ns, std::memory_order_relaxed);
      g_cal.first_tsc.store(tsc, std::memory_order_relaxed);
    }
  }
  g_cal.busy.store(false, std::memory_order_release);
  return ns;
}
#else
int64_t FastClockSlow() noexcept { return SystemNowNanos(); }
#endif

}  // namespace otlp::trace::internal
