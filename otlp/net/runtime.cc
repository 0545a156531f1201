#include "otlp/net/runtime.h"

#include <openssl/crypto.h>
#include <pthread.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <exception>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "otlp/core/internal/mutex.h"
#include "otlp/core/log.h"
#include "otlp/net/internal/runtime_impl.h"

namespace otlp::net {
namespace {

using otlp::internal::MutexLock;

// How long ~Runtime lets queued handlers (cancellation callbacks, mostly) finish.
constexpr std::chrono::seconds kDrainTimeout{5};

thread_local const Runtime::Impl* t_current_runtime = nullptr;

void RunLoop(const std::shared_ptr<Runtime::Impl>& impl) {
  t_current_runtime = impl.get();
  for (;;) {
    try {
      impl->ioc.run();
      break;
    } catch (const std::exception& e) {
      OTLP_LOG(kError, std::string("exception escaped an I/O handler: ") + e.what());
    } catch (...) {
      OTLP_LOG(kError, "unknown exception escaped an I/O handler");
    }
  }
  t_current_runtime = nullptr;
  // OpenSSL keeps per-thread state (its random generators) for threads that did TLS; free it
  // now rather than leave it to the thread-exit hook, which races with a quick process exit.
  OPENSSL_thread_stop();
  MutexLock lock(impl->mu);
  --impl->running;
  impl->cv.NotifyAll();
}

void RunGuarded(const std::function<void()>& f, const char* what) {
  try {
    f();
  } catch (const std::exception& e) {
    OTLP_LOG(kError, std::string("exception escaped ") + what + ": " + e.what());
  } catch (...) {
    OTLP_LOG(kError, std::string("unknown exception escaped ") + what);
  }
}

}  // namespace

// The shared part of a Timer: the handle owns it; a pending wait holds only a weak reference,
// so dropping the handle destroys the asio timer, which aborts the wait.
struct Timer::State {
  using Clock = Runtime::Clock;

  State(std::shared_ptr<Runtime::Impl> rt, std::function<void()> f, Clock::duration every)
      : runtime(std::move(rt)), timer(runtime->ioc), fn(std::move(f)), period(every) {}

  ~State() {
    MutexLock lock(runtime->timers_mu);
    runtime->timers.erase(this);
  }

  void Arm(Clock::time_point when) OTLP_REQUIRES(mu) {
    timer.expires_at(when);
    timer.async_wait([weak = weak_self](const boost::system::error_code& ec) {
      if (std::shared_ptr<State> self = weak.lock()) self->Fire(ec);
    });
  }

  void Fire(const boost::system::error_code& ec) OTLP_EXCLUDES(mu) {
    std::function<void()> f;
    {
      MutexLock lock(mu);
      if (ec || !pending) return;
      f = std::move(fn);
      running = true;
      if (period == Clock::duration::zero()) pending = false;
    }
    RunGuarded(f, "a timer callback");
    MutexLock lock(mu);
    running = false;
    if (!pending) return;  // one-shot, or cancelled while running: `f` dies here
    fn = std::move(f);
    Clock::time_point next = timer.expiry() + period;
    const Clock::time_point now = Clock::now();
    if (next <= now) next = now + period;  // late: skip the missed ticks
    Arm(next);
  }

  bool Cancel() noexcept OTLP_EXCLUDES(mu) {
    std::function<void()> released;  // destroyed after the lock is dropped
    MutexLock lock(mu);
    if (!pending) return false;
    pending = false;
    timer.cancel();
    if (!running) released = std::move(fn);
    return true;
  }

