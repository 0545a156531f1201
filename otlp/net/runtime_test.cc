#include "otlp/net/runtime.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "otlp/core/log.h"

namespace otlp::net {
namespace {

constexpr auto kWait = std::chrono::seconds(10);

// Promises set on an I/O thread are shared with it, so the setter never touches a destroyed one.
template <typename T>
using SharedPromise = std::shared_ptr<std::promise<T>>;

template <typename T>
SharedPromise<T> MakePromise() {
  return std::make_shared<std::promise<T>>();
}

TEST(RuntimeTest, PostRunsOnAnIoThread) {
  auto runtime = Runtime::Create();
  EXPECT_FALSE(runtime->InIoThread());
  auto in_io = MakePromise<bool>();
  runtime->Post([in_io, runtime = runtime.get()] { in_io->set_value(runtime->InIoThread()); });
  auto future = in_io->get_future();
  ASSERT_EQ(future.wait_for(kWait), std::future_status::ready);
  EXPECT_TRUE(future.get());
}

TEST(RuntimeTest, InIoThreadIsPerRuntime) {
  auto a = Runtime::Create();
  auto b = Runtime::Create();
  auto b_thinks_in_io = MakePromise<bool>();
  a->Post([b_thinks_in_io, b] { b_thinks_in_io->set_value(b->InIoThread()); });
  auto future = b_thinks_in_io->get_future();
  ASSERT_EQ(future.wait_for(kWait), std::future_status::ready);
  EXPECT_FALSE(future.get());
}

TEST(RuntimeTest, SeveralThreads) {
  auto runtime = Runtime::Create({.threads = 3, .thread_name = "test-io"});
  EXPECT_EQ(runtime->thread_count(), 3);
  EXPECT_EQ(Runtime::Create({.threads = 0})->thread_count(), 1);
}

TEST(RuntimeTest, DestructorRunsQueuedWork) {
  auto ran = std::make_shared<std::atomic<int>>(0);
  {
    auto runtime = Runtime::Create();
    for (int i = 0; i < 100; ++i) runtime->Post([ran] { ran->fetch_add(1); });
  }
  EXPECT_EQ(ran->load(), 100);
}

TEST(RuntimeTest, ExceptionInHandlerIsContained) {
  SetLogLevel(LogLevel::kNone);
  auto runtime = Runtime::Create();
  runtime->Post([] { throw std::runtime_error("boom"); });
  auto after = MakePromise<void>();
  runtime->Post([after] { after->set_value(); });
  EXPECT_EQ(after->get_future().wait_for(kWait), std::future_status::ready);
  SetLogLevel(LogLevel::kInfo);
}

TEST(RuntimeTest, LastReferenceDroppedOnItsOwnThread) {
  auto runtime = Runtime::Create();
  Runtime* raw = runtime.get();
  // The posted task ends up holding the only reference.
  auto holder = std::make_shared<std::shared_ptr<Runtime>>(std::move(runtime));
  auto go = MakePromise<void>();
  auto destroyed = MakePromise<void>();
  std::shared_future<void> go_future = go->get_future().share();
  raw->Post([holder, go_future, destroyed] {
    go_future.wait();
    holder->reset();  // ~Runtime on its own I/O thread: must not deadlock
    destroyed->set_value();
  });
  holder.reset();
  go->set_value();
  EXPECT_EQ(destroyed->get_future().wait_for(kWait), std::future_status::ready);
}

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::microseconds;

// Counts calls and lets a test wait for a number of them.
class CallCounter {
 public:
  void Hit() {
    std::lock_guard<std::mutex> lock(mu_);
    ++calls_;
    cv_.notify_all();
  }
  bool WaitFor(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return calls_ >= n; });
  }
  int calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int calls_ = 0;
};

TEST(TimerTest, AfterRunsOnceOnAnIoThread) {
  auto runtime = Runtime::Create();
  auto in_io = MakePromise<bool>();
  Timer timer = runtime->After(milliseconds(1),
                               [in_io, rt = runtime.get()] { in_io->set_value(rt->InIoThread()); });
  auto future = in_io->get_future();
  ASSERT_EQ(future.wait_for(kWait), std::future_status::ready);
  EXPECT_TRUE(future.get());
  EXPECT_FALSE(timer.pending());
  EXPECT_FALSE(timer.Cancel());  // it already ran
}

TEST(TimerTest, AtAPassedTimeRunsAtOnceAndZeroDelayToo) {
  auto runtime = Runtime::Create();
  CallCounter counter;
  Timer past = runtime->At(Runtime::Clock::now() - hours(1), [&] { counter.Hit(); });
  Timer zero = runtime->After(milliseconds(0), [&] { counter.Hit(); });
  Timer negative = runtime->After(milliseconds(-5), [&] { counter.Hit(); });
  EXPECT_TRUE(counter.WaitFor(3));
}

