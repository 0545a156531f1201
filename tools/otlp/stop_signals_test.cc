// Unit tests of StopSignals: signals sent to this process (raise, kill) and Notify() from another
// thread wake Wait(); the handlers and the signal mask are restored afterwards.
#include "stop_signals.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "tests/support/status_matchers.h"

namespace otlp::cli {
namespace {

using namespace std::chrono_literals;
using Event = StopSignals::Event;

// Generous: Wait() returns as soon as the event is there; this only keeps a bug from hanging.
StopSignals::Clock::time_point Later() {
  return StopSignals::Clock::now() + 60s;
}

bool Blocked(int sig) {
  sigset_t mask;
  pthread_sigmask(SIG_BLOCK, nullptr, &mask);
  return sigismember(&mask, sig) == 1;
}

TEST(StopSignalsTest, SignalRaisedBeforeWaitIsReportedOnce) {
  ASSERT_OK_AND_ASSIGN(auto stop, StopSignals::Install());
  EXPECT_TRUE(Blocked(SIGINT));
  EXPECT_TRUE(Blocked(SIGTERM));
  EXPECT_EQ(stop->count(), 0);
  // Blocked, so it stays pending until Wait() unblocks it.
  ASSERT_EQ(raise(SIGINT), 0);
  EXPECT_EQ(stop->Wait(Later()), Event::kSignal);
  EXPECT_EQ(stop->count(), 1);
  EXPECT_EQ(stop->first_signal(), SIGINT);
  EXPECT_EQ(stop->last_signal(), SIGINT);
  // Already reported: nothing new until the deadline.
  EXPECT_EQ(stop->Wait(StopSignals::Clock::now()), Event::kDeadline);
}

TEST(StopSignalsTest, ProcessDirectedSignalsAreCountedInOrder) {
  ASSERT_OK_AND_ASSIGN(auto stop, StopSignals::Install());
  ASSERT_EQ(kill(getpid(), SIGTERM), 0);
  EXPECT_EQ(stop->Wait(Later()), Event::kSignal);
  ASSERT_EQ(kill(getpid(), SIGINT), 0);
  EXPECT_EQ(stop->Wait(Later()), Event::kSignal);
  EXPECT_EQ(stop->count(), 2);
  EXPECT_EQ(stop->first_signal(), SIGTERM);
  EXPECT_EQ(stop->last_signal(), SIGINT);
}

TEST(StopSignalsTest, NotifyFromAnotherThreadWakesWait) {
  ASSERT_OK_AND_ASSIGN(auto stop, StopSignals::Install());
  std::thread notifier([&] { stop->Notify(); });
  EXPECT_EQ(stop->Wait(StopSignals::Clock::time_point::max()), Event::kNotified);
  notifier.join();
  EXPECT_EQ(stop->Wait(StopSignals::Clock::now()), Event::kDeadline);
  EXPECT_EQ(stop->count(), 0);
}

TEST(StopSignalsTest, OnlyOneAtATime) {
  ASSERT_OK_AND_ASSIGN(auto stop, StopSignals::Install());
  EXPECT_THAT(StopSignals::Install(), StatusIs(StatusCode::kFailedPrecondition));
  stop.reset();
  ASSERT_OK_AND_ASSIGN(auto again, StopSignals::Install());
  EXPECT_EQ(again->count(), 0);  // a new instance starts from zero
}

TEST(StopSignalsTest, DestructorTakesPendingSignalsAndRestoresHandlersAndMask) {
  struct sigaction before {};
  ASSERT_EQ(sigaction(SIGINT, nullptr, &before), 0);
  const bool was_blocked = Blocked(SIGINT);
  {
    ASSERT_OK_AND_ASSIGN(auto stop, StopSignals::Install());
    // Never waited for: the destructor must take it, or restoring the mask would deliver it to
    // the previous (default: terminating) action and end this test process.
    ASSERT_EQ(raise(SIGINT), 0);
  }
  struct sigaction after {};
  ASSERT_EQ(sigaction(SIGINT, nullptr, &after), 0);
  EXPECT_EQ(after.sa_handler, before.sa_handler);
  EXPECT_EQ(Blocked(SIGINT), was_blocked);
  sigset_t pending;
  sigpending(&pending);
  EXPECT_EQ(sigismember(&pending, SIGINT), 0);
}

}  // namespace
}  // namespace otlp::cli
