#include "examples/demo/inventory.h"

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
  return inventory;
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
