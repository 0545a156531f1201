// otlp/http/websocket.h — a WebSocket client (RFC 6455) for ws:// and wss://: text and binary
// messages, fragmented sends, ping/pong, the close handshake with codes, a maximum message size
// and permessage-deflate. The upgrade request is traced: a CLIENT span named "GET" with the HTTP
// semantic-convention attributes, ended when the handshake completes or fails, and the current
// context (traceparent, tracestate, baggage — whatever the global propagator writes) injected
// into the upgrade request.
//
//   auto ws = otlp::http::WebSocket::Connect("wss://chat.example.com/room",
//                                            {.subprotocols = {"chat.v1"}});
//   if (!ws.ok()) return ws.status();              // e.g. "upgrade refused ...: HTTP 403"
//   OTLP_RETURN_IF_ERROR((*ws)->SendText("hello"));
//   otlp::Result<otlp::http::WebSocketMessage> m = (*ws)->Receive(std::chrono::seconds(5));
//   if (m.ok() && m->type == otlp::http::WebSocketMessage::Type::kText) Print(m->data);
//   OTLP_RETURN_IF_ERROR((*ws)->Close(1000, "done"));
//
//   // Or receive asynchronously (the callback runs on an I/O thread; receive again from it):
//   (*ws)->ReceiveAsync([](otlp::Result<otlp::http::WebSocketMessage> m) { ... });
//
// Behaviour: the connection keeps reading in the background (so pings are answered with pongs
// and the peer's close frame is seen) into a bounded queue; reading pauses while 64 messages
// wait unreceived. A message larger than max_message_size fails the receive with
// kResourceExhausted and closes the connection with code 1009. The peer's close frame arrives as
// a message of type kClose with its code and reason (then the connection is closed; further
// receives fail with kFailedPrecondition). Errors: kInvalidArgument (bad URL or options),
// kUnavailable (refused, reset, DNS, TLS; a refused upgrade names the HTTP status, and
// WebSocketErrorKindOf() tells it apart), kPermissionDenied (certificate), kDeadlineExceeded
// (connect timeout, Receive timeout), kResourceExhausted (message too big), kFailedPrecondition
// (closed), kInternal (protocol violations by the peer). A failed Connect carries an
// http::ErrorKind (ErrorKindOf in error.h: kConnectTimeout, kCertificate, kProtocol, the
// WebSocket kinds, ...), whose ErrorKindName is the upgrade span's error.type (the refusing
// HTTP status instead when there is one), as on the HTTP client's spans.
//
// Threading: every method is thread-safe. Sends from several threads are serialized (each
// message goes out whole, in the order the calls were made) — except that the fragments of one
// message sent with SendFragment must not be interleaved with other sends. One reader at a time:
// concurrent Receive/ReceiveAsync calls fail with kFailedPrecondition. The blocking calls
// (Connect, Send*, Ping, Close, Receive) must not be made on the runtime's I/O threads (they fail
// with kFailedPrecondition there); use SendAsync and ReceiveAsync from callbacks. Callbacks (the
// pong callback, ReceiveAsync, SendAsync) run on an I/O thread and never after the WebSocket was
// destroyed (destroyed on an I/O thread: a callback already running elsewhere may still finish).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "otlp/core/export.h"
#include "otlp/core/status.h"
#include "otlp/core/version.h"
#include "otlp/net/headers.h"
#include "otlp/net/runtime.h"
#include "otlp/net/tls.h"