TEST(TimerTest, CancelPreventsTheCallAndReleasesTheCallback) {
  auto runtime = Runtime::Create();
  auto captured = std::make_shared<int>(7);
  std::weak_ptr<int> watch = captured;
  std::atomic<bool> ran{false};
  Timer timer = runtime->After(hours(1), [&ran, captured] { ran = true; });
  captured.reset();
  EXPECT_TRUE(timer.pending());
  EXPECT_TRUE(timer.Cancel());
  EXPECT_FALSE(timer.pending());
  EXPECT_FALSE(timer.Cancel());  // already cancelled
  EXPECT_TRUE(watch.expired());  // what the callback held is gone at once
  EXPECT_FALSE(ran);
}

TEST(TimerTest, DestroyingOrReplacingTheHandleCancels) {
  auto runtime = Runtime::Create();
  std::atomic<int> dropped{0};
  CallCounter kept;
  {
    Timer timer = runtime->After(hours(1), [&] { ++dropped; });
    (void)runtime->After(hours(1), [&] { ++dropped; });  // a discarded handle cancels at once
    timer = runtime->After(milliseconds(1), [&] { kept.Hit(); });  // replaces the first
    EXPECT_TRUE(kept.WaitFor(1));
  }
  // The replaced and the discarded timers never ran; a fresh one-shot proves the runtime still
  // processes timers, so they had every chance to.
  CallCounter later;
  Timer probe = runtime->After(milliseconds(5), [&] { later.Hit(); });
  EXPECT_TRUE(later.WaitFor(1));
  EXPECT_EQ(dropped.load(), 0);
  Timer empty;
  EXPECT_FALSE(empty.pending());
  EXPECT_FALSE(empty.Cancel());
}

TEST(TimerTest, EveryRepeatsUntilCancelledFromItsOwnCallback) {
  auto runtime = Runtime::Create();
  CallCounter counter;
  Timer timer;
  std::mutex timer_mu;  // the test thread assigns `timer` while the callback may read it
  std::unique_lock<std::mutex> assigning(timer_mu);
  timer = runtime->Every(milliseconds(1), [&] {
    counter.Hit();
    if (counter.calls() == 5) {
      std::lock_guard<std::mutex> lock(timer_mu);
      EXPECT_TRUE(timer.Cancel());
    }
  });
  assigning.unlock();
  ASSERT_TRUE(counter.WaitFor(5));
  // Let any (wrong) further tick happen: a one-shot scheduled after a few periods runs after it.
  CallCounter probe;
  Timer after = runtime->After(milliseconds(20), [&] { probe.Hit(); });
  ASSERT_TRUE(probe.WaitFor(1));
  EXPECT_EQ(counter.calls(), 5);
  std::lock_guard<std::mutex> lock(timer_mu);
  EXPECT_FALSE(timer.pending());
}

TEST(TimerTest, CallsOfOnePeriodicTimerNeverOverlap) {
  // Declared before the runtime: Cancel() does not wait for a call in progress, the runtime's
  // destructor does, so what the callback uses must outlive the runtime.
  std::atomic<int> inside{0};
  std::atomic<bool> overlapped{false};
  CallCounter counter;
  auto runtime = Runtime::Create({.threads = 4});
  Timer timer = runtime->Every(milliseconds(1), [&] {
    if (inside.fetch_add(1) != 0) overlapped = true;
    std::this_thread::sleep_for(milliseconds(3));  // longer than the period
    inside.fetch_sub(1);
    counter.Hit();
  });
  ASSERT_TRUE(counter.WaitFor(10));
  timer.Cancel();
  EXPECT_FALSE(overlapped);
}

TEST(TimerTest, ExceptionInACallbackIsContainedAndThePeriodContinues) {
  SetLogLevel(LogLevel::kNone);
  CallCounter counter;  // outlives the runtime (see above)
  auto runtime = Runtime::Create();
  Timer timer = runtime->Every(milliseconds(1), [&] {
    counter.Hit();
    throw std::runtime_error("tick failed");
  });
  EXPECT_TRUE(counter.WaitFor(3));
  timer.Cancel();
  SetLogLevel(LogLevel::kInfo);
}

