#include "otlp/trace/internal/spsc_ring.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace otlp::trace::internal {
namespace {

TEST(SpscRingTest, PopsInPushOrder) {
  SpscRing<int> ring(8);
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(ring.Push(i));
  EXPECT_EQ(ring.Pending(), 5u);
  int out[8] = {};
  ASSERT_EQ(ring.Pop(out, 3), 3u);
  EXPECT_EQ(out[0], 1);
  EXPECT_EQ(out[1], 2);
  EXPECT_EQ(out[2], 3);
  ASSERT_EQ(ring.Pop(out, 8), 2u);
  EXPECT_EQ(out[0], 4);
  EXPECT_EQ(out[1], 5);
}

TEST(SpscRingTest, EmptyRingPopsNothing) {
  SpscRing<int> ring(4);
  int out[4];
  EXPECT_EQ(ring.Pending(), 0u);
  EXPECT_EQ(ring.Pop(out, 4), 0u);
  EXPECT_EQ(ring.ProducerPending(), 0u);
}

// The capacity is exact although the slots are a power of two: a ring of 5 has 8 slots and
// still refuses a sixth item.
TEST(SpscRingTest, FullRingRefusesUntilTheConsumerPops) {
  SpscRing<int> ring(5);
  EXPECT_EQ(ring.capacity(), 5u);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(ring.Push(i));
  EXPECT_FALSE(ring.HasSpace());
  EXPECT_FALSE(ring.Push(99));
  EXPECT_EQ(ring.Pending(), 5u);
  int out[1];
  ASSERT_EQ(ring.Pop(out, 1), 1u);
  EXPECT_EQ(out[0], 0);
  EXPECT_TRUE(ring.HasSpace());
  EXPECT_TRUE(ring.Push(5));
  EXPECT_FALSE(ring.Push(6));
  int rest[5];
  ASSERT_EQ(ring.Pop(rest, 5), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(rest[i], i + 1);
}

TEST(SpscRingTest, WrapsAroundManyTimes) {
  SpscRing<uint64_t> ring(3);  // 4 slots: the indices wrap every four items
  uint64_t next_in = 0, next_out = 0;
  for (int round = 0; round < 1000; ++round) {
    const int pushes = 1 + round % 3;
    for (int i = 0; i < pushes; ++i) ASSERT_TRUE(ring.Push(next_in++));
    uint64_t out[3];
    const size_t n = ring.Pop(out, static_cast<size_t>(1 + (round * 7) % 3));
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], next_out++);
    // Keep at most one behind so the ring never overflows.
    while (ring.Pending() > 1) {
      ASSERT_EQ(ring.Pop(out, 1), 1u);
      ASSERT_EQ(out[0], next_out++);
    }
  }
  uint64_t out[3];
  const size_t n = ring.Pop(out, 3);
  for (size_t i = 0; i < n; ++i) EXPECT_EQ(out[i], next_out++);
  EXPECT_EQ(next_out, next_in);
}

// PushUnchecked counts from the last consumer position the producer read (no shared read): it
// overestimates until the producer looks again.
TEST(SpscRingTest, PushReportsPendingAsTheProducerLastSawIt) {
  SpscRing<int> ring(16);
  ASSERT_TRUE(ring.HasSpace());
  EXPECT_EQ(ring.PushUnchecked(1), 1u);
  EXPECT_EQ(ring.PushUnchecked(2), 2u);
  EXPECT_EQ(ring.PushUnchecked(3), 3u);
  int out[2];
  ASSERT_EQ(ring.Pop(out, 2), 2u);
  EXPECT_EQ(ring.PushUnchecked(4), 4u);  // the producer has not seen the pops yet
  EXPECT_EQ(ring.ProducerPending(), 2u);
  EXPECT_EQ(ring.PushUnchecked(5), 3u);  // now it has
}

// One producer, one consumer, a small ring that is full and empty many times: every item
// arrives once, in order, and what an item points to is visible to the consumer (run under
// TSan by the sanitizer pass).
TEST(SpscRingTest, TwoThreadsStress) {
  constexpr uint64_t kItems = 200'000;
  std::vector<uint64_t> payload(kItems);
  SpscRing<const uint64_t*> ring(64);
  std::thread producer([&] {
    for (uint64_t i = 0; i < kItems; ++i) {
      payload[i] = i * 7 + 1;  // written before the push publishes it
      while (!ring.Push(&payload[i])) std::this_thread::yield();
    }
  });
  uint64_t next = 0;
  bool in_order = true;
  const uint64_t* got[16];
  while (next < kItems) {
    const size_t n = ring.Pop(got, 16);
    if (n == 0) {
      std::this_thread::yield();
      continue;
    }
    for (size_t i = 0; i < n; ++i) {
      in_order = in_order && got[i] == &payload[next] && *got[i] == next * 7 + 1;
      ++next;
    }
  }
  producer.join();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(ring.Pending(), 0u);
}

}  // namespace
}  // namespace otlp::trace::internal
