#include "otlp/http/async_client.h"

#include "otlp/http/internal/engine.h"

namespace otlp::http {

constexpr std::chrono::milliseconds kShutdownWait{5000};

void FetchAwaitable::await_suspend(std::coroutine_handle<> handle) {
  // After SendAsync the coroutine may resume (and this awaitable go away) at any moment on an
  // I/O thread: nothing here touches `this` once the request is handed over.
  client_->SendAsync(std::move(request_), [this, handle](Result<Response> result) {
    result_.emplace(std::move(result));
    handle.resume();
  });
}

Result<Response> FetchAwaitable::await_resume() {
  return std::move(*result_);
}

Result<std::unique_ptr<AsyncClient>> AsyncClient::Create(Options options) {
  if (options.runtime ? options.runtime->caller_driven() : options.threads.value_or(1) == 0) {
    return InvalidArgumentError("http::AsyncClient needs at least one I/O thread of its own");
  }
  OTLP_ASSIGN_OR_RETURN(std::shared_ptr<internal::Engine> engine,
                        internal::Engine::Create(std::move(options)));
  return std::unique_ptr<AsyncClient>(new AsyncClient(std::move(engine)));
}

AsyncClient::AsyncClient(std::shared_ptr<internal::Engine> engine) : engine_(std::move(engine)) {}

AsyncClient::~AsyncClient() {
  engine_->Shutdown(kShutdownWait);
}

void AsyncClient::Shutdown() noexcept {
  engine_->Shutdown(kShutdownWait);
}

void AsyncClient::SendAsync(Request request, Callback done) {
  if (!done) done = [](Result<Response>) {};
  engine_->Submit(std::move(request), std::move(done));
}

std::future<Result<Response>> AsyncClient::Send(Request request) {
  auto promise = std::make_shared<std::promise<Result<Response>>>();
  std::future<Result<Response>> future = promise->get_future();
  SendAsync(std::move(request),
            [promise](Result<Response> result) { promise->set_value(std::move(result)); });
  return future;
}

uint64_t AsyncClient::connections_opened() const noexcept {
  return engine_->transport().connections_opened();
}

size_t AsyncClient::idle_connections() const noexcept {
  return engine_->transport().idle_connections();
}

const std::shared_ptr<CookieJar>& AsyncClient::cookie_jar() const noexcept {
  return engine_->cookie_jar();
}

}  // namespace otlp::http
