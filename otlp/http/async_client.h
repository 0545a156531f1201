// otlp/http/async_client.h — the asynchronous HTTP client: requests complete through a
// callback, a std::future, or a C++20 co_await; the client's I/O threads are its own.
//
//   auto client = otlp::http::AsyncClient::Create({.threads = 2, .max_in_flight = 64});
//   if (!client.ok()) return client.status();
//   otlp::http::AsyncClient& c = **client;
//
//   c.SendAsync(Request::Get(url), [](otlp::Result<Response> r) { ... });   // callback
//   std::future<otlp::Result<Response>> f = c.Send(Request::Get(url));        // future
//
//   // In any coroutine of yours (the client provides the awaitable, not a task type):
//   MyTask Load(otlp::http::AsyncClient& c) {
//     otlp::Result<Response> r = co_await c.Fetch(Request::Get(url));
//     ...   // resumes on one of the client's I/O threads
//   }
//
//   otlp::http::CancelToken cancel;
//   c.SendAsync(Request::Get(slow_url).With(cancel, Timeout{std::chrono::seconds(2)}), cb);
//   cancel.Cancel();                          // cb gets kCancelled (ErrorKind::kCancelled)
//
// The same engine as the synchronous Client: redirects, retries (waits are runtime timers,
// never a blocked thread), tracing and metrics. Options::max_in_flight bounds the requests in
// progress; the others wait in FIFO order (their timeout running: one that expires while
// waiting fails with kDeadlineExceeded). Cancellation completes the request at once, also one
// waiting for a slot or for a retry; an attempt already on the wire is aborted: its HTTP/1.1
// connection is closed (not reused), its HTTP/2 stream reset with CANCEL (the connection and
// its other streams go on).
//
// Threading: thread-safe. Callbacks (and coroutine resumptions) run on the client's I/O threads
// — exactly once per request, also for requests rejected before sending, and with kCancelled
// for those in flight when the client shuts down. Do not block in them: that stalls the I/O of
// every request. Destroying the client cancels what is in flight and waits (bounded) for the
// callbacks to return and the runtime's threads to be done with the client's work (on a shared
// runtime, briefly for the other work there too), unless done on one of its I/O threads.
#pragma once

#include <coroutine>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <utility>

#include "otlp/core/export.h"
#include "otlp/core/status.h"
#include "otlp/http/client.h"
#include "otlp/http/request.h"
#include "otlp/http/response.h"

namespace otlp::http {

class AsyncClient;

// What AsyncClient::Fetch returns: `co_await` it (once) in a coroutine. The request is sent
// when the coroutine suspends; the coroutine resumes on an I/O thread with the result.
class OTLP_EXPORT FetchAwaitable {
 public:
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> handle);
  Result<Response> await_resume();

 private:
  friend class AsyncClient;
  FetchAwaitable(AsyncClient* client, Request request)
      : client_(client), request_(std::move(request)) {}
  AsyncClient* client_;
  Request request_;
  std::optional<Result<Response>> result_;
};

class OTLP_EXPORT AsyncClient {
 public:
  using Options = ClientOptions;
  using Callback = std::function<void(Result<Response>)>;

  // kInvalidArgument for a bad retry policy, thread count or TLS option.
  static Result<std::unique_ptr<AsyncClient>> Create(Options options);
  static Result<std::unique_ptr<AsyncClient>> Create() { return Create(Options{}); }
  ~AsyncClient();
  AsyncClient(const AsyncClient&) = delete;
  AsyncClient& operator=(const AsyncClient&) = delete;

  // Never blocks; `done` runs once on an I/O thread.
  void SendAsync(Request request, Callback done);
  std::future<Result<Response>> Send(Request request);
  FetchAwaitable Fetch(Request request) { return FetchAwaitable(this, std::move(request)); }

  // Cancels every request (kCancelled) and makes later ones fail. Idempotent.
  void Shutdown() noexcept;

  uint64_t connections_opened() const noexcept;
  size_t idle_connections() const noexcept;
  // The client's cookie jar (null when ClientOptions::cookies is false).
  const std::shared_ptr<CookieJar>& cookie_jar() const noexcept;

 private:
  explicit AsyncClient(std::shared_ptr<internal::Engine> engine);
  std::shared_ptr<internal::Engine> engine_;
};

}  // namespace otlp::http
