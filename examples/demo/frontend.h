// examples/demo/frontend.h — the "frontend" service of the demo: the HTTP/1.1 entry point that
// a checkout goes through. It calls two services at once and answers when both are done.
//
//   auto frontend = otlp::demo::Frontend::Start({.port = 0,
//                                                .orders_url = "http://127.0.0.1:9001",
//                                                .inventory_url = "http://127.0.0.1:9003"});
//   if (!frontend.ok()) return frontend.status();
//   // POST http://127.0.0.1:<(*frontend)->port()>/checkout {"items":["apple","pear"]}
//   //   -> 200 {"order_id":"1001","status":"confirmed","reserved":["apple"],
//   //           "backordered":["pear"]}
//
// POST /checkout with {"items": [sku, ...]} picks an order id and, concurrently, with two
// AsyncClients:
//   - places the order: PUT {orders_url}/orders/{id} over HTTP/2 (h2c with prior knowledge),
//     retried by the client's RetryPolicy (a PUT is idempotent; 503 is one of the retried
//     statuses) — each attempt is its own CLIENT span;
//   - reserves each item: POST {inventory_url}/stock/{sku}/reserve over HTTP/1.1.
// The answer is 200 with the items reserved and those backordered (inventory said 409), 502
// when the order could not be placed, 400 for a body that is not such JSON.
//
// Tracing needs no code here: the server makes the request's SERVER span current while the
// handler runs, and each SendAsync made in it starts its CLIENT spans as children of that span
// and sends their traceparent. The handler must not block, so it defers its response and the
// last callback to finish sends it (callbacks run on the clients' I/O threads).
// Threading: Start and the destructor from one thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "otlp/core/status.h"
#include "otlp/http/async_client.h"
#include "otlp/http/server.h"

namespace otlp::demo {

class Frontend {
 public:
  struct Options {
    uint16_t port = 0;          // 0: an ephemeral port (see port())
    std::string orders_url;     // http://host:port of the orders service
    std::string inventory_url;  // http://host:port of the inventory service
  };

  static Result<std::unique_ptr<Frontend>> Start(Options options);
  uint16_t port() const noexcept { return server_->port(); }

 private:
  explicit Frontend(Options options) : options_(std::move(options)) {}
  void Checkout(const http::ServerRequest& req, http::ServerResponse& res);

  const Options options_;
  std::atomic<int> next_order_id_{1001};
  std::unique_ptr<http::AsyncClient> orders_;     // HTTP/2, with retries
  std::unique_ptr<http::AsyncClient> inventory_;  // HTTP/1.1, no retries
  std::unique_ptr<http::Server> server_;          // last: stops before the clients go
};

}  // namespace otlp::demo
