// examples/demo/inventory.h — the "inventory" service of the demo: an HTTP server that reserves
// stock, and the one place where the demo's flow fails on purpose, to show what a failure looks
// like in a trace.
//
//   auto inventory = otlp::demo::Inventory::Start({.port = 0});
//   if (!inventory.ok()) return inventory.status();
//   // POST http://127.0.0.1:<(*inventory)->port()>/stock/apple/reserve  ->  200 {"sku":"apple",…}
//   // POST .../stock/pear/reserve                                      ->  409 out of stock
//
// POST /stock/{sku}/reserve takes one unit of `sku` from a fixed in-memory stock (apple: 12,
// pear: 0, plum: 3). The library traces each request as a SERVER span "POST
// /stock/{sku}/reserve"; the handler adds an INTERNAL span "reserve stock" around the work it
// does. When the item is out of stock that span ends with status Error, the description "pear is
// out of stock" and error.type "out_of_stock", and the answer is 409. The SERVER span of a 409
// stays Unset: by the HTTP semantic conventions a 4xx is the caller's error, not the server's —
// the span that knows why the work failed is the one that says so. An unknown sku is 404.
// Threading: Start and the destructor from one thread; the HTTP handler runs on the server's
// I/O thread, the NATS one on the connection's delivery thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "otlp/core/status.h"
#include "otlp/http/server.h"
#include "otlp/nats/connection.h"

namespace otlp::demo {

class Inventory {
 public:
  struct Options {
    uint16_t port = 0;  // 0: an ephemeral port (see port())
    // NATS server: also answer `inventory.check` requests (queue group "inventory") with "ok"
    // when every item of {"items":[...]} is in stock, else "short: <sku>"; empty: HTTP only.
    std::string nats_url;
  };

  static Result<std::unique_ptr<Inventory>> Start(Options options);
  uint16_t port() const noexcept { return server_->port(); }

 private:
  Inventory() = default;
  void Reserve(const http::ServerRequest& req, http::ServerResponse& res);
  void Check(nats::Message& request);

  std::mutex mu_;
  std::map<std::string, int, std::less<>> stock_;  // guarded by mu_
  std::shared_ptr<nats::Connection> nats_;
  std::shared_ptr<nats::Subscription> checks_;
  std::unique_ptr<http::Server> server_;           // last: stops before the rest goes
};

}  // namespace otlp::demo
