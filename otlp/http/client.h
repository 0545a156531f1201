// otlp/http/client.h — the synchronous HTTP client: one-off calls with otlp::http::Get(url),
// Post(url, body), ..., and a reusable Client with its own connection pool, retries, redirects
// and tracing.
//
//   #include "otlp/http/client.h"
//   using namespace otlp::http;
//
//   otlp::Result<Response> r = Get("https://example.com/");         // the default client
//   otlp::Result<Response> p = Post("http://127.0.0.1:8080/echo", std::string("hello"));
//   if (r.ok() && r->ok()) std::cout << r->Text();
//
//   auto client = Client::Create({.default_headers = {{"Accept", "application/json"}},
//                                 .retry = {.max_attempts = 5}});
//   if (!client.ok()) return client.status();
//   Result<Response> user = (*client)->Post("https://api.example.com/users",
//                                           Json{{"name", "Ada"}}, Bearer{token});
//   Result<Response> page = (*client)->Send(
//       Request::Get("https://example.com/search").With(Query{"q", "otel"}));
//
// A Client keeps keep-alive connections per origin (otlp::net::HttpClient underneath), so reuse
// one for many requests. Errors come back as a Status (see error.h for telling them apart); an
// HTTP 4xx/5xx answer is a Response (check Response::ok()). Retries (retry.h), redirects
// (RedirectPolicy in request.h), tracing (tracing.h) and the duration metric (metrics.h) apply
// to every request, with per-request overrides on the Request; so do the client's cookie jar
// (cookies.h), proxy configuration (proxy.h, from the environment by default) and content
// decoding (see ClientOptions). Bodies may be streamed both ways (BodyStream, Multipart with
// streamed parts, OnBody, SaveTo, OnProgress in request.h).
//
//   (*client)->Get("https://example.com/big.iso", SaveTo{"/tmp/big.iso"},
//                  OnProgress{[](const Progress& p) { Show(p.received, p.receive_total); }});
//
// The default client behind the free functions is created on first use with default options
// and lives until static destruction at exit, where it cancels requests still in flight (they
// fail with kCancelled) and joins its I/O thread, so exit never waits on the network. Calling
// the free functions from threads that outlive main() is not supported.
//
// Threading: Client is thread-safe; many threads may Send() at once. Send() blocks the calling
// thread, and by default does the request's I/O on it (ClientOptions::threads): a request over
// a pooled HTTP/1.1 keep-alive connection (its body in memory, nothing streamed) runs on its
// own sending thread with blocking calls; for the rest (new connections, HTTP/2, streamed
// bodies), when several threads send at once, one of them runs the I/O of all (callbacks such
// as OnBody may run on another sending thread than their own). Called on one of the client's
// own I/O threads (for instance from such a callback) it fails with kFailedPrecondition rather
// than deadlock. Destroying the client cancels requests in flight and waits (bounded, a few
// seconds at most) for their completion and for the runtime's threads to be done with the
// client's work, except when done on one of those threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "otlp/core/export.h"
#include "otlp/core/status.h"
#include "otlp/core/version.h"
#include "otlp/http/cookies.h"
#include "otlp/http/error.h"
#include "otlp/http/metrics.h"
#include "otlp/http/proxy.h"
#include "otlp/http/request.h"
#include "otlp/http/response.h"
#include "otlp/http/retry.h"
#include "otlp/http/tracing.h"
#include "otlp/net/headers.h"
#include "otlp/net/http_client.h"
#include "otlp/net/runtime.h"

namespace otlp::http {

namespace internal {
class Engine;
}

// Options of Client and AsyncClient.
struct OTLP_EXPORT ClientOptions {
  // I/O threads of the client's own runtime (named "otlp-http"); ignored with `runtime`.
  // Unset: none for a Client (each Send() runs its request's I/O on the calling thread, no
  // hand-off to another thread; over a pooled HTTP/1.1 keep-alive connection with blocking
  // calls; idle connections expire when the pool next looks at their origin),
  // one for an AsyncClient. 0 (Client only): none, as unset.
  std::optional<int> threads{};
  // Share an existing runtime instead (kept alive by the client).
  std::shared_ptr<net::Runtime> runtime{};
  // The transport: TLS, connect timeout, default (whole-request) timeout, pool sizes, limits.
  net::HttpClient::Options transport{};
  // Sent with every request unless the request has a header of the same name.
  net::Headers default_headers{};
  // User-Agent unless the request sets one; empty: the transport's default.
  std::string user_agent = kUserAgent;
  RetryPolicy retry{};
  RedirectPolicy redirects{};
  TracingOptions tracing{};
  // Record http.client.request.duration: into `duration_histogram`, or the process-wide
  // DefaultRequestDurationHistogram() when null.
  bool metrics = true;
  std::shared_ptr<RequestDurationHistogram> duration_histogram{};
  // Cookies (RFC 6265): Set-Cookie of every response, redirect hops included, is stored, and
  // each request (each hop) carries the Cookie header that applies to its URL, unless it has
  // its own Cookie header. `cookie_jar` null: the client has a jar of its own; set: that jar,
  // shared with whoever else holds it. `cookies` false: neither stored nor sent.
  bool cookies = true;
  std::shared_ptr<CookieJar> cookie_jar{};
  // Content decoding: requests carry "Accept-Encoding: gzip, deflate, br, zstd" unless they
  // have their own Accept-Encoding, and a response body with a Content-Encoding is decoded
  // (within transport.max_response_body); the decoded response has no Content-Encoding and no
  // Content-Length header (they described the bytes on the wire). A body that does not decode
  // fails the request with ErrorKind::kDecoding. false: neither (the body as sent). Streamed
  // downloads (OnBody, SaveTo) are decoded on their way to the sink; a request opts out with
  // Decompress{false}.
  bool decompress = true;
  // HTTP proxies (CONNECT for https): unset, from HTTP_PROXY / HTTPS_PROXY / NO_PROXY (see
  // ProxyConfig::FromEnvironment; a malformed variable fails Create); set, that configuration
  // (ProxyConfig{} for none).
  std::optional<ProxyConfig> proxy{};
  // Requests on the wire (or waiting for a retry) at once; more wait in FIFO order, their
  // timeout running. 0: unlimited.
  size_t max_in_flight = 0;
};

class OTLP_EXPORT Client {
 public:
  using Options = ClientOptions;

