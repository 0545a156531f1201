#include "otlp/trace/internal/span_record.h"

#include <sys/random.h>

#include <chrono>
#include <fstream>
#include <new>
#include <string>
#include <thread>

#include "otlp/trace/internal/fast_clock.h"
#include "otlp/trace/internal/id_generator.h"

namespace otlp::trace::internal {

// ---- Arena ----

void* Arena::AllocateSlow(size_t n, size_t align) noexcept {
  if (n + align > kBlock) {
    // Oversized: its own block, freed at Reset.
    auto* p = new (std::nothrow) char[n + align];
    if (p == nullptr) return nullptr;
    large_.emplace_back(p);
    auto addr = reinterpret_cast<uintptr_t>(p);
    return p + (((addr + align - 1) & ~(uintptr_t{align} - 1)) - addr);
  }
  if (block_index_ == blocks_.size()) {
    auto* p = new (std::nothrow) char[kBlock];
    if (p == nullptr) return nullptr;
    blocks_.emplace_back(p);
  }
  cur_ = blocks_[block_index_++].get();
  cap_ = kBlock;
  used_ = 0;
  return Allocate(n, align);
}


size_t Arena::capacity() const noexcept { return kInline + blocks_.size() * kBlock; }

// ---- Per-thread record pool ----

namespace {

constexpr size_t kMaxPooled = 4096;
constexpr size_t kRefill = 64;

struct ThreadCache {
  std::vector<SpanRecord*> pool;
  std::shared_ptr<RecordSource> source;
  ~ThreadCache();
};

thread_local bool t_cache_dead = false;
thread_local ThreadCache t_cache;

ThreadCache::~ThreadCache() {
  t_cache_dead = true;
  for (SpanRecord* r : pool) delete r;
  pool.clear();
}

}  // namespace

SpanRecord* AcquireRecord() noexcept {
  if (t_cache_dead) [[unlikely]] return new (std::nothrow) SpanRecord;
  ThreadCache& c = t_cache;
  SpanRecord* r = nullptr;
  if (!c.pool.empty()) [[likely]] {
    r = c.pool.back();
    c.pool.pop_back();
    if (!c.pool.empty()) c.pool.back()->Prefetch();
  } else if (c.source) {
    SpanRecord* buf[kRefill];
    size_t n = c.source->TakeRecycled(buf, kRefill);
    if (n > 0) {
      r = buf[0];
      try {
        c.pool.insert(c.pool.end(), buf + 1, buf + n);
      } catch (...) {
        for (size_t i = 1; i < n; ++i) delete buf[i];
      }
    }
  }
  if (r == nullptr) return new (std::nothrow) SpanRecord;
  r->Reset();
  return r;
}

void ReleaseRecord(SpanRecord* rec) noexcept {
  if (t_cache_dead || t_cache.pool.size() >= kMaxPooled) {
    delete rec;
    return;
  }
  try {
    t_cache.pool.push_back(rec);
  } catch (...) {
    delete rec;
  }
}

void SetThreadRecordSource(std::shared_ptr<RecordSource> source) noexcept {
  if (t_cache_dead) return;
  t_cache.source = std::move(source);
}

// ---- Ids ----

void IdRng::Seed() noexcept {
  uint64_t seed = 0;
  if (getrandom(&seed, sizeof seed, 0) != static_cast<ssize_t>(sizeof seed) || seed == 0) {
    // Fall back to time, thread identity and address entropy.
    seed = static_cast<uint64_t>(SystemNowNanos()) ^
           (std::hash<std::thread::id>{}(std::this_thread::get_id()) << 17) ^
           reinterpret_cast<uintptr_t>(this) ^
           static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }
  state = seed;
  seeded = true;
}

// ---- Fast clock ----

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
  uint32_t s = g_fast_clock.seq.load(std::memory_order_relaxed);
  g_fast_clock.seq.store(s + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  g_fast_clock.base_ns.store(ns, std::memory_order_relaxed);
  g_fast_clock.base_tsc.store(tsc, std::memory_order_relaxed);
  g_fast_clock.mult.store(mult, std::memory_order_relaxed);
  g_fast_clock.refresh_tsc.store(tsc + refresh_ticks, std::memory_order_relaxed);
  g_fast_clock.seq.store(s + 2, std::memory_order_release);
  g_fast_clock.enabled.store(true, std::memory_order_relaxed);
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
    uint64_t old_mult = g_fast_clock.mult.load(std::memory_order_relaxed);
    bool stepped = false;
    if (g_fast_clock.enabled.load(std::memory_order_relaxed) && old_mult != 0) {
      __extension__ using U128 = unsigned __int128;
      uint64_t base_tsc = g_fast_clock.base_tsc.load(std::memory_order_relaxed);
      int64_t predicted = g_fast_clock.base_ns.load(std::memory_order_relaxed) +
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
        g_fast_clock.enabled.store(false, std::memory_order_relaxed);
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
