// otlp/net/runtime.h — the I/O runtime: the thread(s) that run every socket operation, timer and
// posted task of the clients and servers handed to it (Boost.Asio underneath, never in this
// header).
//
//   auto rt = otlp::net::Runtime::Create();            // one I/O thread, "otlp-io"
//   rt->Post([] { /* runs on the I/O thread */ });
//
//   // A retry after a backoff; destroying (or reassigning) the handle cancels it.
//   otlp::net::Timer retry = rt->After(std::chrono::milliseconds(250), [this] { Resend(); });
//   // A keep-alive ping every 2 minutes, until cancelled.
//   otlp::net::Timer ping = rt->Every(std::chrono::minutes(2), [this] { SendPing(); });
//   ping.Cancel();
//
// No hidden globals: every component that does I/O is handed a Runtime (or creates its own) and
// keeps it alive while it needs it.
//
// A caller-driven runtime has no thread of its own: its work runs inside Drive(), on the thread
// that calls it. A synchronous client uses one, so that a request's I/O runs on the thread
// waiting for it (no hand-off to an I/O thread and back); while nobody drives, nothing runs.
//
//   auto rt = otlp::net::Runtime::CreateCallerDriven();
//   std::atomic<bool> done{false};
//   rt->Post([&] { done = true; });
//   rt->Drive([&] { return done.load(); });           // runs the posted function here
//
// Threading: Runtime and Timer methods are thread-safe. Posted functions and timer callbacks
// run on one of the runtime's I/O threads (for a caller-driven runtime: the thread driving it,
// which counts as an I/O thread meanwhile); with several threads, different ones may run at the
// same time, but the calls of one periodic timer never overlap. An exception escaping a posted
// function or a timer callback is logged and swallowed. Work should not block an I/O thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "otlp/core/export.h"

namespace otlp::net {

class Runtime;

// A call scheduled on a Runtime by After(), At() or Every(). A move-only handle: destroying it,
// or assigning another timer to it, cancels the call. A handle may outlive its Runtime; timers
// still pending when the Runtime is destroyed never fire.
class [[nodiscard]] OTLP_EXPORT Timer {
 public:
  Timer() noexcept = default;  // schedules nothing
  Timer(Timer&& other) noexcept = default;
  Timer& operator=(Timer&& other) noexcept;
  ~Timer();

  // Prevents every call that has not started yet; returns true when that prevented at least one
  // (false when the one-shot call already ran or started, or the timer was already cancelled).
  // Does not wait for a call running on an I/O thread; a callback may cancel its own periodic
  // timer. The callback (and what it captured) is released once no call is running.
  bool Cancel() noexcept;
  // True while a call is still to come (a one-shot timer not yet run, a periodic one not
  // cancelled).
  bool pending() const noexcept;

  struct State;

 private:
  friend class Runtime;
  explicit Timer(std::shared_ptr<State> state) noexcept : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

// Owns an io_context and the thread(s) that run it.
class OTLP_EXPORT Runtime {
 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    int threads = 1;  // at least 1
    std::string thread_name = "otlp-io";
  };
  static std::shared_ptr<Runtime> Create(Options options);
  static std::shared_ptr<Runtime> Create() { return Create(Options{}); }
  // A runtime without threads: work runs only inside Drive(). Its destructor runs what is
  // still queued (bounded) on the destroying thread.
  static std::shared_ptr<Runtime> CreateCallerDriven();
  // Cancels pending timers, lets queued work finish (bounded to a few seconds), then stops the
  // I/O and joins its threads. Safe to run on one of its own I/O threads (that thread is then
  // detached).
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // True on one of this runtime's I/O threads.
  bool InIoThread() const noexcept;
  // Runs f on an I/O thread, soon.
  void Post(std::function<void()> f);
  // The number of I/O threads; 0 for a caller-driven runtime.
  int thread_count() const noexcept;
  bool caller_driven() const noexcept;

  // Caller-driven runtimes: runs the runtime's work on the calling thread until done() is true
  // or `deadline` passes, and returns done(). Several threads may drive at once: one runs the
  // work (for all of them) while the others wait, and the next takes over when it leaves.
  // done() must become true inside work run by this runtime (a posted function, a completion,
  // a timer) or be true already; it may be called under an internal lock, so it must be cheap
  // and must not call into the runtime. Called on one of the runtime's own I/O threads (from work
  // it runs), or on a runtime with threads, it runs nothing and returns done().
  bool Drive(const std::function<bool()>& done,
             Clock::time_point deadline = Clock::time_point::max());
  // Caller-driven runtimes: runs the work that is ready now, without waiting for more; does
  // nothing while another thread drives (that one runs it).
  void Poll();

  // Runs f once on an I/O thread after `delay` (at once when it is zero or negative).
  Timer After(Clock::duration delay, std::function<void()> f);
  // Runs f once on an I/O thread at `when` (at once when it has passed).
  Timer At(Clock::time_point when, std::function<void()> f);
  // Runs f on an I/O thread every `period` (the first time one period from now), at a fixed
  // rate: a call that ends late skips the ticks it missed rather than catching up. A period
  // below one millisecond is taken as one millisecond.
  Timer Every(Clock::duration period, std::function<void()> f);

  struct Impl;
  Impl& impl() noexcept { return *impl_; }

 private:
  explicit Runtime(std::shared_ptr<Impl> impl);
  Timer Schedule(Clock::time_point when, Clock::duration period, std::function<void()> f);
  std::shared_ptr<Impl> impl_;
};

}  // namespace otlp::net
