// otlp/net/internal/h2_client.h — the client side of one HTTP/2 connection (nghttp2
// underneath): many concurrent requests on one connected internal::Stream, h2 over TLS (ALPN
// chose "h2") or h2c with prior knowledge over plain TCP. The engine a pooled transport stands
// on; it knows nothing of pools, retries or tracing.
//
//   H2ClientSession::Connect(asio::make_strand(ioc), tls_context /* ALPN "h2"; null: h2c */,
//       "example.com", 443, deadline, {}, [](Result<std::shared_ptr<H2ClientSession>> s) {
//         if (!s.ok()) return Fail(s.status());
//         (*s)->Submit({.method = "GET", .url = "https://example.com/"}, deadline,
//                      [](Result<HttpResponse> r) { ... });
//       });
//   // Or over a stream connected by the caller:
//   auto session = H2ClientSession::Start(std::move(stream), {});
//
// Requests: `HttpRequest::url` gives :scheme, :authority (the Host header, when given, wins)
// and :path; names are sent in lower case, connection-specific fields are dropped, user info
// becomes Basic authentication unless there is an Authorization header, content-length is
// set from the body for methods that carry one. At most the peer's SETTINGS_MAX_CONCURRENT_STREAMS
// (and Options::max_concurrent_streams) streams are open at once; further requests wait in
// FIFO order. Responses: interim (1xx) header blocks are skipped; the final :status must be
// 200..599; a trailing HEADERS frame fills HttpResponse::trailers. The body is collected in
// HttpResponse::body, or handed chunk by chunk to a BodySink; flow-control credit is returned
// as the body is taken (by the collector or the sink); a HeadersHandler sees the final status
// and headers when their HEADERS frame arrived, before any DATA. With
// HttpRequest::accept_truncated_body, a stream or connection that fails after the final
// response headers gives the partial response with body_truncated set instead of an error
// (deadline and Cancel() still fail).
// HttpResponse::timings.first_byte is the time from Submit() to the first response HEADERS
// frame of the stream; the other timings are left to the caller.
//
// Errors (Status, with H2ErrorKind in detail(), see h2_common.h):
//   kDeadlineExceeded  the request's deadline passed (the stream is reset with CANCEL)   kTimeout
//   kCancelled         Cancel() or Close()                                               kCancelled
//   kUnavailable       RST_STREAM REFUSED_STREAM (retryable); any other RST_STREAM (not) kStreamReset
//   kUnavailable       GOAWAY: not processed by the peer, retryable elsewhere            kGoAway
//   kUnavailable       the connection failed or closed (retryable)                       kConnection
//   kUnavailable       ... before the request's HEADERS went out (never sent; retryable) kNotSent
//   kInternal          protocol error: bad frames, bad :status                           kProtocol
//   kResourceExhausted response headers or body over the limits                          kTooLarge
//   kInvalidArgument   bad URL or header in the request
//
// Lifetime: the session keeps itself alive while its connection is open (its pending reads
// hold it); Close() ends it, and so does the connection ending.
//
// Threading: Submit, Cancel, Close and Ping are thread-safe (they post to the executor);
// the observers (CanTakeRequest, IsDraining, is_open, active_streams, queued_requests) are
// thread-safe snapshots. Callbacks run on the session's executor, each exactly once; they may
// call back into the session.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "otlp/core/status.h"
#include "otlp/net/http_client.h"
#include "otlp/net/internal/h2_common.h"
#include "otlp/net/internal/stream.h"
#include "otlp/net/internal/tls.h"

namespace otlp::net::internal {

class H2ClientSession final : public H2Connection {
 public:
  using Clock = std::chrono::steady_clock;
  using ResponseHandler = std::function<void(Result<HttpResponse>)>;
  // Receives the response body in order, chunk by chunk (the view is valid during the call);
  // when set, HttpResponse::body stays empty and max_response_body does not apply.
  using BodySink = std::function<void(std::string_view chunk)>;
  // Sees the final response's status and headers before any of its body.
  using HeadersHandler = std::function<void(int status, const Headers& headers)>;
  using SessionHandler = std::function<void(Result<std::shared_ptr<H2ClientSession>>)>;

  struct Options {
    // Our own cap on concurrent streams (the peer's SETTINGS_MAX_CONCURRENT_STREAMS applies too).
    uint32_t max_concurrent_streams = 256;
    // Largest collected response body; 0 = no limit. Larger fails with kResourceExhausted.
    size_t max_response_body = 16 * 1024 * 1024;
    // Largest response header list (names + values + 32 per field, as HTTP/2 counts it),
    // also advertised as SETTINGS_MAX_HEADER_LIST_SIZE.
    uint32_t max_header_list_size = 256 * 1024;
    // Receive windows: per stream (SETTINGS_INITIAL_WINDOW_SIZE) and for the connection.
    uint32_t stream_window = 4 * 1024 * 1024;
    uint32_t connection_window = 32 * 1024 * 1024;
    // PING every interval while the connection is open; no acknowledgement within
    // ping_timeout fails the connection (kUnavailable, kConnection). Zero: no PINGs.
    std::chrono::milliseconds ping_interval{0};
    std::chrono::milliseconds ping_timeout{20000};
  };

