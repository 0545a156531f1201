#include "examples/demo/frontend.h"

#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

namespace otlp::demo {

namespace {

using namespace std::chrono_literals;

// What one checkout waits for: the order and each reservation. The last callback to complete
// answers the deferred request.
class PendingCheckout {
 public:
  PendingCheckout(std::shared_ptr<http::ServerResponder> responder, std::string order_id,
                  size_t items)
      : responder_(std::move(responder)), order_id_(std::move(order_id)), waiting_(items + 1) {}

  void OrderDone(const Result<http::Response>& r) {
    std::lock_guard lock(mu_);
    if (!r.ok()) {
      order_error_ = r.status().ToString();
    } else if (r->status != 201) {
      order_error_ = "orders answered " + std::to_string(r->status);
    }
    Finish();
  }
  void ReservationDone(const std::string& sku, const Result<http::Response>& r) {
    std::lock_guard lock(mu_);
    (r.ok() && r->ok() ? reserved_ : backordered_).push_back(sku);
    Finish();
  }

 private:
  void Finish() {  // under mu_
    if (--waiting_ > 0) return;
    if (!order_error_.empty()) {
      responder_->Send(502, {{"Content-Type", "text/plain"}}, "order failed: " + order_error_);
      return;
    }
    nlohmann::json body{{"order_id", order_id_},
                        {"status", "confirmed"},
                        {"reserved", reserved_},
                        {"backordered", backordered_}};
    responder_->Send(200, {{"Content-Type", "application/json"}}, body.dump());
  }

  std::mutex mu_;
  std::shared_ptr<http::ServerResponder> responder_;
  std::string order_id_;
  size_t waiting_;
  std::string order_error_;
  std::vector<std::string> reserved_;
  std::vector<std::string> backordered_;
};

}  // namespace

Result<std::unique_ptr<Frontend>> Frontend::Start(Options options) {
  std::unique_ptr<Frontend> frontend(new Frontend(std::move(options)));

  // Orders: HTTP/2 without TLS (h2c, prior knowledge); three attempts, a short backoff. The
  // services talk over loopback: never through a proxy that HTTP_PROXY may name.
  http::ClientOptions orders_options{
      .retry = {.max_attempts = 3, .initial_backoff = 50ms},
      .proxy = http::ProxyConfig{},
  };
  orders_options.transport.http_version = net::HttpVersionPolicy::kHttp2PriorKnowledge;
  orders_options.transport.default_timeout = 10s;
  OTLP_ASSIGN_OR_RETURN(frontend->orders_, http::AsyncClient::Create(std::move(orders_options)));

  // Inventory: HTTP/1.1 (the default). A reservation is a POST, which is not retried anyway.
  http::ClientOptions inventory_options{.proxy = http::ProxyConfig{}};
  inventory_options.transport.default_timeout = 10s;
  OTLP_ASSIGN_OR_RETURN(frontend->inventory_,
                        http::AsyncClient::Create(std::move(inventory_options)));

  frontend->server_ = http::Server::Create({.port = frontend->options_.port});
  Frontend* self = frontend.get();
  OTLP_RETURN_IF_ERROR(frontend->server_->Post(
      "/checkout", [self](const http::ServerRequest& req, http::ServerResponse& res) {
        self->Checkout(req, res);
      }));
  OTLP_RETURN_IF_ERROR(frontend->server_->Start());
  return frontend;
}

void Frontend::Checkout(const http::ServerRequest& req, http::ServerResponse& res) {
  const nlohmann::json cart =
      nlohmann::json::parse(req.body(), nullptr, /*allow_exceptions=*/false);
  std::vector<std::string> items;
  if (cart.is_object() && cart.contains("items") && cart["items"].is_array()) {
    for (const nlohmann::json& item : cart["items"]) {
      if (item.is_string()) items.push_back(item.get<std::string>());
    }
  }
  if (items.empty()) {
    res.status = 400;
    res.body = "expected {\"items\": [\"sku\", ...]}";
    return;
  }

  const std::string order_id = std::to_string(next_order_id_++);
  auto pending = std::make_shared<PendingCheckout>(res.Defer(), order_id, items.size());

  // UrlTemplate names the CLIENT span ("PUT /orders/{id}") and sets url.template: span names
  // stay few however many orders there are.
  orders_->SendAsync(http::Request::Put(options_.orders_url + "/orders/" + order_id)
                         .With(http::Json{{"items", items}}, http::UrlTemplate{"/orders/{id}"}),
                     [pending](Result<http::Response> r) { pending->OrderDone(r); });
  for (const std::string& sku : items) {
    inventory_->SendAsync(
        http::Request::Post(options_.inventory_url + "/stock/" + sku + "/reserve")
            .With(http::UrlTemplate{"/stock/{sku}/reserve"}),
        [pending, sku](Result<http::Response> r) { pending->ReservationDone(sku, r); });
  }
}

}  // namespace otlp::demo
