// A TCP socket whose reads, writes and connects share one deadline — the lowest layer of
// Stream, in place of beast::tcp_stream. Internal: not an API.
//
// Why not beast::tcp_stream: it arms its timer for every operation and cancels it when the
// operation completes, and each arming of the earliest timer is a timerfd_settime system call.
// A keep-alive request (a write, then a read) paid two of them, at about a microsecond each on
// the virtual machines measured in bench/RESULTS.md. Here one timer watches the deadline lazily:
// it is re-armed only when the deadline moves earlier than the time it is armed for, or when it
// fires and an operation is still pending with a later deadline. A stream of requests whose
// deadlines keep moving later (each "now + 30 s") costs one timer system call per 30 s, not two
// per request.
//
// Semantics as beast::tcp_stream's: an operation pending when the deadline passes fails with
// beast::error::timeout and the socket is closed; an operation started after the deadline passed
// fails with beast::error::timeout at once. expires_never() lifts the deadline.
//
// Threading: as a socket; the operations, expires_*() and close() run on the socket's executor
// (or a strand of it), which is also where the timer's handler runs. The socket must outlive its
// pending operations (close() ends them with operation_aborted).
#pragma once

#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <sys/uio.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <utility>

namespace otlp::net::internal {

class TimedSocket {
 public:
  using executor_type = boost::asio::any_io_executor;
  using Clock = std::chrono::steady_clock;

  explicit TimedSocket(executor_type executor);
  // Over an accepted socket (its executor runs the timer too).
  explicit TimedSocket(boost::asio::ip::tcp::socket socket);
  // Closes the socket.
  ~TimedSocket();
  TimedSocket(const TimedSocket&) = delete;
  TimedSocket& operator=(const TimedSocket&) = delete;

  executor_type get_executor() noexcept { return state_->socket.get_executor(); }
  // For asio::ssl::stream, which takes its executor from the lowest layer.
  using lowest_layer_type = boost::asio::ip::tcp::socket::lowest_layer_type;
  lowest_layer_type& lowest_layer() noexcept { return state_->socket.lowest_layer(); }
  const lowest_layer_type& lowest_layer() const noexcept { return state_->socket.lowest_layer(); }
  boost::asio::ip::tcp::socket& socket() noexcept { return state_->socket; }
  const boost::asio::ip::tcp::socket& socket() const noexcept { return state_->socket; }

  void expires_at(Clock::time_point when);
  void expires_never() { state_->deadline = Clock::time_point::max(); }
  // Closes the socket: pending operations complete with operation_aborted. Idempotent.
  void close() noexcept;

