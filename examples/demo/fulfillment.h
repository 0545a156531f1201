// examples/demo/fulfillment.h — the "fulfillment" worker of the demo: the messaging half of the
// checkout, on NATS. Orders publishes `orders.created` (the trace context in the message's
// headers); one member of the `fulfillment` queue group takes each order and:
//   1. asks inventory whether it can ship (request-reply on `inventory.check`),
//   2. appends the order to the JetStream stream ORDERS (`orders.log.<id>`),
//   3. records its state in the KV bucket `orders` (key = order id),
//   4. stores a receipt in the Object Store `receipts` (`<id>.json`),
//   5. announces it on `orders.fulfilled` ({"order_id","state"}).
// Every step is a span of the checkout's trace: the CONSUMER "process orders.created" is the
// child of orders' PRODUCER "send orders.created", and the request, the JetStream publish, the
// KV put and the object put are its children; inventory's "process inventory.check" is the
// child of the request.
//
//   auto worker = otlp::demo::Fulfillment::Start({.nats_url = "nats://127.0.0.1:4222"});
//
// The stream, bucket and store are created at start with tracing suppressed (set-up is not part
// of any checkout). A failed step is recorded on its span and the worker goes on with the next.
// Threading: Start and the destructor from one thread; the handler runs on the connection's
// delivery thread.
#pragma once

#include <memory>
#include <string>

#include "otlp/core/status.h"
#include "otlp/nats/connection.h"
#include "otlp/nats/jetstream.h"
#include "otlp/nats/kv.h"
#include "otlp/nats/object_store.h"

namespace otlp::demo {

class Fulfillment {
 public:
  struct Options {
    std::string nats_url;
  };

  static Result<std::unique_ptr<Fulfillment>> Start(Options options);
  ~Fulfillment();
  uint16_t port() const noexcept { return 0; }  // listens on nothing: it subscribes

 private:
  Fulfillment() = default;
  void Handle(nats::Message& order);

  std::shared_ptr<nats::Connection> conn_;
  std::shared_ptr<nats::JetStream> js_;
  std::shared_ptr<nats::KeyValue> kv_;
  std::shared_ptr<nats::ObjectStore> receipts_;
  std::shared_ptr<nats::Subscription> sub_;
};

}  // namespace otlp::demo
