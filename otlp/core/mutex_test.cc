#include "otlp/core/internal/mutex.h"

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <thread>
#include <vector>

namespace otlp::internal {
namespace {

// A small producer/consumer queue written the way the library's own classes are, so that the
// clang builds check the annotations compile and hold.
class Queue {
 public:
  void Push(int v) {
    MutexLock lock(mu_);
    items_.push_back(v);
    cv_.NotifyOne();
  }
  int Pop() {
    MutexLock lock(mu_);
    cv_.Wait(lock, [&]() OTLP_REQUIRES(mu_) { return !items_.empty(); });
    const int v = items_.front();
    items_.pop_front();
    return v;
  }
  bool PopWithin(std::chrono::milliseconds timeout, int& v) {
    MutexLock lock(mu_);
    if (!cv_.WaitFor(lock, timeout, [&]() OTLP_REQUIRES(mu_) { return !items_.empty(); })) {
      return false;
    }
    v = items_.front();
    items_.pop_front();
    return true;
  }

 private:
  Mutex mu_;
  CondVar cv_;
  std::deque<int> items_ OTLP_GUARDED_BY(mu_);
};

TEST(Mutex, ProducerAndConsumerHandOverEveryItemInOrder) {
  Queue q;
  constexpr int kItems = 10000;
  std::thread producer([&] {
    for (int i = 0; i < kItems; ++i) q.Push(i);
  });
  long long sum = 0;
  for (int i = 0; i < kItems; ++i) {
    const int v = q.Pop();
    EXPECT_EQ(v, i);
    sum += v;
  }
  producer.join();
  EXPECT_EQ(sum, static_cast<long long>(kItems) * (kItems - 1) / 2);
}

TEST(Mutex, TimedWaitReportsTimeoutAndSuccess) {
  Queue q;
  int v = -1;
  EXPECT_FALSE(q.PopWithin(std::chrono::milliseconds(1), v));
  q.Push(7);
  EXPECT_TRUE(q.PopWithin(std::chrono::milliseconds(1), v));
  EXPECT_EQ(v, 7);
}

struct Counter {
  Mutex mu;
  int value OTLP_GUARDED_BY(mu) = 0;
};

TEST(Mutex, LockCanBeReleasedAndRetakenInScope) {
  Counter c;
  MutexLock lock(c.mu);
  c.value = 1;
  lock.Unlock();
  std::thread other([&] {
    MutexLock inner(c.mu);
    c.value = 2;
  });
  other.join();
  lock.Lock();
  EXPECT_EQ(c.value, 2);
}

}  // namespace
}  // namespace otlp::internal
