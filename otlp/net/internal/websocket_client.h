// otlp/net/internal/websocket_client.h — the WebSocket client engine (RFC 6455, Boost.Beast's
// websocket::stream over internal::Stream, so plain TCP or TLS): the upgrade handshake, a write
// queue that serializes data frames, pings and the close handshake, and a read loop that keeps
// reading (so pings are answered and the peer's close is seen) into a bounded queue of received
// messages. The user-facing API is otlp/http/websocket.h. Not installed; never include it from a
// public header.
//
//   auto ws = WebSocketClient::Create(runtime, tls_context);   // tls_context null: ws://
//   ws->AsyncConnect({.host = "127.0.0.1", .port = 8080, .target = "/chat", ...},
//                    [](Status s, WebSocketHandshake hs) { ... });
//   ws->AsyncWrite(WebSocketMessage::kText, "hello", /*fin=*/true, [](Status s) { ... });
//   ws->AsyncReceive([](Result<WebSocketFrameMessage> m) { ... });
//
// Threading: every method may be called from any thread; the work is posted to the client's
// strand and every handler runs there (on an I/O thread of the runtime). At most one
// AsyncReceive may be outstanding. Writes complete in the order they were queued.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "otlp/core/status.h"
#include "otlp/net/headers.h"
#include "otlp/net/runtime.h"

namespace otlp::net::internal {

class TlsContext;

// What one Receive yields: a whole data message, or the peer's close frame.
struct WebSocketFrameMessage {
  enum Kind : uint8_t { kText, kBinary, kClose };
  Kind kind = kText;
  std::string data{};       // the payload; for kClose the peer's reason
  uint16_t close_code = 0;  // kClose only (1005 when the peer's close frame had no code)
};

struct WebSocketConnectParams {
  std::string host{};
  uint16_t port = 0;
  std::string target = "/";
  std::string authority{};  // the Host header
  Headers headers{};        // extra upgrade request headers
  std::vector<std::string> subprotocols{};
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  size_t max_message_size = 16 * 1024 * 1024;  // 0: no limit
  bool permessage_deflate = false;
  std::string user_agent{};
};

// What the upgrade response said.
struct WebSocketHandshake {
  int status = 0;  // 101 when upgraded; the refusing status otherwise (0: no response)
  Headers headers{};
  std::string subprotocol{};  // chosen by the server, empty when none
  bool permessage_deflate = false;
};

// Error kinds carried in Status::detail() by this engine (see net::HttpErrorKind for the HTTP
// ones; these stay apart so both can be merged into one enumeration later).
enum class WebSocketErrorKind : uint16_t {
  kNone = 0,
  kUpgradeRefused = 100,  // the server answered the upgrade with a status other than 101
  kMessageTooBig,         // a received message exceeded max_message_size (closed with 1009)
  kClosed,                // the connection was closed (by either side) before the operation
  kProtocol,              // the peer broke RFC 6455 (closed with 1002)
};

class WebSocketClient : public std::enable_shared_from_this<WebSocketClient> {
 public:
  enum class DataType : uint8_t { kText, kBinary };
  using ConnectHandler = std::function<void(Status, WebSocketHandshake)>;
  using DoneHandler = std::function<void(Status)>;
  using ReceiveHandler = std::function<void(Result<WebSocketFrameMessage>)>;
  using PongHandler = std::function<void(std::string_view payload)>;

  // Received messages wait in a queue while nobody receives; reading pauses once it holds this
  // many messages (or max_message_size bytes), so a slow reader bounds memory.
  static constexpr size_t kMaxQueuedMessages = 64;

  static std::shared_ptr<WebSocketClient> Create(Runtime& runtime,
                                                 std::shared_ptr<const TlsContext> tls);
  ~WebSocketClient();
  WebSocketClient(const WebSocketClient&) = delete;
  WebSocketClient& operator=(const WebSocketClient&) = delete;

  // Called (on the strand) with the payload of every pong received. Set before AsyncConnect.
  void SetPongHandler(PongHandler handler);

  // Connects, runs TLS and the upgrade within params.deadline, then starts reading.
  void AsyncConnect(WebSocketConnectParams params, ConnectHandler done);
  // One frame of a message (fin = false: more fragments follow; the type of a continuation is
  // that of the first fragment).
  void AsyncWrite(DataType type, std::string data, bool fin, DoneHandler done);
  void AsyncPing(std::string payload, DoneHandler done);
  // Sends a close frame with `code` and `reason`, waits for the peer's, then closes the
  // connection (bounded by the handshake timeout, the connect timeout given to AsyncConnect).
  void AsyncClose(uint16_t code, std::string reason, DoneHandler done);
  // The next received message, or the error that ended reading. The peer's close frame is
  // delivered once as a kClose message; receives after that fail with kFailedPrecondition.
  void AsyncReceive(ReceiveHandler done);
  // Closes the socket without a close handshake; pending operations fail. Forgets the pong
  // handler, a pending receive handler and the handlers of queued writes without calling them. `done` runs on the strand
  // once that is done.
  void Abort(std::function<void()> done);

  struct Impl;

 private:
  explicit WebSocketClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace otlp::net::internal