namespace otlp::http {

struct OTLP_EXPORT WebSocketMessage {
  enum class Type : uint8_t { kText, kBinary, kClose };
  Type type = Type::kText;
  // The payload (UTF-8 for text); for kClose the peer's close reason.
  std::string data{};
  // For kClose: the peer's close code (1005 when its close frame carried none).
  uint16_t close_code = 0;
};

struct OTLP_EXPORT WebSocketOptions {
  // TLS for wss:// (CA, client certificate, SNI, verification).
  net::TlsOptions tls{};
  // Extra upgrade request headers (e.g. Authorization, Origin).
  net::Headers headers{};
  // Offered in Sec-WebSocket-Protocol, most preferred first; see WebSocket::subprotocol().
  std::vector<std::string> subprotocols{};
  // DNS, TCP, TLS and the upgrade together; also bounds the closing handshake.
  std::chrono::milliseconds connect_timeout{10000};
  // Largest message accepted (after decompression); 0 = no limit.
  size_t max_message_size = 16 * 1024 * 1024;
  // Offer permessage-deflate (RFC 7692); see WebSocket::permessage_deflate().
  bool permessage_deflate = false;
  // Called with the payload of every pong received (answers to Ping and unsolicited ones).
  std::function<void(std::string_view payload)> on_pong{};
  // The runtime whose I/O thread runs the connection; a new one-thread runtime when null.
  std::shared_ptr<net::Runtime> runtime{};
  std::string user_agent = kUserAgent;
};

class OTLP_EXPORT WebSocket {
 public:
  using ReceiveCallback = std::function<void(Result<WebSocketMessage>)>;
  using SendCallback = std::function<void(Status)>;

  // Connects to a ws:// or wss:// URL and completes the upgrade. Blocks (bounded by
  // options.connect_timeout).
  static Result<std::unique_ptr<WebSocket>> Connect(std::string_view url,
                                                    WebSocketOptions options = {});
  // Closes the connection without a close handshake (call Close() first for a clean one) and
  // waits until no callback runs any more (unless called on an I/O thread).
  ~WebSocket();
  WebSocket(const WebSocket&) = delete;
  WebSocket& operator=(const WebSocket&) = delete;

  // A whole message; blocks until it is written.
  Status SendText(std::string_view text);
  Status SendBinary(std::string_view data);
  // The same, without blocking: `done` (optional) runs on an I/O thread once written or failed.
  void SendAsync(WebSocketMessage::Type type, std::string data, SendCallback done = {});
  // One fragment of a message: `last` = false sends a frame without FIN, and the fragments that
  // follow continue the message (their `type` is ignored) until one with `last` = true.
  Status SendFragment(WebSocketMessage::Type type, std::string_view data, bool last);

  // The next message, waiting at most `timeout` (kDeadlineExceeded then; no message is lost: the
  // next receive gets it).
  Result<WebSocketMessage> Receive(std::chrono::milliseconds timeout);
  // The next message, delivered to `done` on an I/O thread.
  void ReceiveAsync(ReceiveCallback done);

  // Sends a ping (payload at most 125 bytes); the pong arrives through options.on_pong.
  Status Ping(std::string_view payload = {});
  // The close handshake: sends a close frame with `code` (1000 normal, 1001 going away, 3000-4999
  // application codes) and `reason` (at most 123 bytes), waits for the peer's close frame and
  // closes the connection. Messages the peer sent before its close frame can still be received.
  // Closing an already closed connection succeeds.
  Status Close(uint16_t code = 1000, std::string_view reason = {});

  // What the upgrade agreed on.
  const std::string& subprotocol() const noexcept { return subprotocol_; }
  bool permessage_deflate() const noexcept { return permessage_deflate_; }
  const net::Headers& response_headers() const noexcept { return response_headers_; }

  struct State;

 private:
  WebSocket() = default;
  Status SendBlocking(int type, std::string data, bool fin);
  Status Wait(std::function<void(std::function<void(Status)>)> start);

  std::shared_ptr<State> state_;
  std::string subprotocol_;
  bool permessage_deflate_ = false;
  net::Headers response_headers_;
};

// The finer kind of a WebSocket failure, in Status::detail() (WebSocketErrorKindOf reads it).
// Transport failures (refused, timeouts, TLS) carry the network layer's kinds instead.
enum class WebSocketErrorKind : uint16_t {
  kNone = 0,
  kUpgradeRefused = 100,  // the server answered the upgrade with another status than 101; the
                          // message names it ("... refused by host:port: HTTP 403 Forbidden")
  kMessageTooBig,         // a received message exceeded max_message_size (closed with 1009)
  kClosed,                // the connection was already closed (by either side)
  kProtocol,              // the peer broke RFC 6455 or chose a subprotocol not offered
};
OTLP_EXPORT WebSocketErrorKind WebSocketErrorKindOf(const Status& status) noexcept;

}  // namespace otlp::http
