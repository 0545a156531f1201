// examples/demo/notifications.h — the "notifications" service of the demo: a WebSocket endpoint
// that receives order events, and an example of tracing a server the library does not provide.
//
//   auto notifications = otlp::demo::Notifications::Start({.port = 0});
//   if (!notifications.ok()) return notifications.status();
//   std::string url = (*notifications)->url();     // "ws://127.0.0.1:9002/notifications"
//
// Why Boost.Beast here: otlp::http has a WebSocket client (http/websocket.h) but its server
// (http/server.h) answers requests and does not take over connections, so it cannot accept a
// WebSocket upgrade. This service accepts the upgrade with Boost.Beast — the library is built on
// it, so it adds no dependency — and traces it with otlp::http::TraceIncoming
// (http/server_tracing.h), the library's public API for requests received by someone else's
// server: it reads traceparent from the upgrade request (sent by the client's WebSocket::Connect)
// and starts a SERVER span "GET /notifications" with the HTTP semantic-convention attributes,
// ended with status 101 once the handshake is answered. Each message received on the connection
// is then an INTERNAL span "deliver notification", a child of that SERVER span, with the
// network.* attributes of the connection and the order id it carried (app.order.id). The same
// few lines trace any server loop: extract, span, end with the status.
//
// Only GET /notifications is served: another path gets 404, a request that is not an upgrade 426
// (both traced too). Messages of at most 64 KiB are accepted.
// Threading: one I/O thread runs every connection (the spans start and end on it). Start and the
// destructor from one thread; the destructor closes every connection.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "otlp/core/status.h"

namespace otlp::demo {

class Notifications {
 public:
  struct Options {
    uint16_t port = 0;  // 0: an ephemeral port (see port())
  };

  static Result<std::unique_ptr<Notifications>> Start(Options options);
  ~Notifications();
  Notifications(const Notifications&) = delete;
  Notifications& operator=(const Notifications&) = delete;

  uint16_t port() const noexcept;
  std::string url() const;  // "ws://127.0.0.1:<port>/notifications"

  struct Impl;

 private:
  explicit Notifications(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace otlp::demo
