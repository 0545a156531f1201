// examples/demo/orders.h — the "orders" service of the demo: an HTTP server reached over HTTP/2
// (h2c, the same port also serves HTTP/1.1) that confirms orders and pushes a notification over
// WebSocket for each.
//
//   auto orders = otlp::demo::Orders::Start(
//       {.port = 0, .notifications_url = "ws://127.0.0.1:9002/notifications"});
//   if (!orders.ok()) return orders.status();
//   // PUT http://127.0.0.1:<(*orders)->port()>/orders/1001 {"items":["apple"]}  ->  201
//
// PUT /orders/{id} (a PUT: placing the same order twice is harmless, so clients may retry it).
// The first request this service receives is answered 503 Service Unavailable, as a service
// still warming up would: the caller's RetryPolicy sends it again, and the trace shows both
// attempts (the second with http.request.resend_count = 1). Every later request is confirmed:
// the service opens a WebSocket to the notifications service, sends one text message
// {"event":"order.confirmed","order_id":…}, closes it, and answers 201 with the order.
//
// Handlers run on the server's I/O threads and must not block, while WebSocket::Connect blocks.
// So the handler defers its response (ServerResponse::Defer) and hands the work to a worker
// thread with the request's context (ServerRequest::context()); there a trace::Scope makes that
// context current again, so the WebSocket's upgrade span (a CLIENT span "GET", with traceparent
// sent in the upgrade request) is a child of this request's SERVER span. A notification that
// cannot be sent does not fail the order: the upgrade span records the failure, and the answer
// says "notified": false. With a NATS server, the confirmed order is then published on
// `orders.created` (a PRODUCER span, its context in the message headers) for the fulfillment
// worker, still inside the request's trace.
// Threading: Start and the destructor from one thread. The destructor stops the server, drops
// work not yet started and waits for the job in progress (bounded by the WebSocket's 5 s
// connect timeout).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "otlp/core/status.h"
#include "otlp/http/server.h"
#include "otlp/nats/connection.h"

namespace otlp::demo {

class Orders {
 public:
  struct Options {
    uint16_t port = 0;              // 0: an ephemeral port (see port())
    std::string notifications_url;  // ws://host:port/notifications
    // NATS server: each confirmed order is published on `orders.created` for fulfillment
    // (fulfillment.h); empty: no messaging.
    std::string nats_url;
  };

  static Result<std::unique_ptr<Orders>> Start(Options options);
  ~Orders();
  uint16_t port() const noexcept { return server_->port(); }

 private:
  explicit Orders(Options options) : options_(std::move(options)) {}
  void Place(const http::ServerRequest& req, http::ServerResponse& res);
  // Sends the order's notification over a new WebSocket connection (blocking).
  Status Notify(const std::string& order_id);
  // Queues `job` for the worker thread.
  void Post(std::function<void()> job);
  void WorkerLoop();

  const Options options_;
  std::shared_ptr<nats::Connection> nats_;  // when options_.nats_url is set
  std::atomic<bool> warmed_up_{false};  // set by the first request, which gets the 503

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;  // guarded by mu_
  bool stopping_ = false;                   // guarded by mu_
  std::thread worker_;

  std::unique_ptr<http::Server> server_;
};

}  // namespace otlp::demo
