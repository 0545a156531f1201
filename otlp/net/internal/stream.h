// otlp/net/internal/stream.h — the socket layer every protocol of the network layer stands on
// (the HTTP/1.1 client and server today; HTTP/2, WebSocket and NATS next): resolve, connect
// with a deadline, plain TCP or TLS (SNI, ALPN) chosen at run time, buffered reads with a line
// reader for text protocols, write-all, close. Not installed; never include it from a public
// header.
//
//   internal::Stream stream(asio::make_strand(ioc), tls_context);  // null context: plain TCP
//   stream.AsyncConnect("example.com", 4222, deadline, [&](error_code ec) {
//     if (ec) return Fail(stream.ErrorStatus(ec, "example.com:4222"));
//     stream.AsyncReadLine(4096, [&](error_code ec, std::string_view line) { ... });
//   });
//   // The stream is itself an AsyncReadStream/AsyncWriteStream:
//   http::async_write(stream, request, handler);
//   http::async_read(stream, stream.buffer(), parser, handler);
//   websocket::stream<internal::Stream&> ws(stream);
//
// Threading: not thread-safe. Every call, and every completion handler, runs on the stream's
// executor (give it a strand when the runtime has several threads). One read and one write may
// be outstanding at a time, as with any Asio stream.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "otlp/core/status.h"
#include "otlp/net/internal/timed_socket.h"
#include "otlp/net/internal/tls.h"
#include "otlp/net/tls.h"

namespace otlp::net::internal {

// Errors of the stream's own reads (the rest are Asio's, Beast's and OpenSSL's).
enum class StreamError {
  kLineTooLong = 1,    // no CRLF within the line length limit
  kEndOfStreamInLine,  // the peer closed after part of a line
  kEndOfStreamInData,  // the peer closed before AsyncReadExactly had its bytes
  kTlsSetup,           // the TLS connection could not be prepared (ErrorStatus says why)
};
const boost::system::error_category& StreamErrorCategory() noexcept;
inline boost::system::error_code make_error_code(StreamError e) noexcept {
  return {static_cast<int>(e), StreamErrorCategory()};
}

}  // namespace otlp::net::internal

template <>
struct boost::system::is_error_code_enum<otlp::net::internal::StreamError> : std::true_type {};

namespace otlp::net::internal {

class Stream {
 public:
  using executor_type = boost::asio::any_io_executor;
  using Clock = std::chrono::steady_clock;
  using Handler = std::function<void(const boost::system::error_code&)>;
  // The view points into the stream's buffer and stays valid until the next read call.
  using DataHandler = std::function<void(const boost::system::error_code&, std::string_view)>;

  // Where AsyncConnect (or AsyncAccept) got to; names the step in error messages.
  enum class Phase { kNew, kResolve, kConnect, kHandshake, kOpen };

  // How long each step of the last client connect took; zero for a step that did not happen
  // (no resolve for an IP literal, no handshake for plain TCP).
  struct ConnectTimings {
    Clock::duration resolve{};
    Clock::duration connect{};
    Clock::duration handshake{};
  };

  // Room the read buffer keeps: Beast reads at most the buffer's free capacity (512 bytes when
  // empty), so large bodies need a roomy buffer to avoid thousands of tiny reads.
  static constexpr size_t kReadBufferBytes = 128 * 1024;

  // A client stream, not connected yet; TLS when `tls` is a client context.
  Stream(executor_type executor, std::shared_ptr<const TlsContext> tls);
  // A server stream over an accepted socket (which keeps its executor); TLS when `tls` is a
  // server context (AsyncAccept then runs the handshake).
  Stream(boost::asio::ip::tcp::socket socket, std::shared_ptr<const TlsContext> tls);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  executor_type get_executor() noexcept { return tcp().get_executor(); }
  bool is_tls() const noexcept { return tls_.has_value(); }
  Phase phase() const noexcept { return phase_; }
  bool is_open() const noexcept;

