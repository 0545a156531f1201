#include "otlp/trace/internal/chunk_queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <thread>
#include <vector>

namespace otlp::trace::internal {
namespace {

// A clock for the chunk switches that advances by `g_step` at every read.
std::atomic<int64_t> g_now{1'000'000'000'000};
std::atomic<int64_t> g_step{0};
int64_t SteppedClock() noexcept {
  return g_now.fetch_add(g_step.load());
}

constexpr int64_t kFastStep = kFastSwitchNanos / 10;  // a switch every 1 ms: fast
constexpr int64_t kSlowStep = kFastSwitchNanos * 2;   // neither fast nor quiet

// Writes a block of `n` bytes (a multiple of 8, at least 8) holding `seq` and a pattern.
char* Write(ChunkQueue& q, size_t n, uint64_t seq) {
  if (!q.HasSpace()) return nullptr;
  char* b = q.Allocate(n);
  if (b == nullptr) return nullptr;
  std::memcpy(b, &seq, 8);
  std::memset(b + 8, static_cast<int>(seq & 0xff), n - 8);
  q.Push(b);
  return b;
}

bool Holds(const char* b, size_t n, uint64_t seq) {
  uint64_t got;
  std::memcpy(&got, b, 8);
  if (got != seq) return false;
  for (size_t i = 8; i < n; ++i) {
    if (static_cast<unsigned char>(b[i]) != (seq & 0xff)) return false;
  }
  return true;
}

// The export thread's part, done at once: pop everything, recycle every finished chunk.
// Returns the blocks popped.
std::vector<char*> Drain(ChunkQueue& q) {
  std::vector<char*> all;
  std::vector<char*> done;
  char* got[256];
  size_t n;
  while ((n = q.Pop(got, 256)) > 0) {
    for (size_t i = 0; i < n; ++i) {
      if (char* c = q.Finished(got[i])) done.push_back(c);
      all.push_back(got[i]);
    }
  }
  for (char* c : done) q.Recycle(c);
  return all;
}

// Blocks per chunk when each is `n` bytes.
constexpr size_t PerChunk(size_t n) {
  return (kChunkSize - kChunkHeader) / n;
}

TEST(ChunkQueueTest, BlocksComeOutInOrderWithTheirContents) {
  ChunkQueue q(10'000, 10'000, nullptr);
  std::vector<size_t> sizes;
  for (uint64_t i = 0; i < 3000; ++i) {
    const size_t n = 8 * (1 + i % 64);  // 8 .. 512 bytes
    ASSERT_NE(Write(q, n, i), nullptr);
    sizes.push_back(n);
  }
  EXPECT_EQ(q.Pending(), 3000u);
  std::vector<char*> got = Drain(q);
  ASSERT_EQ(got.size(), 3000u);
  for (uint64_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(reinterpret_cast<uintptr_t>(got[i]) % 8, 0u);
    ASSERT_TRUE(Holds(got[i], sizes[i], i)) << "block " << i;
    // Every block lies within the first kChunkSize bytes of its chunk.
    EXPECT_LE(got[i] + sizes[i], ChunkQueue::ChunkOf(got[i]) + kChunkSize);
  }
}

// The consumer learns that a chunk is finished from the first block of the next one, exactly
// once per chunk; the chunk being written is never reported.
TEST(ChunkQueueTest, FinishedReportsEachChunkOnceWhenTheNextOneBegins) {
  ChunkQueue q(10'000, 10'000, nullptr);
  constexpr size_t kBlock = 1024;
  const size_t blocks = 3 * PerChunk(kBlock) + 5;  // three full chunks and part of a fourth
  for (uint64_t i = 0; i < blocks; ++i) ASSERT_NE(Write(q, kBlock, i), nullptr);
  char* got[64];
  std::vector<char*> finished;
  char* prev = nullptr;
  size_t n;
  while ((n = q.Pop(got, 64)) > 0) {
    for (size_t i = 0; i < n; ++i) {
      char* done = q.Finished(got[i]);
      if (prev != nullptr && ChunkQueue::ChunkOf(prev) != ChunkQueue::ChunkOf(got[i])) {
        EXPECT_EQ(done, ChunkQueue::ChunkOf(prev));
      } else {
        EXPECT_EQ(done, nullptr);
      }
      if (done != nullptr) finished.push_back(done);
      prev = got[i];
    }
  }
  ASSERT_EQ(finished.size(), 3u);
  EXPECT_EQ(std::set<char*>(finished.begin(), finished.end()).size(), 3u);
  EXPECT_EQ(std::count(finished.begin(), finished.end(), ChunkQueue::ChunkOf(prev)), 0);
  EXPECT_EQ(q.bytes(), static_cast<int64_t>(4 * kChunkSize));
  for (char* c : finished) q.Recycle(c);  // kept idle for reuse: still this queue's memory
  EXPECT_EQ(q.bytes(), static_cast<int64_t>(4 * kChunkSize));
}

TEST(ChunkQueueTest, OversizedBlockGetsAChunkOfItsOwnThatIsFreedOnceFinished) {
  ChunkQueue q(100, 100, nullptr);
  ASSERT_NE(Write(q, 64, 0), nullptr);
  const int64_t small = q.bytes();
  constexpr size_t kLarge = 100 * 1024;
  char* large = Write(q, kLarge, 1);
  ASSERT_NE(large, nullptr);
  EXPECT_EQ(q.bytes(), small + static_cast<int64_t>(2 * kChunkSize));  // rounded up to 128 KiB
  EXPECT_LT(large, ChunkQueue::ChunkOf(large) + kChunkSize);  // starts within the first 64 KiB
  char* after = Write(q, 64, 2);  // the large chunk holds its one block only
  ASSERT_NE(after, nullptr);
  EXPECT_NE(ChunkQueue::ChunkOf(after), ChunkQueue::ChunkOf(large));
  char* got[4];
  ASSERT_EQ(q.Pop(got, 4), 3u);
  EXPECT_TRUE(Holds(got[1], kLarge, 1));
  EXPECT_EQ(q.Finished(got[0]), nullptr);
  char* first = q.Finished(got[1]);
  char* oversized = q.Finished(got[2]);
  EXPECT_EQ(oversized, ChunkQueue::ChunkOf(large));
  q.Recycle(first);
  q.Recycle(oversized);
  // The first chunk is idle for reuse; the oversized one was freed.
  EXPECT_EQ(q.bytes(), 2 * small);
}

// Returned chunks are written again in the order they were finished: the one the consumer read
// longest ago first. (A thread that is not fast takes one as soon as one is back.)
TEST(ChunkQueueTest, ReusesTheChunkFinishedLongestAgoFirst) {
  g_step = kSlowStep;
  ChunkQueue q(10'000, 10'000, nullptr, &SteppedClock);
  constexpr size_t kBlock = 4096;
  std::vector<char*> chunks;  // in the order the producer entered them
  uint64_t seq = 0;
  auto fill_chunk = [&] {
    for (size_t i = 0; i < PerChunk(kBlock); ++i) {
      char* b = Write(q, kBlock, seq++);
      ASSERT_NE(b, nullptr);
      if (i == 0) chunks.push_back(ChunkQueue::ChunkOf(b));
    }
  };
  for (int i = 0; i < 4; ++i) fill_chunk();  // A B C D
  EXPECT_EQ(Drain(q).size(), seq);           // A, B, C finished and returned, in that order
  const int64_t bytes = q.bytes();
  for (int i = 0; i < 3; ++i) fill_chunk();
  ASSERT_EQ(chunks.size(), 7u);
  EXPECT_EQ(chunks[4], chunks[0]);
  EXPECT_EQ(chunks[5], chunks[1]);
  EXPECT_EQ(chunks[6], chunks[2]);
  EXPECT_EQ(q.bytes(), bytes);  // nothing new allocated
}

// Runs `switches` chunk switches, each chunk consumed and its predecessor returned at once (an
// export thread that keeps up); returns the chunks in the order the producer entered them.
std::vector<char*> Churn(ChunkQueue& q, size_t switches, uint64_t& seq) {
  constexpr size_t kBlock = 8192;
  std::vector<char*> entered;
  for (size_t s = 0; s < switches; ++s) {
    for (size_t i = 0; i < PerChunk(kBlock); ++i) {
      char* b = Write(q, kBlock, seq++);
      if (b == nullptr) return entered;
      if (i == 0) entered.push_back(ChunkQueue::ChunkOf(b));
    }
    Drain(q);
  }
  return entered;
}

// Chunks entered since the previous use of the same chunk, for each reuse after `from`.
std::vector<size_t> ReuseDistances(const std::vector<char*>& entered, size_t from) {
  std::map<char*, size_t> last;
  std::vector<size_t> distances;
  for (size_t i = 0; i < entered.size(); ++i) {
    auto it = last.find(entered[i]);
    if (it != last.end() && i >= from) distances.push_back(i - it->second);
    last[entered[i]] = i;
  }
  return distances;
}

// A thread that switches chunks fast (kFastIdleDepth switches in a row, each within
// kFastSwitchNanos) writes a chunk again only once kFastIdleDepth others were finished after it.
TEST(ChunkQueueTest, FastThreadReusesAChunkOnlyAfterMoreThanTheFastDepth) {
  g_step = kFastStep;
  ChunkQueue q(100'000, 100'000, nullptr, &SteppedClock);
  uint64_t seq = 0;
  std::vector<char*> entered = Churn(q, 200, seq);
  ASSERT_EQ(entered.size(), 200u);
  std::vector<size_t> distances = ReuseDistances(entered, 2 * kFastIdleDepth);
  ASSERT_FALSE(distances.empty());  // chunks are reused, not allocated forever
  for (size_t d : distances) EXPECT_GT(d, kFastIdleDepth);
  const size_t distinct = std::set<char*>(entered.begin(), entered.end()).size();
  EXPECT_LE(distinct, kFastIdleDepth + 4);
  EXPECT_EQ(q.bytes(), static_cast<int64_t>(distinct * kChunkSize));
}

// The same churn at a slower pace reuses chunks as soon as they are back: two or three chunks in
// all.
TEST(ChunkQueueTest, SlowThreadReusesChunksAtOnce) {
  g_step = kSlowStep;
  ChunkQueue q(100'000, 100'000, nullptr, &SteppedClock);
  uint64_t seq = 0;
  std::vector<char*> entered = Churn(q, 200, seq);
  ASSERT_EQ(entered.size(), 200u);
  EXPECT_LE(std::set<char*>(entered.begin(), entered.end()).size(), 3u);
  for (size_t d : ReuseDistances(entered, 0)) EXPECT_LE(d, 2u);
}

// A switch a second or more after the previous one finds the thread quiet: it keeps kSlowIdle
// idle chunks and frees the rest.
TEST(ChunkQueueTest, QuietThreadGivesBackItsIdleChunks) {
  g_step = kFastStep;
  ChunkQueue q(100'000, 100'000, nullptr, &SteppedClock);
  uint64_t seq = 0;
  Churn(q, 100, seq);
  const int64_t busy = q.bytes();
  EXPECT_GT(busy, static_cast<int64_t>(kFastIdleDepth * kChunkSize));
  g_now += kQuietSwitchNanos;
  g_step = kSlowStep;
  Churn(q, 1, seq);
  // Kept: kSlowIdle idle ones (one of them now written), the chunk left behind and the one
  // being written.
  EXPECT_LE(q.bytes(), static_cast<int64_t>((kSlowIdle + 2) * kChunkSize)) << "busy " << busy;
  EXPECT_GT(q.bytes(), 0);
}

TEST(ChunkQueueTest, ChunksOfAClosedProducerAreFreedNotReturned) {
  ChunkQueue q(10'000, 10'000, nullptr);
  for (uint64_t i = 0; i < PerChunk(1024) + 1; ++i) ASSERT_NE(Write(q, 1024, i), nullptr);
  EXPECT_EQ(q.bytes(), static_cast<int64_t>(2 * kChunkSize));
  EXPECT_FALSE(q.producer_closed());
  q.CloseProducer();
  EXPECT_TRUE(q.producer_closed());
  Drain(q);  // the first chunk is finished: freed, not kept idle
  EXPECT_EQ(q.bytes(), static_cast<int64_t>(kChunkSize));
}

// Push tells the producer when notify_at() blocks are pending (as far as it knows).
TEST(ChunkQueueTest, PushReportsReachingTheNotifyMark) {
  ChunkQueue q(100, 3, nullptr);
  auto push = [&](uint64_t seq) {
    char* b = q.Allocate(64);
    std::memcpy(b, &seq, 8);
    return q.Push(b);
  };
  EXPECT_FALSE(push(0));
  EXPECT_FALSE(push(1));
  EXPECT_TRUE(push(2));
  q.set_notify_at(5);
  EXPECT_EQ(q.notify_at(), 5u);
  EXPECT_FALSE(push(3));
  EXPECT_EQ(q.ProducerPending(), 4u);
  EXPECT_TRUE(push(4));
}

std::vector<uint64_t> g_discarded;
void RecordDiscard(char* block) noexcept {
  uint64_t seq;
  std::memcpy(&seq, block, 8);
  g_discarded.push_back(seq);
}

TEST(ChunkQueueTest, DestructorDiscardsTheBlocksStillQueued) {
  g_discarded.clear();
  {
    ChunkQueue q(100, 100, &RecordDiscard);
    for (uint64_t i = 0; i < 12; ++i) ASSERT_NE(Write(q, 256, i), nullptr);
    char* got[5];
    ASSERT_EQ(q.Pop(got, 5), 5u);
  }
  EXPECT_EQ(g_discarded, (std::vector<uint64_t>{5, 6, 7, 8, 9, 10, 11}));
}

// A producer and a consumer thread with the real clock: every block arrives once, in order and
// intact, while chunks go back and forth (run under TSan by the sanitizer pass: the chunk reuse
// must publish the consumer's reads before the producer's new writes).
TEST(ChunkQueueTest, TwoThreadsStress) {
  constexpr uint64_t kBlocks = 300'000;
  ChunkQueue q(4096, 4096, nullptr);
  auto size_of = [](uint64_t seq) { return size_t{8} * (1 + (seq * 37) % 80); };
  std::thread producer([&] {
    for (uint64_t i = 0; i < kBlocks; ++i) {
      while (!q.HasSpace()) std::this_thread::yield();
      char* b = q.Allocate(size_of(i));
      if (b == nullptr) std::abort();
      std::memcpy(b, &i, 8);
      std::memset(b + 8, static_cast<int>(i & 0xff), size_of(i) - 8);
      q.Push(b);
    }
  });
  uint64_t next = 0;
  bool intact = true;
  char* got[256];
  std::vector<char*> done;
  while (next < kBlocks) {
    const size_t n = q.Pop(got, 256);
    if (n == 0) {
      std::this_thread::yield();
      continue;
    }
    for (size_t i = 0; i < n; ++i) {
      if (char* c = q.Finished(got[i])) done.push_back(c);
      intact = intact && Holds(got[i], size_of(next), next);
      ++next;
    }
    for (char* c : done) q.Recycle(c);
    done.clear();
  }
  producer.join();
  EXPECT_TRUE(intact);
  // Whatever the pace, a queue keeps a bounded number of chunks.
  EXPECT_LE(q.bytes(), static_cast<int64_t>((2 * kFreeChunks + 3) * kChunkSize));
}

}  // namespace
}  // namespace otlp::trace::internal