  // SyncReadStream / SyncWriteStream: blocking reads and writes on the calling thread, bounded
  // by the synchronous deadline below (not by expires_at, which is the asynchronous
  // operations'). A call pending when it passes fails with beast::error::timeout; the socket is
  // left open (the caller drops the connection). Used by a client that runs a request on its
  // own thread (net::HttpClient's synchronous path, TLS through asio::ssl::stream's synchronous
  // calls) and by the synchronous TLS teardown Beast's WebSocket may run (no deadline there).
  template <typename MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers, boost::system::error_code& ec) {
    Iovecs iov(buffers);
    return SyncTransfer(iov, /*write=*/false, ec);
  }
  template <typename ConstBufferSequence>
  size_t write_some(const ConstBufferSequence& buffers, boost::system::error_code& ec) {
    Iovecs iov(buffers);
    return SyncTransfer(iov, /*write=*/true, ec);
  }
  template <typename MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers) {
    boost::system::error_code ec;
    const size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }
  template <typename ConstBufferSequence>
  size_t write_some(const ConstBufferSequence& buffers) {
    boost::system::error_code ec;
    const size_t n = write_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }
  // The deadline of the synchronous calls that follow (Clock::time_point::max(): none, the
  // default). Only the thread making those calls touches it.
  void set_sync_deadline(Clock::time_point when) noexcept { sync_deadline_ = when; }

  // AsyncReadStream / AsyncWriteStream.
  template <typename MutableBufferSequence, typename ReadToken>
  auto async_read_some(const MutableBufferSequence& buffers, ReadToken&& token) {
    return boost::asio::async_initiate<ReadToken, void(boost::system::error_code, size_t)>(
        [](auto handler, const std::shared_ptr<State>& state, const MutableBufferSequence& b) {
          if (!state->Begin()) return Expired(state, std::move(handler), size_t{0});
          state->socket.async_read_some(b, Completion<decltype(handler)>{state, std::move(handler)});
        },
        token, state_, buffers);
  }
  template <typename ConstBufferSequence, typename WriteToken>
  auto async_write_some(const ConstBufferSequence& buffers, WriteToken&& token) {
    return boost::asio::async_initiate<WriteToken, void(boost::system::error_code, size_t)>(
        [](auto handler, const std::shared_ptr<State>& state, const ConstBufferSequence& b) {
          if (!state->Begin()) return Expired(state, std::move(handler), size_t{0});
          state->socket.async_write_some(b,
                                         Completion<decltype(handler)>{state, std::move(handler)});
        },
        token, state_, buffers);
  }
  // Connects to the first of `endpoints` that accepts (asio::async_connect), within the deadline.
  template <typename EndpointSequence, typename ConnectToken>
  auto async_connect(const EndpointSequence& endpoints, ConnectToken&& token) {
    using Endpoint = boost::asio::ip::tcp::endpoint;
    return boost::asio::async_initiate<ConnectToken, void(boost::system::error_code, Endpoint)>(
        [](auto handler, const std::shared_ptr<State>& state, const EndpointSequence& e) {
          if (!state->Begin()) return Expired(state, std::move(handler), Endpoint());
          boost::asio::async_connect(state->socket, e,
                                     Completion<decltype(handler)>{state, std::move(handler)});
        },
        token, state_, endpoints);
  }

  // What Beast calls to drop the connection on an error, and the WebSocket closing handshake of
  // a plain connection (found by argument-dependent lookup).
  friend void beast_close_socket(TimedSocket& s) { s.close(); }
  friend void teardown(boost::beast::role_type role, TimedSocket& s,
                       boost::system::error_code& ec) {
    boost::beast::websocket::teardown(role, s.socket(), ec);
  }
  template <typename TeardownHandler>
  friend void async_teardown(boost::beast::role_type role, TimedSocket& s,
                             TeardownHandler&& handler) {
    boost::beast::websocket::async_teardown(role, s.socket(),
                                            std::forward<TeardownHandler>(handler));
  }

 private:
  struct State : std::enable_shared_from_this<State> {
    explicit State(executor_type executor) : socket(executor), timer(std::move(executor)) {}
    explicit State(boost::asio::ip::tcp::socket s)
        : socket(std::move(s)), timer(socket.get_executor()) {}

    // An operation starts: false (and the socket closed) when the deadline has passed.
    bool Begin();
    // An operation completed: its error, or timeout when the deadline closed the socket.
    void End(boost::system::error_code& ec) noexcept;
    // Makes the timer fire no later than the deadline.
    void Arm();
    void OnTimer(const boost::system::error_code& ec, uint64_t generation);

    boost::asio::ip::tcp::socket socket;
    boost::asio::steady_timer timer;
    Clock::time_point deadline = Clock::time_point::max();
    Clock::time_point armed_for = Clock::time_point::max();  // max: no wait pending
    uint64_t generation = 0;  // of the pending wait; an older wait's handler does nothing
    int pending = 0;          // operations in progress
    bool timed_out = false;   // the deadline closed the socket
  };

  // Completes an operation: End() then the caller's handler, with the handler's associated
  // executor, allocator and cancellation slot (Beast's composed operations rely on them).
  template <typename Handler>
  struct Completion {
    std::shared_ptr<State> state;
    Handler handler;

    using executor_type = boost::asio::associated_executor_t<Handler, TimedSocket::executor_type>;
    executor_type get_executor() const noexcept {
      return boost::asio::get_associated_executor(handler, state->socket.get_executor());
    }
    using allocator_type = boost::asio::associated_allocator_t<Handler>;
    allocator_type get_allocator() const noexcept {
      return boost::asio::get_associated_allocator(handler);
    }
    using cancellation_slot_type = boost::asio::associated_cancellation_slot_t<Handler>;
    cancellation_slot_type get_cancellation_slot() const noexcept {
      return boost::asio::get_associated_cancellation_slot(handler);
    }

    template <typename Result>
    void operator()(boost::system::error_code ec, Result result) {
      state->End(ec);
      state.reset();
      std::move(handler)(ec, std::move(result));
    }
  };

  // Completes an operation that started after the deadline, never inside the initiating call.
  template <typename Handler, typename Result>
  static void Expired(const std::shared_ptr<State>& state, Handler handler, Result result) {
    auto executor = boost::asio::get_associated_executor(handler, state->socket.get_executor());
    boost::asio::post(state->socket.get_executor(),
                      boost::asio::bind_executor(
                          executor, [handler = std::move(handler), result]() mutable {
                            std::move(handler)(boost::beast::error::timeout, std::move(result));
                          }));
  }

  // A buffer sequence as the iovec array of one readv / writev (at most kMaxIovecs pieces: the
  // rest waits for the next call, as a partial transfer).
  static constexpr size_t kMaxIovecs = 16;
  struct Iovecs {
    template <typename BufferSequence>
    explicit Iovecs(const BufferSequence& buffers) {
      for (auto it = boost::asio::buffer_sequence_begin(buffers);
           it != boost::asio::buffer_sequence_end(buffers) && count < kMaxIovecs; ++it) {
        const auto b = *it;
        if (b.size() == 0) continue;
        vec[count].iov_base = const_cast<void*>(static_cast<const void*>(b.data()));
        vec[count].iov_len = b.size();
        bytes += b.size();
        ++count;
      }
    }
    iovec vec[kMaxIovecs];
    size_t count = 0;
    size_t bytes = 0;
  };
  // One non-blocking transfer, waiting (poll) for the socket until sync_deadline_ when it has
  // nothing to give or no room yet.
  size_t SyncTransfer(Iovecs& iov, bool write, boost::system::error_code& ec);

  std::shared_ptr<State> state_;
  Clock::time_point sync_deadline_ = Clock::time_point::max();
};

}  // namespace otlp::net::internal
