#include "otlp/trace/internal/fast_clock.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

namespace otlp::trace::internal {
namespace {

// The fast clock must agree with CLOCK_REALTIME and never run backwards on one thread, through
// calibration and re-anchoring. (Correctness, not speed: speed lives in bench/.)
TEST(FastClockTest, TracksTheSystemClockAndIsMonotonicPerThread) {
  int64_t prev = NowUnixNanos();
  int64_t max_gap = 0;
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(600);
  int64_t backwards = 0;
  while (std::chrono::steady_clock::now() < until) {
    int64_t sys_before = SystemNowNanos();
    int64_t fast = NowUnixNanos();
    int64_t sys_after = SystemNowNanos();
    // Within 2 ms of the system clock reading around it (re-anchoring may shift by µs).
    max_gap = std::max(max_gap, std::max(sys_before - fast, fast - sys_after));
    if (fast < prev - 100'000) ++backwards;  // allow sub-0.1 ms re-anchoring steps
    prev = fast;
  }
  EXPECT_LT(max_gap, 2'000'000);
  EXPECT_EQ(backwards, 0);
}

TEST(FastClockTest, ConcurrentReadersSeeSaneValues) {
  std::vector<std::thread> ts;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&] {
      for (int i = 0; i < 200000; ++i) {
        int64_t a = SystemNowNanos();
        int64_t f = NowUnixNanos();
        if (f < a - 2'000'000 || f > SystemNowNanos() + 2'000'000) bad.fetch_add(1);
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace otlp::trace::internal