TEST(TimerTest, PendingTimersDieWithTheRuntimeAndTheHandleOutlivesIt) {
  auto captured = std::make_shared<int>(1);
  std::weak_ptr<int> watch = captured;
  std::atomic<bool> ran{false};
  Timer timer;
  Timer periodic;
  {
    auto runtime = Runtime::Create();
    timer = runtime->After(hours(1), [&ran, captured] { ran = true; });
    periodic = runtime->Every(hours(1), [&ran] { ran = true; });
    captured.reset();
  }  // ~Runtime cancels both rather than waiting for them
  EXPECT_FALSE(timer.pending());
  EXPECT_FALSE(periodic.pending());
  EXPECT_TRUE(watch.expired());
  EXPECT_FALSE(timer.Cancel());  // safe after the runtime is gone
  EXPECT_FALSE(ran);
}

TEST(TimerTest, CallbackMayDestroyItsOwnHandle) {
  auto runtime = Runtime::Create();
  auto holder = std::make_shared<std::unique_ptr<Timer>>(std::make_unique<Timer>());
  auto done = MakePromise<void>();
  std::mutex mu;
  {
    std::lock_guard<std::mutex> lock(mu);
    **holder = runtime->After(milliseconds(1), [holder, done, &mu] {
      std::lock_guard<std::mutex> inner(mu);
      holder->reset();  // destroys the running timer's handle
      done->set_value();
    });
  }
  EXPECT_EQ(done->get_future().wait_for(kWait), std::future_status::ready);
}

TEST(CallerDrivenRuntimeTest, WorkRunsOnlyInsideDriveOnTheDrivingThread) {
  auto runtime = Runtime::CreateCallerDriven();
  EXPECT_TRUE(runtime->caller_driven());
  EXPECT_EQ(runtime->thread_count(), 0);
  std::atomic<bool> ran{false};
  std::thread::id where;
  bool in_io = false;
  runtime->Post([&] {
    where = std::this_thread::get_id();
    in_io = runtime->InIoThread();
    ran = true;
  });
  EXPECT_FALSE(ran.load());  // nobody drives yet
  EXPECT_TRUE(runtime->Drive([&] { return ran.load(); }));
  EXPECT_EQ(where, std::this_thread::get_id());
  EXPECT_TRUE(in_io);
  EXPECT_FALSE(runtime->InIoThread());  // only while driving
  // A timer fires while someone drives; a deadline bounds the drive.
  std::atomic<bool> fired{false};
  Timer timer = runtime->After(milliseconds(5), [&] { fired = true; });
  EXPECT_TRUE(runtime->Drive([&] { return fired.load(); }, Runtime::Clock::now() + kWait));
  EXPECT_FALSE(runtime->Drive([] { return false; }, Runtime::Clock::now() + milliseconds(5)));
  // Poll runs what is ready and returns.
  int polled = 0;
  for (int i = 0; i < 3; ++i) runtime->Post([&] { ++polled; });
  runtime->Poll();
  EXPECT_EQ(polled, 3);
}

TEST(CallerDrivenRuntimeTest, SeveralDriversShareTheWork) {
  auto runtime = Runtime::CreateCallerDriven();
  constexpr int kThreads = 4;
  constexpr int kEach = 200;
  std::atomic<int> finished{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        auto done = std::make_shared<std::atomic<bool>>(false);
        // Completed by a timer: whoever drives at that moment runs it.
        Timer timer = runtime->After(microseconds(50), [done] { done->store(true); });
        if (runtime->Drive([&] { return done->load(); }, Runtime::Clock::now() + kWait)) {
          finished.fetch_add(1);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(finished.load(), kThreads * kEach);
}

TEST(CallerDrivenRuntimeTest, DriveFromInsideItsOwnWorkRunsNothing) {
  auto runtime = Runtime::CreateCallerDriven();
  bool inner = true;
  std::atomic<bool> done{false};
  runtime->Post([&] {
    inner = runtime->Drive([] { return false; });  // would recurse: returns done() at once
    done = true;
  });
  EXPECT_TRUE(runtime->Drive([&] { return done.load(); }));
  EXPECT_FALSE(inner);
  // On a runtime with threads Drive only reports done().
  auto threaded = Runtime::Create();
  EXPECT_FALSE(threaded->caller_driven());
  EXPECT_FALSE(threaded->Drive([] { return false; }));
  EXPECT_TRUE(threaded->Drive([] { return true; }));
}

TEST(CallerDrivenRuntimeTest, DestructorRunsWhatIsQueued) {
  auto ran = std::make_shared<std::atomic<int>>(0);
  {
    auto runtime = Runtime::CreateCallerDriven();
    for (int i = 0; i < 10; ++i) runtime->Post([ran] { ran->fetch_add(1); });
  }
  EXPECT_EQ(ran->load(), 10);
}

}  // namespace
}  // namespace otlp::net
