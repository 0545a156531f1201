#include "stop_signals.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <string>

namespace otlp::cli {
namespace {

// What the handler touches: lock-free atomics only (async-signal-safe).
static_assert(std::atomic<int>::is_always_lock_free);
std::atomic<bool> g_installed{false};
std::atomic<int> g_wake_fd{-1};
std::atomic<int> g_count{0};
std::atomic<int> g_first{0};
std::atomic<int> g_last{0};

extern "C" void OnStopSignal(int sig) {
  const int saved_errno = errno;
  int none = 0;
  g_first.compare_exchange_strong(none, sig, std::memory_order_relaxed);
  g_last.store(sig, std::memory_order_relaxed);
  g_count.fetch_add(1, std::memory_order_release);
  const int fd = g_wake_fd.load(std::memory_order_relaxed);
  if (fd >= 0) {
    const char byte = 1;
    // A full pipe already holds a wake-up; nothing is lost when this write fails.
    [[maybe_unused]] ssize_t n = write(fd, &byte, 1);
  }
  errno = saved_errno;
}

Status ErrnoError(const char* what) {
  return InternalError(std::string(what) + ": " + std::strerror(errno));
}

}  // namespace

Result<std::unique_ptr<StopSignals>> StopSignals::Install() {
  if (g_installed.exchange(true)) {
    return FailedPreconditionError("stop signal handlers are already installed");
  }
  std::unique_ptr<StopSignals> s(new StopSignals());
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    Status error = ErrnoError("pipe2");
    g_installed.store(false);
    return error;
  }
  s->read_fd_ = fds[0];
  s->write_fd_ = fds[1];
  g_count.store(0, std::memory_order_relaxed);
  g_first.store(0, std::memory_order_relaxed);
  g_last.store(0, std::memory_order_relaxed);
  g_wake_fd.store(s->write_fd_, std::memory_order_relaxed);

  sigemptyset(&s->stop_set_);
  sigaddset(&s->stop_set_, SIGINT);
  sigaddset(&s->stop_set_, SIGTERM);
  // Blocked before the handlers exist, so that none runs on a thread that is not ours.
  pthread_sigmask(SIG_BLOCK, &s->stop_set_, &s->old_mask_);
  pthread_sigmask(SIG_BLOCK, nullptr, &s->wait_mask_);
  sigdelset(&s->wait_mask_, SIGINT);
  sigdelset(&s->wait_mask_, SIGTERM);

  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  if (sigaction(SIGINT, &action, &s->old_int_) != 0) {
    Status error = ErrnoError("sigaction(SIGINT)");
    pthread_sigmask(SIG_SETMASK, &s->old_mask_, nullptr);
    g_wake_fd.store(-1);
    close(s->read_fd_);
    close(s->write_fd_);
    s->read_fd_ = s->write_fd_ = -1;
    g_installed.store(false);
    return error;
  }
  if (sigaction(SIGTERM, &action, &s->old_term_) != 0) {
    Status error = ErrnoError("sigaction(SIGTERM)");
    sigaction(SIGINT, &s->old_int_, nullptr);
    pthread_sigmask(SIG_SETMASK, &s->old_mask_, nullptr);
    g_wake_fd.store(-1);
    close(s->read_fd_);
    close(s->write_fd_);
    s->read_fd_ = s->write_fd_ = -1;
    g_installed.store(false);
    return error;
  }
  return s;
}

StopSignals::~StopSignals() {
  if (read_fd_ < 0) return;
  // Take what is pending while our handler is still in place (a pending SIGINT must not meet the
  // default action once the mask is restored), then put everything back.
  const timespec zero{0, 0};
  while (sigtimedwait(&stop_set_, nullptr, &zero) > 0) {
  }
  sigaction(SIGTERM, &old_term_, nullptr);
  sigaction(SIGINT, &old_int_, nullptr);
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  g_wake_fd.store(-1);
  close(read_fd_);
  close(write_fd_);
  g_installed.store(false);
}

StopSignals::Event StopSignals::Wait(Clock::time_point deadline) {
  while (true) {
    const int n = g_count.load(std::memory_order_acquire);
    if (n > reported_) {
      reported_ = n;
      return Event::kSignal;
    }
    if (notified_.exchange(false, std::memory_order_acq_rel)) return Event::kNotified;
    timespec ts{};
    const timespec* timeout = nullptr;
    if (deadline != Clock::time_point::max()) {
      const auto left = deadline - Clock::now();
      if (left <= Clock::duration::zero()) return Event::kDeadline;
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
      ts.tv_sec = static_cast<time_t>(ns / 1000000000);
      ts.tv_nsec = static_cast<long>(ns % 1000000000);
      timeout = &ts;
    }
    pollfd pfd{read_fd_, POLLIN, 0};
    // The stop signals are unblocked only inside ppoll, atomically: one that arrives before it
    // stays pending and interrupts it at once.
    if (ppoll(&pfd, 1, timeout, &wait_mask_) > 0) {
      char buf[64];
      while (read(read_fd_, buf, sizeof(buf)) > 0) {
      }
    }
  }
}

void StopSignals::Notify() noexcept {
  notified_.store(true, std::memory_order_release);
  const char byte = 0;
  [[maybe_unused]] ssize_t n = write(write_fd_, &byte, 1);
}

int StopSignals::count() const noexcept {
  return g_count.load(std::memory_order_acquire);
}
int StopSignals::first_signal() const noexcept {
  return g_first.load(std::memory_order_relaxed);
}
int StopSignals::last_signal() const noexcept {
  return g_last.load(std::memory_order_relaxed);
}

}  // namespace otlp::cli