  // Client: resolves `host` (an IP literal skips the resolver), connects to the first address
  // that answers with TCP_NODELAY set, and with TLS runs the handshake: SNI and certificate
  // name from the context's server_name or `host`, ALPN from the context. All of it within
  // `deadline` (Clock::time_point::max() for none); a timeout is beast::error::timeout.
  void AsyncConnect(std::string host, uint16_t port, Clock::time_point deadline, Handler done);
  // Client, in two steps (a TLS connection through an HTTP CONNECT tunnel): AsyncConnectTcp
  // resolves and connects like AsyncConnect but leaves a TLS stream before its handshake (the
  // caller talks to the proxy through tcp()); AsyncHandshake then runs the TLS handshake with
  // SNI and certificate name from the context's server_name or `server_host`.
  void AsyncConnectTcp(std::string host, uint16_t port, Clock::time_point deadline, Handler done);
  void AsyncHandshake(std::string server_host, Clock::time_point deadline, Handler done);
  const ConnectTimings& connect_timings() const noexcept { return timings_; }
  // Server: the TLS handshake within `deadline` (plain streams complete at once).
  void AsyncAccept(Clock::time_point deadline, Handler done);

  // After a TLS handshake: version, cipher, ALPN protocol, SNI. Empty for plain streams.
  TlsSessionInfo tls_session();

  // Deadline for the reads and writes that follow (until changed); an operation pending when
  // it passes fails with beast::error::timeout and the stream is closed.
  void ExpiresAt(Clock::time_point when);
  void ExpiresAfter(Clock::duration after) { ExpiresAt(Clock::now() + after); }
  void ExpiresNever();

  // Bytes read from the peer and not consumed yet. Beast's parsers read through it
  // (http::async_read(stream, stream.buffer(), parser)); the line reader shares it, so a
  // protocol may switch between the two.
  boost::beast::flat_buffer& buffer() noexcept {
    ConsumeDelivered();
    return buffer_;
  }
  // Bytes buffered and not yet handed out by AsyncReadLine / AsyncReadExactly.
  size_t buffered_bytes() const noexcept { return buffer_.size() - delivered_; }
  // One line ending in CRLF, without the CRLF. A line longer than `max_length` bytes fails with
  // StreamError::kLineTooLong (as soon as more than max_length + 1 bytes without CRLF are
  // buffered, so an endless line never grows the buffer further); the peer closing mid-line is
  // kEndOfStreamInLine, closing between lines asio::error::eof.
  void AsyncReadLine(size_t max_length, DataHandler done);
  // Exactly `n` bytes (e.g. a NATS payload); the peer closing first is kEndOfStreamInData.
  void AsyncReadExactly(size_t n, DataHandler done);
  // Writes all of `buffers` (Asio's composed async_write over this stream).
  template <typename ConstBufferSequence, typename WriteHandler>
  void AsyncWriteAll(const ConstBufferSequence& buffers, WriteHandler&& done) {
    boost::asio::async_write(*this, buffers, std::forward<WriteHandler>(done));
  }

  // An idle stream (e.g. in a connection pool) is still usable: open, nothing buffered, and
  // (with `peek`, a non-blocking MSG_PEEK) the peer has neither sent a byte nor closed.
  bool IsReusable(bool peek = true);
  // Half-closes the TCP connection (no TLS close_notify): the peer reads EOF.
  void ShutdownSend() noexcept;
  // Closes the socket; pending operations complete with operation_aborted (a pending resolve or
  // connect too). Idempotent. The stream must outlive its pending operations (owners keep it
  // alive from their handlers, e.g. through a shared_ptr).
  void Close() noexcept;
  // "127.0.0.1:53122" / "[::1]:53122" of the peer, or empty when not connected.
  std::string RemoteAddress() const;

  // The Status for an error of this stream's connect, handshake or I/O with `peer` ("host:port"
  // for messages): kUnavailable for refused, reset, closed, DNS failures (retryable) and TLS
  // failures (not retryable), kPermissionDenied when the certificate failed verification,
  // kDeadlineExceeded for timeouts, kCancelled for operation_aborted, kResourceExhausted for an
  // over-long line, kInternal for errors of the protocol layered on top.
  Status ErrorStatus(const boost::system::error_code& ec, std::string_view peer);

  // The lowest layer, for socket options and raw reads (e.g. draining a closing connection).
  TimedSocket& tcp() noexcept { return tls_ ? tls_->next_layer() : *plain_; }
  const TimedSocket& tcp() const noexcept {
    return tls_ ? tls_->next_layer() : *plain_;
  }
  // OpenSSL's handle of a TLS stream, nullptr for plain.
  SSL* native_ssl() noexcept { return tls_ ? tls_->native_handle() : nullptr; }

