// A mutex that clang's -Wthread-safety understands, and the annotations that use it.
//
//   class Queue {
//    public:
//     void Push(int v) {
//       internal::MutexLock lock(mu_);
//       items_.push_back(v);
//       cv_.NotifyOne();
//     }
//     int Pop() {
//       internal::MutexLock lock(mu_);
//       cv_.Wait(lock, [&]() OTLP_REQUIRES(mu_) { return !items_.empty(); });
//       ...
//     }
//    private:
//     internal::Mutex mu_;
//     internal::CondVar cv_;
//     std::deque<int> items_ OTLP_GUARDED_BY(mu_);
//   };
//
// libstdc++'s std::mutex carries no capability attribute, so clang cannot check GUARDED_BY
// against it; Mutex is std::mutex with the attributes (as absl::Mutex has them), MutexLock a
// scoped lock of it, CondVar a condition variable that waits on a MutexLock. With other
// compilers the annotations expand to nothing. Internal: not an API.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <utility>

#if defined(__clang__)
#define OTLP_THREAD_ANNOTATION_(x) __attribute__((x))
#else
#define OTLP_THREAD_ANNOTATION_(x)
#endif

#define OTLP_CAPABILITY(x) OTLP_THREAD_ANNOTATION_(capability(x))
#define OTLP_SCOPED_CAPABILITY OTLP_THREAD_ANNOTATION_(scoped_lockable)
#define OTLP_GUARDED_BY(x) OTLP_THREAD_ANNOTATION_(guarded_by(x))
#define OTLP_PT_GUARDED_BY(x) OTLP_THREAD_ANNOTATION_(pt_guarded_by(x))
#define OTLP_REQUIRES(...) OTLP_THREAD_ANNOTATION_(requires_capability(__VA_ARGS__))
#define OTLP_EXCLUDES(...) OTLP_THREAD_ANNOTATION_(locks_excluded(__VA_ARGS__))
#define OTLP_ACQUIRE(...) OTLP_THREAD_ANNOTATION_(acquire_capability(__VA_ARGS__))
#define OTLP_RELEASE(...) OTLP_THREAD_ANNOTATION_(release_capability(__VA_ARGS__))
#define OTLP_NO_THREAD_SAFETY_ANALYSIS OTLP_THREAD_ANNOTATION_(no_thread_safety_analysis)

namespace otlp::internal {

class OTLP_CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() OTLP_ACQUIRE() { mu_.lock(); }
  void Unlock() OTLP_RELEASE() { mu_.unlock(); }

 private:
  friend class MutexLock;
  std::mutex mu_;
};

// Holds `mu` from construction to destruction; Unlock()/Lock() release and retake it inside
// the scope.
class OTLP_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) OTLP_ACQUIRE(mu) : lock_(mu.mu_) {}
  ~MutexLock() OTLP_RELEASE() {}
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  void Unlock() OTLP_RELEASE() { lock_.unlock(); }
  void Lock() OTLP_ACQUIRE() { lock_.lock(); }

 private:
  friend class CondVar;
  std::unique_lock<std::mutex> lock_;
};

// std::condition_variable over a MutexLock. The analysis treats the mutex as held throughout
// a wait (it is, whenever the predicate runs and when the wait returns).
class CondVar {
 public:
  void NotifyOne() noexcept { cv_.notify_one(); }
  void NotifyAll() noexcept { cv_.notify_all(); }

  void Wait(MutexLock& lock) { cv_.wait(lock.lock_); }
  template <typename Predicate>
  void Wait(MutexLock& lock, Predicate done) {
    cv_.wait(lock.lock_, std::move(done));
  }
  // False when the deadline passed with `done` still false.
  template <typename Clock, typename Duration, typename Predicate>
  bool WaitUntil(MutexLock& lock, const std::chrono::time_point<Clock, Duration>& deadline,
                 Predicate done) {
    return cv_.wait_until(lock.lock_, deadline, std::move(done));
  }
  template <typename Rep, typename Period, typename Predicate>
  bool WaitFor(MutexLock& lock, const std::chrono::duration<Rep, Period>& timeout,
               Predicate done) {
    return cv_.wait_for(lock.lock_, timeout, std::move(done));
  }
  // Without a predicate: true when woken (or spuriously), false on timeout.
  template <typename Clock, typename Duration>
  bool WaitUntil(MutexLock& lock, const std::chrono::time_point<Clock, Duration>& deadline) {
    return cv_.wait_until(lock.lock_, deadline) == std::cv_status::no_timeout;
  }

 private:
  std::condition_variable cv_;
};

}  // namespace otlp::internal
