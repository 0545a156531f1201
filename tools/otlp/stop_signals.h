// tools/otlp/stop_signals.h — SIGINT and SIGTERM as events a command waits for, so that it can
// stop its work, flush and report instead of dying with spans still queued.
//
//   auto stop = StopSignals::Install();    // before the command starts any thread
//   if (!stop.ok()) { … }
//   std::thread worker([&] { …; (*stop)->Notify(); });
//   switch ((*stop)->Wait(deadline)) {
//     case StopSignals::Event::kSignal: …   // (*stop)->last_signal() arrived
//     case StopSignals::Event::kNotified: … // the worker called Notify()
//     case StopSignals::Event::kDeadline: …
//   }
//
// Install() blocks SIGINT and SIGTERM in the calling thread, so threads started afterwards
// (the SDK's, the command's) inherit the block and never take them; Wait() unblocks them only
// for the duration of its ppoll(). The handler does nothing but record the signal in lock-free
// atomics and write one byte to a non-blocking self-pipe (async-signal-safe); Notify() writes to
// the same pipe. The destructor takes stop signals still pending, then restores the previous
// handlers and signal mask. One StopSignals may exist at a time (the handler reaches it through
// a global).
// Threading: Wait() only on the thread that called Install(); Notify(), count(), first_signal()
// and last_signal() from any thread.
#pragma once

#include <signal.h>

#include <atomic>
#include <chrono>
#include <memory>

#include "otlp/core/status.h"

namespace otlp::cli {

class StopSignals {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Event { kSignal, kNotified, kDeadline };

  // Fails when another StopSignals exists or the pipe or handlers cannot be set up (nothing is
  // changed then).
  static Result<std::unique_ptr<StopSignals>> Install();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // Returns kSignal when a stop signal arrived that an earlier Wait() did not report (also one
  // that arrived before this call), kNotified when Notify() was called since the last kNotified,
  // else kDeadline once `deadline` has passed (Clock::time_point::max(): no deadline).
  Event Wait(Clock::time_point deadline);
  // Wakes Wait() with kNotified (once per call, or once for several calls before it wakes).
  void Notify() noexcept;

  // Stop signals received so far, the first and the most recent (0 before any).
  int count() const noexcept;
  int first_signal() const noexcept;
  int last_signal() const noexcept;

 private:
  StopSignals() = default;

  int read_fd_ = -1;
  int write_fd_ = -1;
  sigset_t stop_set_{};
  sigset_t wait_mask_{};  // the thread's mask with the stop signals unblocked, for ppoll()
  sigset_t old_mask_{};
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
  int reported_ = 0;  // count() when Wait() last returned kSignal
  std::atomic<bool> notified_{false};
};

}  // namespace otlp::cli
