#include "otlp/http/client.h"

#include <future>

#include "otlp/http/internal/engine.h"
#include "otlp/net/internal/caller_driven.h"

namespace otlp::http {

// How long a destroyed client waits for its cancelled requests to report.
constexpr std::chrono::milliseconds kShutdownWait{5000};

Result<std::unique_ptr<Client>> Client::Create(Options options) {
  if (!options.runtime && !options.threads) options.threads = 0;  // I/O on the sending thread
  OTLP_ASSIGN_OR_RETURN(std::shared_ptr<internal::Engine> engine,
                        internal::Engine::Create(std::move(options)));
  return std::unique_ptr<Client>(new Client(std::move(engine)));
}

Client::Client(std::shared_ptr<internal::Engine> engine) : engine_(std::move(engine)) {}

Client::~Client() {
  engine_->Shutdown(kShutdownWait);
}

void Client::Shutdown() noexcept {
  engine_->Shutdown(kShutdownWait);
}

Result<Response> Client::Send(Request request) {
  if (engine_->runtime().InIoThread()) {
    return FailedPreconditionError(
        "http::Client::Send() called on the client's own I/O thread, where it would deadlock; "
        "use AsyncClient");
  }
  net::Runtime& runtime = engine_->runtime();
  if (runtime.caller_driven()) {
    // The request runs right here over a pooled keep-alive connection when it can (see
    // net::HttpClient::SendFromCaller); otherwise this thread runs the I/O until the request is
    // over (or waits while another sending thread runs it).
    auto result = net::internal::DriveUntilDone<Result<Response>>(runtime, [&](auto done) {
      engine_->Submit(std::move(request), std::move(done), /*on_caller=*/true);
    });
    // A failed request may leave work behind (closing an abandoned connection): run what is
    // ready now rather than at the next Send().
    if (!result.ok()) runtime.Poll();
    return result;
  }
  // Shared with the callback: set_value() may still touch the promise after get() returned.
  auto promise = std::make_shared<std::promise<Result<Response>>>();
  std::future<Result<Response>> future = promise->get_future();
  engine_->Submit(std::move(request), [promise](Result<Response> result) {
    promise->set_value(std::move(result));
  });
  return future.get();
}

uint64_t Client::connections_opened() const noexcept {
  return engine_->transport().connections_opened();
}

size_t Client::idle_connections() const noexcept {
  return engine_->transport().idle_connections();
}

const std::shared_ptr<CookieJar>& Client::cookie_jar() const noexcept {
  return engine_->cookie_jar();
}

Result<Client*> DefaultClient() {
  // Destroyed with the other statics at exit: requests still in flight are cancelled and the
  // I/O thread joined (Client::~Client), so exit does not wait on the network.
  static Result<std::unique_ptr<Client>> client = Client::Create();
  if (!client.ok()) return client.status();
  return client->get();
}

}  // namespace otlp::http
