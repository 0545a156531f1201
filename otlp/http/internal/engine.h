// The request engine shared by Client and AsyncClient: admission (max_in_flight), and for each
// request the attempts on the transport, redirects, retries with backoff timers, tracing,
// metrics and cancellation. Internal: not an API.
//
// Per request it also applies the client's cookie jar (Cookie per hop, Set-Cookie stored from
// every response), its proxy configuration, content decoding of the final body, streamed
// uploads (BodyStream, with rewind before a resend) and streamed downloads (OnBody, SaveTo,
// decoded by their Content-Encoding on the way to the sink).
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <unordered_set>

#include "otlp/core/internal/mutex.h"
#include "otlp/core/status.h"
#include "otlp/http/client.h"
#include "otlp/net/http_client.h"
#include "otlp/net/url.h"
#include "otlp/net/runtime.h"
#include "otlp/trace/tracer.h"

namespace otlp::http::internal {

class Exchange;

class Engine : public std::enable_shared_from_this<Engine> {
 public:
  using Callback = std::function<void(Result<Response>)>;

  static Result<std::shared_ptr<Engine>> Create(ClientOptions options);
  ~Engine();

  // Starts the request; `done` runs exactly once, on an I/O thread (or, for the first attempt's
  // synchronous failures, on this one). Never blocks, except with `on_caller` (a Client whose
  // caller waits for the answer): then an attempt may run synchronously on this thread
  // (net::HttpClient::SendFromCaller), and `done` may run here before Submit returns.
  void Submit(Request request, Callback done, bool on_caller = false);
  // Cancels every request (kCancelled), shuts the transport down, and (unless called on an I/O
  // thread) waits until every callback has returned, at most `wait`.
  void Shutdown(std::chrono::milliseconds wait) noexcept;

  net::Runtime& runtime() { return *runtime_; }
  net::HttpClient& transport() { return *transport_; }
  const ClientOptions& options() const { return options_; }
  // Null when cookies are off.
  const std::shared_ptr<CookieJar>& cookie_jar() const { return cookie_jar_; }
  const ProxyConfig& proxy() const { return proxy_; }
  trace::Tracer& tracer() { return tracer_; }
  RequestDurationHistogram* histogram() const { return histogram_; }

  // Exchange → engine: the request is over; admits the next waiting one.
  void Release(const std::shared_ptr<Exchange>& exchange) OTLP_EXCLUDES(mu_);

 private:
  Engine(ClientOptions options, std::shared_ptr<net::Runtime> runtime,
         std::unique_ptr<net::HttpClient> transport, std::shared_ptr<CookieJar> cookie_jar,
         ProxyConfig proxy);

  void Quiesce(std::chrono::steady_clock::time_point deadline) noexcept;

  const ClientOptions options_;
  const std::shared_ptr<net::Runtime> runtime_;
  const std::unique_ptr<net::HttpClient> transport_;
  const std::shared_ptr<CookieJar> cookie_jar_;
  const ProxyConfig proxy_;
  trace::Tracer tracer_;  // thread-safe
  RequestDurationHistogram* const histogram_;

  otlp::internal::Mutex mu_;
  otlp::internal::CondVar drained_;
  std::unordered_set<std::shared_ptr<Exchange>> live_ OTLP_GUARDED_BY(mu_);
  std::deque<std::shared_ptr<Exchange>> waiting_ OTLP_GUARDED_BY(mu_);
  size_t in_flight_ OTLP_GUARDED_BY(mu_) = 0;
  bool shut_down_ OTLP_GUARDED_BY(mu_) = false;
};

}  // namespace otlp::http::internal
