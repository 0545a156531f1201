// otlp/net/internal/h2_server.h — the server side of one HTTP/2 connection (nghttp2
// underneath) on an accepted internal::Stream: h2 over TLS (ALPN chose "h2") or h2c with prior
// knowledge (the client preface arrives first; MatchesH2Preface in h2_common.h tells a server
// that peeks at the first bytes). Each request, with its whole body, goes to a handler that
// answers through an H2Reply, at once or later from any thread. The engine under the traced
// HTTP server's HTTP/2 side and the gRPC receiver.
//
//   auto session = H2ServerSession::Start(std::move(accepted_stream), {},
//       [](H2ServerRequest request, H2Reply reply) {
//         reply.Send({.status = 200, .headers = {{"content-type", "text/plain"}},
//                     .body = "hello", .trailers = {{"grpc-status", "0"}}});
//       });
//   ...
//   session->Shutdown();  // GOAWAY; in-flight streams finish, then the connection closes
//
// Limits: a request whose header list exceeds max_header_list_size is answered 431, a body over
// max_request_body 413 (the rest of the body is discarded); streams beyond
// max_concurrent_streams are refused by nghttp2 (RST_STREAM REFUSED_STREAM). Requests that
// break HTTP/2's rules (missing or bad pseudo-headers, connection-specific fields) are reset
// by nghttp2 with PROTOCOL_ERROR; frames that break the framing end the connection with GOAWAY.
//
// Lifetime: the session keeps itself alive while its connection is open; Close() or
// Shutdown() end it.
//
// Threading: H2Reply, Shutdown, GoAway, Close and the observers are thread-safe (they post to
// the session's executor). The handler and on_closed run on the executor.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "otlp/core/status.h"
#include "otlp/net/headers.h"
#include "otlp/net/internal/h2_common.h"
#include "otlp/net/internal/stream.h"

namespace otlp::net::internal {

class H2ServerSession;

struct H2ServerRequest {
  int32_t stream_id = 0;
  std::string method{};
  std::string scheme{};
  std::string authority{};  // :authority, or the Host header when absent
  std::string path{};       // path and query
  Headers headers{};        // regular fields, lower-case names, in order
  std::string body{};
  Headers trailers{};       // a trailing HEADERS frame of the request
  std::string remote_address{};
};

struct H2ServerResponse {
  int status = 200;
  Headers headers{};  // names are lower-cased; connection-specific fields are dropped
  std::string body{};
  // Sent as a trailing HEADERS frame when not empty (gRPC's grpc-status goes here).
  Headers trailers{};
};

// How a handler answers one request; copyable, thread-safe, may outlive the session (then it
// does nothing). The first Send or Reset counts; later calls do nothing.
class H2Reply {
 public:
  H2Reply() = default;
  void Send(H2ServerResponse response) const;
  // Resets the stream with RST_STREAM `error_code` (e.g. NGHTTP2_CANCEL).
  void Reset(uint32_t error_code) const;
  int32_t stream_id() const noexcept { return stream_id_; }

 private:
  friend class H2ServerSession;
  H2Reply(std::weak_ptr<H2ServerSession> session, int32_t stream_id)
      : session_(std::move(session)), stream_id_(stream_id) {}
  std::weak_ptr<H2ServerSession> session_;
  int32_t stream_id_ = 0;
};

class H2ServerSession final : public H2Connection {
 public:
  using Handler = std::function<void(H2ServerRequest request, H2Reply reply)>;

  struct Options {
    uint32_t max_concurrent_streams = 100;
    uint32_t max_header_list_size = 64 * 1024;
    size_t max_request_body = 16 * 1024 * 1024;  // 0 = no limit
    uint32_t stream_window = 1024 * 1024;
    uint32_t connection_window = 16 * 1024 * 1024;
    // Called once when the connection has ended (OK after a clean GOAWAY exchange).
    std::function<void(const Status&)> on_closed{};
  };

  // Starts serving an accepted stream (TLS handshake done): sends SETTINGS and reads the
  // client preface; bytes the stream already buffered (a protocol detector's peek) count.
  static std::shared_ptr<H2ServerSession> Start(std::unique_ptr<Stream> stream, Options options,
                                                Handler handler);
  ~H2ServerSession() override;

  // Graceful: GOAWAY (NO_ERROR) naming the last stream accepted; those streams finish, then
  // the connection closes. Idempotent.
  void Shutdown();
  // Sends GOAWAY with `last_stream_id` and `error_code` now (for fault injection and tests:
  // a last-stream-id below open streams tells the client those were not processed).
  void GoAway(int32_t last_stream_id, uint32_t error_code);
  // Closes the connection at once; open streams are dropped.
  void Close();

  bool is_open() const noexcept { return open_.load(std::memory_order_acquire); }
  size_t active_streams() const noexcept { return active_.load(std::memory_order_acquire); }
  uint64_t requests_received() const noexcept {
    return requests_.load(std::memory_order_acquire);
  }

  struct ServerStream;

 private:
  struct Private {};

 public:
  H2ServerSession(Private, std::unique_ptr<Stream> stream, Options options, Handler handler);

 private:
  friend class H2Reply;
  std::shared_ptr<H2ServerSession> self() {
    return std::static_pointer_cast<H2ServerSession>(shared_from_this());
  }
  void Begin();
  void Dispatch(ServerStream* stream);
  void Respond(int32_t stream_id, H2ServerResponse response);
  void Reset(int32_t stream_id, uint32_t error_code);
  void UpdateCounters();
  void OnClosed(const Status& status) override;
  void AfterReceive() override;
  ServerStream* Find(int32_t stream_id);

  static int OnBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user_data);
  static int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t flags,
                      void* user_data);
  static int OnFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user_data);
  static int OnDataChunk(nghttp2_session*, uint8_t flags, int32_t stream_id, const uint8_t* data,
                         size_t len, void* user_data);
  static int OnStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code,
                           void* user_data);
  static ssize_t ReadBody(nghttp2_session*, int32_t stream_id, uint8_t* buf, size_t length,
                          uint32_t* data_flags, nghttp2_data_source* source, void* user_data);

  const Options options_;
  Handler handler_;
  std::unordered_map<int32_t, std::unique_ptr<ServerStream>> streams_;
  std::vector<int32_t> ready_;  // requests complete, to hand to the handler after mem_recv
  bool shutting_down_ = false;
  std::atomic<bool> open_{true};
  std::atomic<size_t> active_{0};
  std::atomic<uint64_t> requests_{0};
};

}  // namespace otlp::net::internal
