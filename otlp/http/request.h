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
#include "otlp/core/status.h"
#include "otlp/http/multipart.h"
#include "otlp/http/retry.h"
#include "otlp/net/headers.h"
#include "otlp/net/http_client.h"

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

// Bytes of the body moved so far on the current attempt (totals nullopt when unknown).
using Progress = net::HttpProgress;

// A request body read piece by piece (an upload from a file, a pipe, a generator) instead of
// held in memory. `read` fills `buffer` with up to `capacity` bytes and returns how many, 0 at
// the end; an error fails the request (ErrorKind::kBodySource). With `length` the body is sent
// with that Content-Length (and must have exactly that many bytes), without it chunked.
// A stream is read once. A retry or a redirect that would send the body again calls `rewind`
// first (which must restart the stream at its first byte); without `rewind` the request is not
// sent again once `read` was called: a retry is not made (the outcome is returned as it is) and a
// 307/308 redirect fails with ErrorKind::kBodyNotReplayable. (A 301/302/303 that turns the
// request into a GET drops the body and is followed.) The functions run on an I/O thread.
struct BodyStream {
  std::function<Result<size_t>(char* buffer, size_t capacity)> read;
  std::optional<uint64_t> length{};
  std::function<Status()> rewind{};
  std::string content_type{};  // sent as Content-Type when not empty
};
// The response body goes to `sink` piece by piece as it arrives, never held in memory;
// Response::body stays empty. An error from the sink stops the download (kBodySink). See
// Request::on_body.
struct OnBody {
  std::function<Status(std::string_view chunk)> sink;
};
// The response body is written to the file at `path` (created or truncated when the final
// response's body starts), never held in memory. See Request::on_body.
struct SaveTo {
  std::string path;
};
// Whether the response body is decoded by its Content-Encoding for this request (overrides
// ClientOptions::decompress): Decompress{false} gets the bytes as the server sent them (e.g. to
// save a .gz as it is) and sends no Accept-Encoding of the client's own.
struct Decompress {
  bool value;
};
// Called with the progress of each attempt, on an I/O thread.
struct OnProgress {
  std::function<void(const Progress&)> callback;
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
// state; a default-constructed token is a fresh, uncancelled one. A cancelled request completes
// at once with ErrorKind::kCancelled, with the sync Client and the AsyncClient alike: waiting for
// a slot (max_in_flight, a per-host connection limit) or for a retry, it stops waiting; on the
// wire, its HTTP/1.1 connection is closed (never pooled again) or its HTTP/2 stream is reset with
// CANCEL (the connection and its other streams go on).
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

 private:
  std::shared_ptr<net::CancelSignal> signal_;  // shared by the token's copies
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
  // A streamed body (see BodyStream); `body` must then be empty.
  std::optional<BodyStream> body_stream{};
  // Streamed download (OnBody, SaveTo): the final response's body goes here instead of
  // Response::body. The body of a response that is then followed (a redirect) or retried does
  // not reach the sink while it is at most kHeldBodyLimit bytes (it is held until the status
  // decides); a larger one does, and that response is then returned as the final one (neither
  // followed nor retried). Unless decompression is off (Decompress{false} or
  // ClientOptions::decompress), a body with a Content-Encoding is decoded chunk by chunk on its
  // way to the sink, never held whole (the limits above count decoded bytes; the decoded size is
  // not capped, as a raw streamed body is not); the Response then has no Content-Encoding and no
  // Content-Length, and a body that does not decode (or ends truncated) fails the request with
  // ErrorKind::kDecoding after the part that decoded reached the sink.
  std::function<Status(std::string_view chunk)> on_body{};
  // Streamed download to this file (SaveTo): created or truncated when the final response's
  // body starts, closed before the request completes. Failing to open or write it fails the
  // request (kBodySink). Not with on_body.
  std::string save_to{};
  std::function<void(const Progress&)> on_progress{};
  // Unset: ClientOptions::decompress. See Decompress.
  std::optional<bool> decompress{};
  // An option that could not be applied (a Multipart with an invalid part): the request fails
  // with it (ErrorKind::kInvalidRequest) and nothing is sent.
  Status error{};

  // Bytes of a streamed download held back until the response's status is known.
  static constexpr size_t kHeldBodyLimit = 64 * 1024;

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
  // std::string (a body without Content-Type), Json, Form, Multipart (in memory, or streamed
  // when it has AddStream parts: then with a length when every part declared its size),
  // BodyStream, Bearer, Basic, Timeout, UrlTemplate, RedirectPolicy, RetryPolicy, CancelToken,
  // OnBody, SaveTo, OnProgress, Decompress.
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
  void Apply(Multipart m);
  void Apply(BodyStream b);
  void Apply(OnBody b) { on_body = std::move(b.sink); }
  void Apply(SaveTo s) { save_to = std::move(s.path); }
  void Apply(OnProgress p) { on_progress = std::move(p.callback); }
  void Apply(Decompress d) { decompress = d.value; }

  // The URL with `query` appended (what is sent on the first attempt).
  std::string FullUrl() const;
};

}  // namespace otlp::http
