// otlp/http/request.h — an HTTP request as otlp::http sends it, and the strong types that build
// one: headers, query parameters, JSON and form bodies, authentication, a timeout, a redirect or
// retry policy for this request only, the URL template that names its span, and cancellation.
//
//   using namespace otlp::http;
//   Request r = Request::Post("https://api.example.com/users")
//                   .With(Json{{"name", "Ada"}, {"admin", false}},   // Content-Type: application/json
//                         Bearer{token},                              // Authorization: Bearer ...
//                         Query{"dry_run", "1"},                      // ...users?dry_run=1
//                         Timeout{std::chrono::seconds(5)},
//                         UrlTemplate{"/users"});                     // span "POST /users"
//   Request search = Request::Get("https://example.com/search")
//                        .With(QueryParams{{"q", "C++ 20"}, {"page", "2"}});  // q=C%2B%2B%2020
//   Request login = Request::Post(url).With(Form{{"user", "ada"}, {"pass", "x y"}});
//
//   CancelToken cancel;
//   auto future = async_client.Send(Request::Get(url).With(cancel));
//   cancel.Cancel();                      // the request completes with kCancelled
//
// Fields may also be set directly (Request is an aggregate-like struct). Query parameters are
// appended to the URL, percent-encoded, when the request is sent; the URL itself must already
// be valid (its own query is kept as written). Headers are case-insensitive (net::Headers); a
// header set here wins over the client's defaults of the same name.
//
// Threading: Request is a value type. A CancelToken is a shared handle: copies cancel the same
// requests, Cancel() may be called from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "otlp/core/export.h"
#include "otlp/http/retry.h"
#include "otlp/net/headers.h"

namespace otlp::http {

// Ordered name/value pairs; a name may repeat ("tag=a&tag=b").
using QueryParams = std::vector<std::pair<std::string, std::string>>;

// One header field (added; repeated names are kept).
struct Header {
  std::string name;
  std::string value;
};
// One query parameter, appended to the URL percent-encoded.
struct Query {
  std::string name;
  std::string value;
};
// A raw body, with the Content-Type to send (none when empty).
struct Body {
  std::string data;
  std::string content_type{};
};
// A JSON body (Content-Type: application/json). Invalid UTF-8 in strings is replaced (U+FFFD)
// rather than failing.
struct Json {
  nlohmann::json value;
  Json(nlohmann::json v) : value(std::move(v)) {}  // NOLINT(google-explicit-constructor)
  Json(nlohmann::json::initializer_list_t init) : value(init) {}
};
// An application/x-www-form-urlencoded body.
struct Form {
  QueryParams fields;
  Form(QueryParams f) : fields(std::move(f)) {}  // NOLINT(google-explicit-constructor)
  Form(std::initializer_list<std::pair<std::string, std::string>> f) : fields(f) {}
};
// Authorization: Bearer <token>.
struct Bearer {
  std::string token;
};
// Authorization: Basic base64(user:password).
struct Basic {
  std::string user;
  std::string password;
};
// The whole-request deadline: every attempt, redirect and retry wait included.
struct Timeout {
  std::chrono::milliseconds value;
  template <typename Rep, typename Period>
  Timeout(std::chrono::duration<Rep, Period> d)  // NOLINT(google-explicit-constructor)
      : value(std::chrono::duration_cast<std::chrono::milliseconds>(d)) {}
};
// The low-cardinality path template of the URL ("/users/{id}"): the span is named
// "{method} {template}" and gets `url.template`.
struct UrlTemplate {
  std::string value;
};

// What to do with a 3xx answer that has a Location header.
struct OTLP_EXPORT RedirectPolicy {
  // false: a 3xx is returned as the response.
  bool follow = true;
  // Redirects followed per request; one more is an error (ErrorKind::kTooManyRedirects).
  int max_redirects = 10;

  static RedirectPolicy None() { return RedirectPolicy{.follow = false}; }
};

// Cancels requests it was given to (Request::With(token) or Request::cancel). Copies share the
// state; a default-constructed token is a fresh, uncancelled one.
class OTLP_EXPORT CancelToken {
 public:
  CancelToken();
  // Cancels every request carrying this token (now and later); idempotent, thread-safe.
  void Cancel() noexcept;
  bool cancelled() const noexcept;

  // For the client: runs `f` once when the token is cancelled (at once, on this thread, when it
  // already is); returns an id for Unsubscribe. `f` runs on the thread calling Cancel().
  uint64_t Subscribe(std::function<void()> f);
  void Unsubscribe(uint64_t id) noexcept;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

struct OTLP_EXPORT Request {
  std::string method = "GET";
  // Absolute http:// or https:// URL; "user:password@" in it is sent as Basic authentication.
  std::string url{};
  net::Headers headers{};
  // Appended to the URL's query, percent-encoded (RFC 3986: space as %20).
  QueryParams query{};
  std::string body{};
  // Zero: the client's default (Options::transport.default_timeout).
  std::chrono::milliseconds timeout{0};
  // Unset: the client's policies.
  std::optional<RedirectPolicy> redirects{};
  std::optional<RetryPolicy> retry{};
  // See UrlTemplate.
  std::string url_template{};
  // Unset: not cancellable.
  std::optional<CancelToken> cancel{};

  static Request Get(std::string url) { return Make("GET", std::move(url)); }
  static Request Head(std::string url) { return Make("HEAD", std::move(url)); }
  static Request Post(std::string url) { return Make("POST", std::move(url)); }
  static Request Put(std::string url) { return Make("PUT", std::move(url)); }
  static Request Patch(std::string url) { return Make("PATCH", std::move(url)); }
  static Request Delete(std::string url) { return Make("DELETE", std::move(url)); }
  static Request Make(std::string method, std::string url) {
    Request r;
    r.method = std::move(method);
    r.url = std::move(url);
    return r;
  }

  // Applies options in order: Header, net::Headers (each added), Query, QueryParams, Body,
  // std::string (a body without Content-Type), Json, Form, Bearer, Basic, Timeout, UrlTemplate,
  // RedirectPolicy, RetryPolicy, CancelToken.
  template <typename... Options>
  Request& With(Options&&... options) & {
    (Apply(std::forward<Options>(options)), ...);
    return *this;
  }
  template <typename... Options>
  Request&& With(Options&&... options) && {
    (Apply(std::forward<Options>(options)), ...);
    return std::move(*this);
  }

  void Apply(Header h) { headers.Add(std::move(h.name), std::move(h.value)); }
  void Apply(const net::Headers& h);
  void Apply(Query q) { query.emplace_back(std::move(q.name), std::move(q.value)); }
  void Apply(const QueryParams& q) { query.insert(query.end(), q.begin(), q.end()); }
  void Apply(Body b);
  void Apply(std::string b) { body = std::move(b); }
  void Apply(const char* b) { body = b != nullptr ? b : ""; }
  void Apply(const Json& j);
  void Apply(const Form& f);
  void Apply(const Bearer& b);
  void Apply(const Basic& b);
  void Apply(Timeout t) { timeout = t.value; }
  void Apply(UrlTemplate t) { url_template = std::move(t.value); }
  void Apply(RedirectPolicy p) { redirects = p; }
  void Apply(RetryPolicy p) { retry = std::move(p); }
  void Apply(CancelToken t) { cancel = std::move(t); }

  // The URL with `query` appended (what is sent on the first attempt).
  std::string FullUrl() const;
};

}  // namespace otlp::http
