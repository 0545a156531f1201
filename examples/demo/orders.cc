#include "examples/demo/orders.h"

#include <chrono>
#include <nlohmann/json.hpp>
#include <utility>

#include "otlp/http/websocket.h"
#include "otlp/trace/context.h"

namespace otlp::demo {

Result<std::unique_ptr<Orders>> Orders::Start(Options options) {
  std::unique_ptr<Orders> orders(new Orders(std::move(options)));
  // HTTP/2 needs no option: the server answers h2c (prior knowledge) and HTTP/1.1 on one port.
  if (!orders->options_.nats_url.empty()) {
    OTLP_ASSIGN_OR_RETURN(orders->nats_,
                          nats::Connection::Connect(nats::Options{
                              .servers = {orders->options_.nats_url}, .name = "orders"}));
  }
  orders->server_ = http::Server::Create({.port = orders->options_.port});
  Orders* self = orders.get();
  OTLP_RETURN_IF_ERROR(orders->server_->Put(
      "/orders/{id}", [self](const http::ServerRequest& req, http::ServerResponse& res) {
        self->Place(req, res);
      }));
  orders->worker_ = std::thread([self] { self->WorkerLoop(); });
  OTLP_RETURN_IF_ERROR(orders->server_->Start());
  return orders;
}

Orders::~Orders() {
  if (server_) server_->Stop();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    jobs_.clear();  // their deferred responses are dropped: those connections are closed
  }
  wake_.notify_one();
  if (worker_.joinable()) worker_.join();
}

void Orders::Place(const http::ServerRequest& req, http::ServerResponse& res) {
  if (!warmed_up_.exchange(true)) {
    res.status = 503;  // the SERVER span records error.type "503" and status Error
    res.body = "warming up, try again";
    return;
  }
  const std::string id(req.PathParam("id").value_or(""));
  const nlohmann::json body = nlohmann::json::parse(req.body(), nullptr, false);
  const nlohmann::json items =
      body.is_object() ? body.value("items", nlohmann::json::array()) : nlohmann::json::array();
  // Answer later, from the worker thread; the SERVER span ends when that answer is sent.
  std::shared_ptr<http::ServerResponder> later = res.Defer();
  Post([this, later, id, items, context = req.context()] {
    trace::Scope scope(context);  // the request's trace, current on this thread
    const bool notified = Notify(id).ok();
    if (nats_) {
      // "send orders.created": the fulfillment worker continues this trace from the headers.
      nats_->Publish("orders.created", nlohmann::json{{"order_id", id}, {"items", items}}.dump())
          .IgnoreError();
      nats_->Flush(std::chrono::seconds(2)).IgnoreError();
    }
    later->Send(
        201, {{"Content-Type", "application/json"}},
        nlohmann::json{{"order_id", id}, {"status", "confirmed"}, {"notified", notified}}.dump());
  });
}

Status Orders::Notify(const std::string& order_id) {
  // Connect sends the current context in the upgrade request and traces the upgrade.
  OTLP_ASSIGN_OR_RETURN(std::unique_ptr<http::WebSocket> ws,
                        http::WebSocket::Connect(options_.notifications_url,
                                                 {.connect_timeout = std::chrono::seconds(5)}));
  OTLP_RETURN_IF_ERROR(
      ws->SendText(nlohmann::json{{"event", "order.confirmed"}, {"order_id", order_id}}.dump()));
  return ws->Close(1000, "sent");
}

void Orders::Post(std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

void Orders::WorkerLoop() {
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    if (stopping_) return;
    std::function<void()> job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job();
    lock.lock();
  }
}

}  // namespace otlp::demo
