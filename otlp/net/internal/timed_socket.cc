#include "otlp/net/internal/timed_socket.h"

#include <poll.h>
#include <sys/socket.h>

#include <boost/asio/error.hpp>
#include <algorithm>
#include <cerrno>

namespace otlp::net::internal {

namespace asio = boost::asio;
using boost::system::error_code;

TimedSocket::TimedSocket(executor_type executor)
    : state_(std::make_shared<State>(std::move(executor))) {}

TimedSocket::TimedSocket(asio::ip::tcp::socket socket)
    : state_(std::make_shared<State>(std::move(socket))) {}

TimedSocket::~TimedSocket() { close(); }

void TimedSocket::expires_at(Clock::time_point when) {
  state_->deadline = when;
  if (state_->pending > 0) state_->Arm();
}

void TimedSocket::close() noexcept {
  error_code ignored;
  state_->socket.close(ignored);
  // The pending wait (if any) ends now rather than at its time, releasing the state.
  state_->timer.cancel();
  state_->armed_for = Clock::time_point::max();
}

size_t TimedSocket::SyncTransfer(Iovecs& iov, bool write, error_code& ec) {
  ec = {};
  if (iov.bytes == 0) return 0;
  const int fd = state_->socket.native_handle();
  if (fd < 0) {
    ec = asio::error::bad_descriptor;
    return 0;
  }
  msghdr msg{};
  msg.msg_iov = iov.vec;
  msg.msg_iovlen = iov.count;
  for (;;) {
    const ssize_t n = write ? ::sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL)
                            : ::recvmsg(fd, &msg, MSG_DONTWAIT);
    if (n > 0) return static_cast<size_t>(n);
    if (n == 0) {  // a read at the end of the stream
      ec = asio::error::eof;
      return 0;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      ec = error_code(errno, asio::error::get_system_category());
      return 0;
    }
    int timeout_ms = -1;
    if (sync_deadline_ != Clock::time_point::max()) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(sync_deadline_ - Clock::now());
      if (left.count() <= 0) {
        ec = boost::beast::error::timeout;
        return 0;
      }
      timeout_ms = static_cast<int>(std::min<int64_t>(left.count(), 1 << 30));
    }
    pollfd p{.fd = fd, .events = static_cast<short>(write ? POLLOUT : POLLIN), .revents = 0};
    const int ready = ::poll(&p, 1, timeout_ms);
    if (ready < 0 && errno != EINTR) {
      ec = error_code(errno, asio::error::get_system_category());
      return 0;
    }
    // Ready, woken by a signal, or out of time (the next round checks the deadline): try again.
  }
}

bool TimedSocket::State::Begin() {
  if (deadline != Clock::time_point::max() && Clock::now() >= deadline) {
    timed_out = true;
    error_code ignored;
    socket.close(ignored);
    return false;
  }
  ++pending;
  Arm();
  return true;
}

void TimedSocket::State::End(error_code& ec) noexcept {
  --pending;
  if (timed_out && ec) ec = boost::beast::error::timeout;
}

void TimedSocket::State::Arm() {
  if (deadline >= armed_for) return;  // the pending wait fires in time (or there is no deadline)
  armed_for = deadline;
  timer.expires_at(deadline);  // cancels the earlier wait, whose handler then does nothing
  timer.async_wait([self = shared_from_this(), g = ++generation](const error_code& ec) {
    self->OnTimer(ec, g);
  });
}

void TimedSocket::State::OnTimer(const error_code& ec, uint64_t g) {
  // Cancelled by a re-arm (whose wait is pending now) or by close(), which may run on another
  // thread as the socket is destroyed: touch nothing.
  if (ec == asio::error::operation_aborted) return;
  if (g != generation) return;  // fired, but re-armed before this handler ran
  armed_for = Clock::time_point::max();
  if (ec || pending == 0) return;  // nothing to time out: the next operation arms
  if (Clock::now() >= deadline) {
    timed_out = true;
    error_code ignored;
    socket.close(ignored);  // the pending operations complete with operation_aborted → timeout
    return;
  }
  Arm();  // the deadline moved later since this wait was armed
}

}  // namespace otlp::net::internal