  // AsyncReadStream / AsyncWriteStream: forwarded to the TLS or the plain stream (both
  // initiate with the same signature, so any completion token gives both the same type).
  template <typename MutableBufferSequence, typename ReadToken>
  auto async_read_some(const MutableBufferSequence& buffers, ReadToken&& token) {
    if (tls_) return tls_->async_read_some(buffers, std::forward<ReadToken>(token));
    return plain_->async_read_some(buffers, std::forward<ReadToken>(token));
  }
  template <typename ConstBufferSequence, typename WriteToken>
  auto async_write_some(const ConstBufferSequence& buffers, WriteToken&& token) {
    if (tls_) return tls_->async_write_some(buffers, std::forward<WriteToken>(token));
    return plain_->async_write_some(buffers, std::forward<WriteToken>(token));
  }

  // SyncReadStream / SyncWriteStream: blocking calls on the calling thread, each bounded by
  // the deadline given to SyncExpiresAt (TimedSocket's synchronous calls; through TLS, the
  // record layer's reads and writes are those calls). For a client that runs a request on its
  // own thread: no other thread may use the stream meanwhile.
  template <typename MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers, boost::system::error_code& ec) {
    if (tls_) return tls_->read_some(buffers, ec);
    return plain_->read_some(buffers, ec);
  }
  template <typename ConstBufferSequence>
  size_t write_some(const ConstBufferSequence& buffers, boost::system::error_code& ec) {
    if (tls_) return tls_->write_some(buffers, ec);
    return plain_->write_some(buffers, ec);
  }
  template <typename MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers) {
    if (tls_) return tls_->read_some(buffers);
    return plain_->read_some(buffers);
  }
  template <typename ConstBufferSequence>
  size_t write_some(const ConstBufferSequence& buffers) {
    if (tls_) return tls_->write_some(buffers);
    return plain_->write_some(buffers);
  }
  void SyncExpiresAt(Clock::time_point when) noexcept { tcp().set_sync_deadline(when); }

  // What Beast calls to drop the connection on an error (found by argument-dependent lookup).
  friend void beast_close_socket(Stream& stream) { stream.Close(); }
  // WebSocket closing handshake support (found by Beast through argument-dependent lookup).
  friend void teardown(boost::beast::role_type role, Stream& stream, boost::system::error_code& ec);
  template <typename TeardownHandler>
  friend void async_teardown(boost::beast::role_type role, Stream& stream,
                             TeardownHandler&& handler) {
    using boost::beast::websocket::async_teardown;
    if (stream.tls_) {
      async_teardown(role, *stream.tls_, std::forward<TeardownHandler>(handler));
    } else {
      async_teardown(role, *stream.plain_, std::forward<TeardownHandler>(handler));
    }
  }

 private:
  void StartConnect(std::string host, uint16_t port, Clock::time_point deadline, Handler done,
                    bool handshake);
  void Resolve(uint16_t port, Clock::time_point deadline, Handler done);
  void Connect(std::vector<boost::asio::ip::tcp::endpoint> endpoints, Clock::time_point deadline,
               Handler done);
  void Handshake(Clock::time_point deadline, Handler done);
  void ConsumeDelivered() noexcept {
    buffer_.consume(delivered_);
    delivered_ = 0;
  }
  void ReadMore(std::function<void(const boost::system::error_code&)> then);
  void ContinueLine(size_t max_length, DataHandler done, bool in_completion);
  void ContinueExactly(size_t n, DataHandler done, bool in_completion);
  void Complete(DataHandler done, boost::system::error_code ec, size_t length, bool in_completion);
  std::string_view View(size_t length) const noexcept {
    return {static_cast<const char*>(buffer_.data().data()), length};
  }

  std::shared_ptr<const TlsContext> tls_context_;  // outlives tls_
  std::optional<TimedSocket> plain_;
  std::optional<boost::beast::ssl_stream<TimedSocket>> tls_;
  std::optional<boost::asio::ip::tcp::resolver> resolver_;
  std::optional<boost::asio::steady_timer> resolve_timer_;
  boost::beast::flat_buffer buffer_;
  size_t delivered_ = 0;  // bytes at the front of buffer_ handed out by the last read call
  size_t line_scan_ = 0;  // bytes of buffer_ already searched for CRLF
  std::string host_;      // as given to AsyncConnect
  Phase phase_ = Phase::kNew;
  bool closed_ = false;
  bool resolve_timed_out_ = false;
  bool handshake_after_connect_ = true;
  ConnectTimings timings_;
  Status setup_error_;  // why kTlsSetup
};

}  // namespace otlp::net::internal
