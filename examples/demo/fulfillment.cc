#include "examples/demo/fulfillment.h"

#include <chrono>
#include <nlohmann/json.hpp>
#include <sstream>

#include "otlp/trace/context.h"

namespace otlp::demo {

using namespace std::chrono_literals;

Result<std::unique_ptr<Fulfillment>> Fulfillment::Start(Options options) {
  std::unique_ptr<Fulfillment> f(new Fulfillment());
  OTLP_ASSIGN_OR_RETURN(f->conn_, nats::Connection::Connect(
                                      nats::Options{.servers = {options.nats_url},
                                                    .name = "fulfillment"}));
  {
    // Creating the stream, the bucket and the store is not part of a checkout's trace.
    trace::SuppressTracingScope setup;
    OTLP_ASSIGN_OR_RETURN(f->js_, nats::JetStream::Create(f->conn_));
    OTLP_RETURN_IF_ERROR(
        f->js_->CreateStream({.name = "ORDERS", .subjects = {"orders.log.>"}}).status());
    OTLP_ASSIGN_OR_RETURN(f->kv_, nats::KeyValue::Create(f->js_, {.bucket = "orders"}));
    OTLP_ASSIGN_OR_RETURN(f->receipts_, nats::ObjectStore::Create(f->js_, {.bucket = "receipts"}));
  }
  Fulfillment* self = f.get();
  OTLP_ASSIGN_OR_RETURN(f->sub_,
                        f->conn_->QueueSubscribe("orders.created", "fulfillment",
                                                 [self](nats::Message& m) { self->Handle(m); }));
  OTLP_RETURN_IF_ERROR(f->conn_->Flush(5s));
  return f;
}

Fulfillment::~Fulfillment() {
  if (conn_) conn_->Drain(5s).IgnoreError();  // the order in progress finishes first
}

void Fulfillment::Handle(nats::Message& order) {
  // The CONSUMER span "process orders.created" is current here: every call below is its child.
  const nlohmann::json o = nlohmann::json::parse(order.data(), nullptr, false);
  if (o.is_discarded() || !o.contains("order_id")) return;
  const std::string id = o["order_id"].get<std::string>();

  Result<nats::Message> stock = conn_->Request("inventory.check", order.data(), 2s);
  const bool can_ship = stock.ok() && stock->data() == "ok";

  const std::string state = can_ship ? "fulfilled" : "backordered";
  js_->Publish("orders.log." + id,
               nlohmann::json{{"order_id", id}, {"state", state}}.dump(),
               {.msg_id = "order-" + id})
      .status()
      .IgnoreError();
  kv_->Put(id, state).status().IgnoreError();

  std::istringstream receipt(
      nlohmann::json{{"order_id", id}, {"items", o.value("items", nlohmann::json::array())},
                     {"state", state}}
          .dump(2));
  receipts_->Put({.name = id + ".json"}, receipt).status().IgnoreError();

  // Done: whoever waits for this order (otlp demo does) hears it.
  conn_->Publish("orders.fulfilled", nlohmann::json{{"order_id", id}, {"state", state}}.dump())
      .IgnoreError();
  conn_->Flush(2s).IgnoreError();
}

}  // namespace otlp::demo
