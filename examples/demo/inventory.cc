#include "examples/demo/inventory.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "otlp/trace/provider.h"
#include "otlp/trace/span.h"
#include "otlp/trace/tracer.h"

namespace otlp::demo {

Result<std::unique_ptr<Inventory>> Inventory::Start(Options options) {
  std::unique_ptr<Inventory> inventory(new Inventory());
  inventory->stock_ = {{"apple", 12}, {"pear", 0}, {"plum", 3}};
  inventory->server_ = http::Server::Create({.port = options.port});
  Inventory* self = inventory.get();
  OTLP_RETURN_IF_ERROR(inventory->server_->Post(
      "/stock/{sku}/reserve", [self](const http::ServerRequest& req, http::ServerResponse& res) {
        self->Reserve(req, res);
      }));
  OTLP_RETURN_IF_ERROR(inventory->server_->Start());
  if (!options.nats_url.empty()) {
    OTLP_ASSIGN_OR_RETURN(inventory->nats_,
                          nats::Connection::Connect(nats::Options{.servers = {options.nats_url},
                                                                  .name = "inventory"}));
    OTLP_ASSIGN_OR_RETURN(inventory->checks_,
                          inventory->nats_->QueueSubscribe(
                              "inventory.check", "inventory",
                              [self](nats::Message& m) { self->Check(m); }));
    OTLP_RETURN_IF_ERROR(inventory->nats_->Flush(std::chrono::seconds(5)));
  }
  return inventory;
}

void Inventory::Check(nats::Message& request) {
  // "process inventory.check" is current: this span is its child.
  trace::Span span = trace::GetTracer("otlp-demo.inventory")
                         .StartSpan("check stock", {{"code.function.name", "Inventory::Check"}});
  const nlohmann::json order = nlohmann::json::parse(request.data(), nullptr, false);
  std::string answer = "ok";
  if (order.is_object() && order.contains("items") && order["items"].is_array()) {
    std::lock_guard lock(mu_);
    for (const nlohmann::json& item : order["items"]) {
      if (!item.is_string()) continue;
      auto it = stock_.find(item.get<std::string>());
      if (it == stock_.end() || it->second == 0) {
        answer = "short: " + item.get<std::string>();
        break;
      }
    }
  }
  span.SetAttribute("app.stock.answer", answer);
  request.Respond(answer).IgnoreError();  // "send (temporary)", the reply
}

void Inventory::Reserve(const http::ServerRequest& req, http::ServerResponse& res) {
  const std::string sku(req.PathParam("sku").value_or(""));
  // The request's SERVER span is current here, so this span is its child. "app.*" is the
  // namespace the semantic conventions leave to applications.
  trace::Span span = trace::GetTracer("otlp-demo.inventory")
                         .StartSpan("reserve stock", {{"code.function.name", "Inventory::Reserve"},
                                                      {"app.product.sku", sku}});
  res.headers = {{"Content-Type", "application/json"}};
  std::lock_guard lock(mu_);
  auto item = stock_.find(sku);
  if (item == stock_.end()) {
    span.SetAttribute("error.type", "unknown_sku");
    span.SetStatus(trace::SpanStatusCode::kError, "no such product: " + sku);
    res.status = 404;
    res.body = nlohmann::json{{"sku", sku}, {"error", "unknown product"}}.dump();
    return;
  }
  if (item->second == 0) {
    // The failure the demo shows: error.type says what kind of failure it is (low cardinality,
    // for grouping), the status description says what happened this time.
    span.SetAttribute("error.type", "out_of_stock");
    span.SetStatus(trace::SpanStatusCode::kError, sku + " is out of stock");
    res.status = 409;
    res.body = nlohmann::json{{"sku", sku}, {"error", "out of stock"}}.dump();
    return;
  }
  --item->second;
  span.SetAttribute("app.stock.remaining", item->second);
  res.body = nlohmann::json{{"sku", sku}, {"reserved", 1}, {"remaining", item->second}}.dump();
}

}  // namespace otlp::demo