  const std::shared_ptr<Runtime::Impl> runtime;  // keeps the io_context alive for `timer`
  // Set by Runtime::Schedule before the state is registered or armed; never changed after.
  std::weak_ptr<State> weak_self;
  otlp::internal::Mutex mu;
  boost::asio::steady_timer timer OTLP_GUARDED_BY(mu);
  std::function<void()> fn OTLP_GUARDED_BY(mu);  // moved out while it runs
  const Clock::duration period;                  // zero for a one-shot timer
  bool pending OTLP_GUARDED_BY(mu) = true;
  bool running OTLP_GUARDED_BY(mu) = false;
};

Timer& Timer::operator=(Timer&& other) noexcept {
  if (this != &other) {
    Cancel();
    state_ = std::move(other.state_);
  }
  return *this;
}

Timer::~Timer() {
  Cancel();
}

bool Timer::Cancel() noexcept {
  return state_ ? state_->Cancel() : false;
}

bool Timer::pending() const noexcept {
  if (!state_) return false;
  MutexLock lock(state_->mu);
  return state_->pending;
}

std::shared_ptr<Runtime> Runtime::Create(Options options) {
  auto impl = std::make_shared<Impl>();
  impl->work.emplace(impl->ioc.get_executor());
  const int n = std::max(1, options.threads);
  for (int i = 0; i < n; ++i) {
    {
      MutexLock lock(impl->mu);
      ++impl->running;
    }
    try {
      // Each thread shares ownership of Impl: a Runtime destroyed on its own I/O thread detaches
      // that thread, which must still find the io_context alive when run() returns.
      impl->threads.emplace_back([impl, name = options.thread_name, i, n] {
        std::string thread_name = n == 1 ? name : name + "-" + std::to_string(i);
        thread_name.resize(std::min<size_t>(thread_name.size(), 15));  // Linux limit
        pthread_setname_np(pthread_self(), thread_name.c_str());
        RunLoop(impl);
      });
    } catch (const std::system_error& e) {
      MutexLock lock(impl->mu);
      --impl->running;
      OTLP_LOG(kError, std::string("I/O runtime: cannot start a thread: ") + e.what());
      break;
    }
  }
  return std::shared_ptr<Runtime>(new Runtime(std::move(impl)));
}

std::shared_ptr<Runtime> Runtime::CreateCallerDriven() {
  auto impl = std::make_shared<Impl>();
  impl->work.emplace(impl->ioc.get_executor());
  impl->caller_driven = true;
  return std::shared_ptr<Runtime>(new Runtime(std::move(impl)));
}

Runtime::Runtime(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

namespace {

// Runs one piece of the runtime's work (or none, when `deadline` passes first); an exception
// escaping it is logged, as on an I/O thread.
void RunOne(Runtime::Impl& impl, Runtime::Clock::time_point deadline) {
  try {
    if (deadline == Runtime::Clock::time_point::max()) {
      impl.ioc.run_one();
    } else {
      impl.ioc.run_one_until(deadline);
    }
  } catch (const std::exception& e) {
    OTLP_LOG(kError, std::string("exception escaped an I/O handler: ") + e.what());
  } catch (...) {
    OTLP_LOG(kError, "unknown exception escaped an I/O handler");
  }
}

}  // namespace

bool Runtime::Drive(const std::function<bool()>& done, Clock::time_point deadline) {
  Impl& impl = *impl_;
  if (!impl.caller_driven || InIoThread()) return done();
  MutexLock lock(impl.drive_mu);
  for (;;) {
    if (done()) return true;
    if (Clock::now() >= deadline) return false;
    if (impl.driving) {
      // Someone else runs the work; it wakes us after each piece and when it leaves.
      ++impl.drive_waiters;
      impl.drive_cv.WaitUntil(lock, deadline);
      --impl.drive_waiters;
      continue;
    }
    impl.driving = true;
    lock.Unlock();
    t_current_runtime = impl_.get();
    while (!done() && Clock::now() < deadline) {
      RunOne(impl, deadline);
      // Under the lock: a waiter checks done() and starts waiting atomically with respect to
      // this, so a wake-up is never lost.
      MutexLock wake(impl.drive_mu);
      if (impl.drive_waiters > 0) impl.drive_cv.NotifyAll();
    }
    t_current_runtime = nullptr;
    lock.Lock();
    impl.driving = false;
    impl.drive_cv.NotifyAll();
  }
}

void Runtime::Poll() {
  Impl& impl = *impl_;
  if (!impl.caller_driven || InIoThread()) return;
  {
    MutexLock lock(impl.drive_mu);
    if (impl.driving) return;
    impl.driving = true;
  }
  t_current_runtime = impl_.get();
  try {
    impl.ioc.poll();
  } catch (const std::exception& e) {
    OTLP_LOG(kError, std::string("exception escaped an I/O handler: ") + e.what());
  } catch (...) {
    OTLP_LOG(kError, "unknown exception escaped an I/O handler");
  }
  t_current_runtime = nullptr;
  MutexLock lock(impl.drive_mu);
  impl.driving = false;
  impl.drive_cv.NotifyAll();
}

bool Runtime::caller_driven() const noexcept {
  return impl_->caller_driven;
}

Runtime::~Runtime() {
  const bool on_own_thread = InIoThread();
  // Cancelled outside timers_mu: releasing a callback may destroy other timers.
  std::vector<std::shared_ptr<Timer::State>> timers;
  {
    MutexLock lock(impl_->timers_mu);
    impl_->stopping = true;
    for (Timer::State* timer : impl_->timers) {
      if (auto alive = timer->weak_self.lock()) timers.push_back(std::move(alive));
    }
  }
  for (auto& timer : timers) timer->Cancel();
  timers.clear();
  impl_->work.reset();
  if (impl_->caller_driven && !on_own_thread) {
    // What is still queued (the last completions of closed connections) runs here.
    t_current_runtime = impl_.get();
    try {
      impl_->ioc.run_for(kDrainTimeout);
    } catch (...) {
      OTLP_LOG(kError, "exception escaped an I/O handler while the runtime stopped");
    }
    t_current_runtime = nullptr;
  }
  if (!on_own_thread && !impl_->caller_driven) {
    // Without the work guard run() returns once nothing is pending; give that a bounded time.
    MutexLock lock(impl_->mu);
    if (!impl_->cv.WaitFor(lock, kDrainTimeout,
                           [&]() OTLP_REQUIRES(impl_->mu) { return impl_->running == 0; })) {
      OTLP_LOG(kWarn, "I/O runtime: pending operations did not finish in time; stopping them");
    }
  }
  impl_->ioc.stop();
  for (std::thread& t : impl_->threads) {
    if (t.get_id() == std::this_thread::get_id()) {
      t.detach();
    } else if (t.joinable()) {
      t.join();
    }
  }
}

bool Runtime::InIoThread() const noexcept {
  return t_current_runtime == impl_.get();
}

void Runtime::Post(std::function<void()> f) {
  boost::asio::post(impl_->ioc, std::move(f));
}

int Runtime::thread_count() const noexcept {
  return static_cast<int>(impl_->threads.size());
}

Timer Runtime::After(Clock::duration delay, std::function<void()> f) {
  return Schedule(Clock::now() + std::max(delay, Clock::duration::zero()), Clock::duration::zero(),
                  std::move(f));
}

Timer Runtime::At(Clock::time_point when, std::function<void()> f) {
  return Schedule(when, Clock::duration::zero(), std::move(f));
}

Timer Runtime::Every(Clock::duration period, std::function<void()> f) {
  period = std::max<Clock::duration>(period, std::chrono::milliseconds(1));
  return Schedule(Clock::now() + period, period, std::move(f));
}

Timer Runtime::Schedule(Clock::time_point when, Clock::duration period, std::function<void()> f) {
  auto state = std::make_shared<Timer::State>(impl_, std::move(f), period);
  state->weak_self = state;
  MutexLock registry(impl_->timers_mu);
  impl_->timers.insert(state.get());
  MutexLock lock(state->mu);
  if (impl_->stopping) {
    state->pending = false;
  } else {
    state->Arm(when);
  }
  return Timer(std::move(state));
}

}  // namespace otlp::net