  // Starts a session on a connected stream: sends the client preface and SETTINGS and begins
  // reading. For TLS streams the caller has checked that ALPN chose "h2".
  static std::shared_ptr<H2ClientSession> Start(std::unique_ptr<Stream> stream, Options options);
  // Connects within `deadline` (TCP, and TLS when `tls` is given: the context must offer "h2" by
  // ALPN, e.g. {"h2", "http/1.1"}, and the server must choose it, else kUnavailable naming what
  // it chose), then Start(). Without `tls`: h2c with prior knowledge. `done` runs on `executor`
  // (give it a strand when the runtime has several threads).
  static void Connect(boost::asio::any_io_executor executor,
                      std::shared_ptr<const TlsContext> tls, std::string host, uint16_t port,
                      Clock::time_point deadline, Options options, SessionHandler done);

  ~H2ClientSession() override;

  // Sends `request` on a new stream (or queues it while the concurrency limit is reached);
  // `done` gets the response or an error by `deadline` (Clock::time_point::max(): none).
  // Returns an id for Cancel(). A session that is draining or closed fails the request with
  // kUnavailable (retryable, kGoAway or kConnection).
  uint64_t Submit(HttpRequest request, Clock::time_point deadline, ResponseHandler done,
                  BodySink sink = {}, HeadersHandler on_headers = {});
  // Fails the request with kCancelled and resets its stream with CANCEL; no-op when it has
  // completed.
  void Cancel(uint64_t id);
  // Fails every request with kCancelled, sends GOAWAY and closes the connection.
  void Close();
  // Sends a PING; `done` gets OK when the peer acknowledges it, or the connection error.
  void Ping(std::function<void(Status)> done);

  // Open, not draining, and a request would start at once (not wait for a stream slot).
  bool CanTakeRequest() const noexcept;
  // The peer sent GOAWAY (or Close() was called): no new streams; a pool opens a new session.
  bool IsDraining() const noexcept { return draining_.load(std::memory_order_acquire); }
  bool is_open() const noexcept { return open_.load(std::memory_order_acquire); }
  size_t active_streams() const noexcept { return active_.load(std::memory_order_acquire); }
  size_t queued_requests() const noexcept { return queued_.load(std::memory_order_acquire); }
  bool is_tls() const noexcept { return tls_; }

  struct Call;

 private:
  struct Private {};

 public:
  H2ClientSession(Private, std::unique_ptr<Stream> stream, Options options);

 private:
  std::shared_ptr<H2ClientSession> self() {
    return std::static_pointer_cast<H2ClientSession>(shared_from_this());
  }
  void Begin();
  void Enqueue(std::unique_ptr<Call> call);
  void StartQueued();
  bool StartCall(Call* call);
  void OnDeadline(uint64_t id);
  void CancelCall(uint64_t id, Status status, uint32_t rst_code);
  void Complete(Call* call, Result<HttpResponse> result);
  // Fails `call`, or with HttpRequest::accept_truncated_body and the final headers in, completes
  // it with the partial response and body_truncated set.
  void CompleteFailed(Call* call, Status status);
  void FailAll(const Status& status);
  void Drain(const Status& why);
  uint32_t StreamLimit() const;
  void UpdateCounters();
  void SchedulePing();
  void OnClosed(const Status& status) override;
  void AfterReceive() override;

  static int OnBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user_data);
  static int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t flags,
                      void* user_data);
  static int OnFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user_data);
  static int OnDataChunk(nghttp2_session*, uint8_t flags, int32_t stream_id, const uint8_t* data,
                         size_t len, void* user_data);
  static int OnStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code,
                           void* user_data);
  static int OnFrameNotSend(nghttp2_session*, const nghttp2_frame* frame, int lib_error_code,
                            void* user_data);
  static int OnFrameSend(nghttp2_session* session, const nghttp2_frame* frame, void* user_data);
  static int OnInvalidFrame(nghttp2_session*, const nghttp2_frame* frame, int lib_error_code,
                            void* user_data);
  static ssize_t ReadBody(nghttp2_session*, int32_t stream_id, uint8_t* buf, size_t length,
                          uint32_t* data_flags, nghttp2_data_source* source, void* user_data);

  Call* FindStream(int32_t stream_id);

  const Options options_;
  const bool tls_;
  std::atomic<uint64_t> next_id_{1};
  std::unordered_map<uint64_t, std::unique_ptr<Call>> calls_;  // not completed yet
  std::unordered_map<int32_t, Call*> by_stream_;               // calls with an open stream
  std::deque<uint64_t> queue_;                                  // waiting for a stream slot
  Status close_status_;  // why the session ended (after OnClosed)
  bool goaway_handled_ = false;
  int32_t goaway_last_stream_id_ = 0;
  boost::asio::steady_timer ping_timer_;
  bool ping_outstanding_ = false;
  Clock::time_point ping_sent_{};
  std::deque<std::function<void(Status)>> ping_waiters_;

  std::atomic<bool> open_{true};
  std::atomic<bool> draining_{false};
  std::atomic<size_t> active_{0};
  std::atomic<size_t> queued_{0};
  std::atomic<uint32_t> limit_{100};
};

}  // namespace otlp::net::internal
