// otlp/net/internal/h2_common.h — what the HTTP/2 client and server sessions (h2_client.h,
// h2_server.h) share: the error kinds they put in Status::detail(), HTTP/2 error-code names,
// the client connection preface, and H2Connection, the I/O pump that runs one nghttp2 session
// over one internal::Stream. Not installed; never include it from a public header.
//
// The pump: nghttp2 runs in memory mode. One read loop feeds every byte read to
// nghttp2_session_mem_recv; after each batch the output of nghttp2_session_mem_send is gathered
// into one buffer and written with a single write (further output waits for that write and
// goes out as the next single write). The connection ends when nghttp2 wants neither to read
// nor to write (after a GOAWAY exchange), on an I/O error, or on Close().
//
// Threading: everything runs on the stream's executor (a strand when the runtime has several
// threads); the sessions' thread-safe entry points post there.
#pragma once

#include <nghttp2/nghttp2.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/error_code.hpp>
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "otlp/core/status.h"
#include "otlp/net/headers.h"
#include "otlp/net/internal/stream.h"

namespace otlp::net::internal {

// The finer kind of an HTTP/2 session error, set as Status::detail() on the Status the sessions
// return. The transport maps these onto net::HttpErrorKind:
//   kStreamReset -> kStreamReset, kGoAway -> kGoAway, kProtocol -> kProtocol,
//   kConnection -> kConnectionReset, kTimeout -> kRequestTimeout, kCancelled -> kCancelled,
//   kTooLarge -> kTooLarge, kNotSent -> kConnectionReset (after its one resend).
enum class H2ErrorKind : uint16_t {
  kNone = 0,
  // The peer reset the stream (RST_STREAM); the message names the HTTP/2 error code. Only
  // REFUSED_STREAM (the request was not processed) is retryable.
  kStreamReset = 1,
  // The peer sent GOAWAY and the request was not processed (stream above the last-stream-id,
  // or not started yet); retryable on another connection.
  kGoAway = 2,
  // The peer broke HTTP/2 or HTTP semantics (bad frame, bad :status, connection error).
  kProtocol = 3,
  // The connection failed under the stream (I/O error, closed by the peer, PING unanswered).
  kConnection = 4,
  // The request's deadline passed; the stream was reset with CANCEL.
  kTimeout = 5,
  // Cancelled by the caller, or the session was closed.
  kCancelled = 6,
  // The response (headers or body) exceeds the configured limit.
  kTooLarge = 7,
  // The connection failed or closed (without GOAWAY) before the request's HEADERS were sent:
  // the peer never saw it; retryable on another connection, whatever the method.
  kNotSent = 8,
};

// The H2ErrorKind of a Status made by the sessions (kNone for others).
inline H2ErrorKind H2ErrorKindOf(const Status& status) noexcept {
  return static_cast<H2ErrorKind>(status.detail());
}
inline Status WithH2Kind(Status status, H2ErrorKind kind) {
  return std::move(status).WithDetail(static_cast<uint16_t>(kind));
}

// "REFUSED_STREAM", "PROTOCOL_ERROR"...; "error code 0x1f" for codes HTTP/2 does not define.
std::string H2ErrorCodeName(uint32_t error_code);

// What an HTTP/2 client sends first (RFC 9113 §3.4).
inline constexpr std::string_view kH2ClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
// True when `first_bytes` (what a client sent first, possibly only part of it) agrees with the
// client preface as far as it goes; a server that sees a full preface speaks h2c to the client.
inline bool MatchesH2Preface(std::string_view first_bytes) noexcept {
  const size_t n = std::min(first_bytes.size(), kH2ClientPreface.size());
  return first_bytes.substr(0, n) == kH2ClientPreface.substr(0, n);
}

// Connection-specific fields HTTP/2 forbids (RFC 9113 §8.2.2): Connection, Keep-Alive,
// Proxy-Connection, Transfer-Encoding, Upgrade (and TE other than "trailers").
bool IsConnectionSpecificHeader(std::string_view lower_name, std::string_view value) noexcept;

// A field value HTTP/2 can carry: no CR, LF or NUL (RFC 9113 §8.2.1).
bool IsValidFieldValue(std::string_view value) noexcept;

// Builds nghttp2_nv entries pointing into strings that must outlive the submit call.
class NvList {
 public:
  void Add(std::string_view name, std::string_view value);
  nghttp2_nv* data() noexcept { return nv_.data(); }
  size_t size() const noexcept { return nv_.size(); }

 private:
  std::vector<nghttp2_nv> nv_;
};

// Runs one nghttp2 session over one Stream (see the file comment). Subclasses create the
// session in their Start (callbacks with this object as user data), then call StartIo().
class H2Connection : public std::enable_shared_from_this<H2Connection> {
 public:
  H2Connection(const H2Connection&) = delete;
  H2Connection& operator=(const H2Connection&) = delete;
  virtual ~H2Connection();

  // "127.0.0.1:8443", for messages.
  const std::string& peer() const noexcept { return peer_; }
  boost::asio::any_io_executor executor() const { return executor_; }

 protected:
  H2Connection(std::unique_ptr<Stream> stream, size_t read_buffer_bytes);

  // Feeds the bytes the stream already buffered, flushes and starts the read loop.
  void StartIo();
  // Sends what nghttp2 has queued (one write at a time, output gathered into one buffer), and
  // ends the connection when nghttp2 is done with it.
  void Flush();
  // Ends the connection: closes the stream, frees the session and calls OnClosed(status) once
  // (an OK status when the session ended by itself after a GOAWAY exchange).
  void CloseConnection(Status status);
  bool closed() const noexcept { return closed_; }
  Stream& stream() noexcept { return *stream_; }

  // Called once, on the executor, when the connection ended; `status` says why.
  virtual void OnClosed(const Status& status) = 0;
  // Called after each batch of received bytes was processed, before flushing.
  virtual void AfterReceive() {}

  // Records nghttp2's description of the last session-level error (its error callback), so
  // that CloseConnection() can name what went wrong.
  static int OnNghttp2Error(nghttp2_session* session, int lib_error_code, const char* msg,
                            size_t len, void* user_data);
  // Records the error code of a GOAWAY nghttp2 sent (on its own when the peer broke the
  // protocol); register it as the session's on_frame_send callback.
  static int OnFrameSent(nghttp2_session* session, const nghttp2_frame* frame, void* user_data);
  // The Status for the connection ending because nghttp2 stopped (a GOAWAY sent or received)
  // or failed with `lib_error`.
  Status SessionEndStatus(int lib_error) const;

  nghttp2_session* session_ = nullptr;  // owned; freed by CloseConnection() or the destructor
  bool goaway_sent_by_us_ = false;      // set by subclasses that submit GOAWAY themselves
  uint32_t goaway_received_code_ = 0;
  uint32_t goaway_sent_code_ = 0;
  bool goaway_received_ = false;
  std::string last_lib_error_;  // nghttp2's message for the last session error

 private:
  void ReadSome();
  void OnRead(const boost::system::error_code& ec, size_t n);
  bool Receive(const uint8_t* data, size_t n);
  void OnWritten(const boost::system::error_code& ec);
  void MaybeFinish();

  std::unique_ptr<Stream> stream_;
  boost::asio::any_io_executor executor_;
  std::string peer_;
  std::vector<uint8_t> read_buf_;
  std::string out_;      // being written
  bool writing_ = false;
  bool reading_ = false;
  bool closed_ = false;
};

}  // namespace otlp::net::internal