  // kInvalidArgument for a bad retry policy, thread count, proxy variable or TLS option (the
  // transport's errors as they are).
  static Result<std::unique_ptr<Client>> Create(Options options);
  static Result<std::unique_ptr<Client>> Create() { return Create(Options{}); }
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Blocks until the final response (after redirects and retries), an error, the request's
  // timeout or its cancellation.
  Result<Response> Send(Request request);

  // Request::Make(method, url).With(options...) sent.
  template <typename... O>
  Result<Response> Get(std::string url, O&&... options) {
    return Send(Request::Get(std::move(url)).With(std::forward<O>(options)...));
  }
  template <typename... O>
  Result<Response> Head(std::string url, O&&... options) {
    return Send(Request::Head(std::move(url)).With(std::forward<O>(options)...));
  }
  template <typename... O>
  Result<Response> Post(std::string url, O&&... options) {
    return Send(Request::Post(std::move(url)).With(std::forward<O>(options)...));
  }
  template <typename... O>
  Result<Response> Put(std::string url, O&&... options) {
    return Send(Request::Put(std::move(url)).With(std::forward<O>(options)...));
  }
  template <typename... O>
  Result<Response> Patch(std::string url, O&&... options) {
    return Send(Request::Patch(std::move(url)).With(std::forward<O>(options)...));
  }
  template <typename... O>
  Result<Response> Delete(std::string url, O&&... options) {
    return Send(Request::Delete(std::move(url)).With(std::forward<O>(options)...));
  }

  // Cancels requests in flight (kCancelled) and makes later ones fail. Idempotent.
  void Shutdown() noexcept;

  // The transport's counters (connections opened, idle in the pool).
  uint64_t connections_opened() const noexcept;
  size_t idle_connections() const noexcept;
  // The client's cookie jar (null when ClientOptions::cookies is false).
  const std::shared_ptr<CookieJar>& cookie_jar() const noexcept;

 private:
  explicit Client(std::shared_ptr<internal::Engine> engine);
  std::shared_ptr<internal::Engine> engine_;
};

// The process-wide client behind the free functions (see the top of this file), created on the
// first call; an error only if it could not be created (e.g. the system CA store failed).
OTLP_EXPORT Result<Client*> DefaultClient();

template <typename... O>
Result<Response> Get(std::string url, O&&... options) {
  OTLP_ASSIGN_OR_RETURN(Client* client, DefaultClient());
  return client->Get(std::move(url), std::forward<O>(options)...);
}
template <typename... O>
Result<Response> Head(std::string url, O&&... options) {
  OTLP_ASSIGN_OR_RETURN(Client* client, DefaultClient());
  return client->Head(std::move(url), std::forward<O>(options)...);
}
// Post(url, body_or_options...): a std::string, Body, Json or Form is the body.
template <typename... O>
Result<Response> Post(std::string url, O&&... options) {
  OTLP_ASSIGN_OR_RETURN(Client* client, DefaultClient());
  return client->Post(std::move(url), std::forward<O>(options)...);
}
template <typename... O>
Result<Response> Put(std::string url, O&&... options) {
  OTLP_ASSIGN_OR_RETURN(Client* client, DefaultClient());
  return client->Put(std::move(url), std::forward<O>(options)...);
}
template <typename... O>
Result<Response> Patch(std::string url, O&&... options) {
  OTLP_ASSIGN_OR_RETURN(Client* client, DefaultClient());
  return client->Patch(std::move(url), std::forward<O>(options)...);
}
template <typename... O>
Result<Response> Delete(std::string url, O&&... options) {
  OTLP_ASSIGN_OR_RETURN(Client* client, DefaultClient());
  return client->Delete(std::move(url), std::forward<O>(options)...);
}

}  // namespace otlp::http
