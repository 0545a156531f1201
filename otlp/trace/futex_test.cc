#include "otlp/trace/internal/futex.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace otlp::trace::internal {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(FutexTest, WaitWithoutWakeReturnsFalseAfterTheTimeout) {
  Futex f;
  const uint32_t seen = f.Load();
  EXPECT_FALSE(f.Wait(seen, milliseconds(1)));
  EXPECT_EQ(f.Load(), seen);
}

TEST(FutexTest, ZeroTimeoutReturnsAtOnce) {
  Futex f;
  EXPECT_FALSE(f.Wait(f.Load(), std::chrono::nanoseconds(0)));
  EXPECT_FALSE(f.Wait(f.Load(), std::chrono::nanoseconds(-5)));
}

TEST(FutexTest, EachWakeAdvancesTheCounter) {
  Futex f;
  const uint32_t before = f.Load();
  f.Wake();
  f.Wake();
  f.Wake();
  EXPECT_EQ(f.Load() - before, 3u);
}

// A wake that comes between Load and Wait is not lost: the wait returns at once (an hour-long
// timeout would otherwise hang the test).
TEST(FutexTest, WakeBeforeTheWaitIsNotLost) {
  Futex f;
  const uint32_t seen = f.Load();
  f.Wake();
  EXPECT_TRUE(f.Wait(seen, std::chrono::hours(1)));
}

// A sleeping thread is woken by another.
TEST(FutexTest, WakeEndsAWaitOnAnotherThread) {
  Futex f;
  std::atomic<bool> loaded{false};
  std::atomic<bool> woken{false};
  std::thread sleeper([&] {
    const uint32_t seen = f.Load();
    loaded.store(true);
    // Early returns without a wake (signals) are allowed: wait again, up to a generous bound.
    for (int i = 0; i < 20 && !woken.load(); ++i) woken.store(f.Wait(seen, seconds(30)));
  });
  while (!loaded.load()) std::this_thread::yield();
  f.Wake();
  sleeper.join();
  EXPECT_TRUE(woken.load());
}

// Many wakers, one sleeper that waits for all their wakes one step at a time: none is lost and
// nobody hangs.
TEST(FutexTest, ManyWakersOneSleeper) {
  constexpr uint32_t kWakers = 4, kWakes = 2000;
  Futex f;
  const uint32_t start = f.Load();
  std::vector<std::thread> wakers;
  for (uint32_t t = 0; t < kWakers; ++t) {
    wakers.emplace_back([&] {
      for (uint32_t i = 0; i < kWakes; ++i) f.Wake();
    });
  }
  uint32_t seen = f.Load();
  int waits = 0;
  while (seen - start < kWakers * kWakes && waits < 1'000'000) {
    f.Wait(seen, milliseconds(100));
    seen = f.Load();
    ++waits;
  }
  for (auto& t : wakers) t.join();
  EXPECT_EQ(f.Load() - start, kWakers * kWakes);
}

}  // namespace
}  // namespace otlp::trace::internal
