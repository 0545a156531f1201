#include "otlp/http/internal/engine.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>

#include "otlp/core/internal/ascii.h"
#include "otlp/core/version.h"
#include "otlp/http/internal/attempt_tracing.h"
#include "otlp/http/internal/content_decoder.h"
#include "otlp/http/internal/form.h"
#include "otlp/http/internal/redirects.h"
#include "otlp/net/internal/base64.h"
#include "otlp/net/internal/retry_after.h"
#include "otlp/net/url.h"
#include "otlp/trace/context.h"
#include "otlp/trace/provider.h"

namespace otlp::http::internal {

using Clock = std::chrono::steady_clock;
using otlp::internal::MutexLock;

namespace {

// Jitter only needs to spread clients apart: a per-thread SplitMix64 seeded once.
double RandomUnit() {
  thread_local uint64_t state = std::random_device{}() ^
                                static_cast<uint64_t>(Clock::now().time_since_epoch().count());
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

Status CancelledError(std::string why) {
  return MakeError(StatusCode::kCancelled, ErrorKind::kCancelled, std::move(why));
}

// The transport's proxy string: "http://user:pass@host:port" (user info percent-encoded again:
// net::Url keeps it decoded and ToString leaves it out).
std::string ProxyString(const net::Url& proxy) {
  std::string out = proxy.scheme + "://";
  if (proxy.has_credentials()) {
    out += PercentEncode(proxy.user);
    if (proxy.password) out += ":" + PercentEncode(*proxy.password);
    out += '@';
  }
  out += proxy.Authority();
  return out;
}

std::optional<std::chrono::microseconds> Phase(std::chrono::nanoseconds d) {
  if (d.count() <= 0) return std::nullopt;
  return std::chrono::ceil<std::chrono::microseconds>(d);
}

// Writes a streamed download to a file, opened at the first write. Thread-safe: the transport
// may still write after the request was cancelled, and Close() makes later writes fail.
class FileSink {
 public:
  explicit FileSink(std::string path) : path_(std::move(path)) {}
  ~FileSink() { (void)Close(); }

  Status Write(std::string_view chunk) {
    MutexLock lock(mu_);
    if (closed_) return CancelledError("download to '" + path_ + "' abandoned");
    if (file_ == nullptr) {
      file_ = std::fopen(path_.c_str(), "wb");
      if (file_ == nullptr) {
        return MakeError(StatusCode::kFailedPrecondition, ErrorKind::kBodySink,
                         "cannot open '" + path_ + "' for the download: " +
                             std::strerror(errno));
      }
    }
    if (!chunk.empty() && std::fwrite(chunk.data(), 1, chunk.size(), file_) != chunk.size()) {
      return MakeError(StatusCode::kDataLoss, ErrorKind::kBodySink,
                       "writing the download to '" + path_ + "' failed: " +
                           std::strerror(errno));
    }
    return Status::Ok();
  }

  Status Close() {
    MutexLock lock(mu_);
    closed_ = true;
    if (file_ == nullptr) return Status::Ok();
    const bool ok = std::fclose(file_) == 0;
    file_ = nullptr;
    if (!ok) {
      return MakeError(StatusCode::kDataLoss, ErrorKind::kBodySink,
                       "closing the download '" + path_ + "' failed");
    }
    return Status::Ok();
  }

 private:
  const std::string path_;
  otlp::internal::Mutex mu_;
  std::FILE* file_ OTLP_GUARDED_BY(mu_) = nullptr;
  bool closed_ OTLP_GUARDED_BY(mu_) = false;
};

// One attempt's response body in a streamed download. Up to Request::kHeldBodyLimit bytes are
// held until the status says whether this response is the final one (a redirect's or a
// retried answer's body never reaches the sink); beyond that the body is committed: passed to
// the sink as it arrives, and this response has to be the final one. With `decode`, a body whose
// head (Head(), before any chunk) names a Content-Encoding goes through a ContentDecoder first:
// what is held, committed and passed on is the decoded body. Abandon() (the request is over)
// makes later chunks fail without reaching the sink; the sink never runs after it.
class Download {
 public:
  using Sink = std::function<Status(std::string_view)>;
  Download(std::shared_ptr<Sink> sink, bool decode, std::string url)
      : sink_(std::move(sink)), decode_(decode), url_(std::move(url)) {}

  // The response's status and headers, from the transport before its first body chunk.
  void Head(const net::Headers& headers) {
    MutexLock lock(mu_);
    if (!decode_) return;
    const std::optional<std::string_view> coding = headers.Find("Content-Encoding");
    if (!coding) return;
    coding_ = std::string(*coding);
    Result<std::unique_ptr<ContentDecoder>> decoder = ContentDecoder::Create(*coding, SIZE_MAX);
    if (!decoder.ok()) {
      error_ = DecodingError(decoder.status());
      return;
    }
    if ((*decoder)->codings().empty()) return;  // identity
    decoder_ = std::move(*decoder);
  }

  Status Take(std::string_view chunk) {
    MutexLock lock(mu_);
    if (abandoned_) return CancelledError("download abandoned: the request is over");
    if (!error_.ok()) return error_;
    if (!decoder_) return PassLocked(chunk);
    decoder_->Feed(chunk);
    return DrainLocked();
  }

  // After the attempt's completion.
  bool committed() {
    MutexLock lock(mu_);
    return committed_;
  }
  // The body is being decoded (the Response loses Content-Encoding and Content-Length).
  bool decoded() {
    MutexLock lock(mu_);
    return decoder_ != nullptr;
  }
  // Why the body could not be decoded (OK when it could, so far).
  Status error() {
    MutexLock lock(mu_);
    return error_;
  }
  // This response is the final one and its body is complete: the decoder's end is checked and
  // the held body (possibly empty) goes to the sink.
  Status Deliver() {
    MutexLock lock(mu_);
    if (abandoned_) return Status::Ok();
    if (!error_.ok()) return error_;
    if (decoder_) {
      OTLP_RETURN_IF_ERROR(DrainLocked());
      Status end = decoder_->Finish();
      if (!end.ok()) {
        error_ = DecodingError(end);
        return error_;
      }
    }
    if (committed_) return Status::Ok();
    committed_ = true;
    std::string held = std::move(held_);
    held_.clear();
    Status s = (*sink_)(held);
    if (s.ok() || s.detail() != 0) return s;
    return MakeError(s.code(), ErrorKind::kBodySink, s.message());
  }
  void Abandon() {
    MutexLock lock(mu_);
    abandoned_ = true;
  }

 private:
  // Decoded bytes are passed on in pieces of at most this size.
  static constexpr size_t kDecodedPiece = 64 * 1024;

  Status DrainLocked() OTLP_REQUIRES(mu_) {
    std::string out;
    for (;;) {
      out.clear();
      Result<size_t> n = decoder_->Read(out, kDecodedPiece);
      if (!n.ok()) {
        error_ = DecodingError(n.status());
        return error_;
      }
      if (*n == 0) return Status::Ok();
      OTLP_RETURN_IF_ERROR(PassLocked(out));
    }
  }

  Status PassLocked(std::string_view chunk) OTLP_REQUIRES(mu_) {
    if (!committed_) {
      if (held_.size() + chunk.size() <= Request::kHeldBodyLimit) {
        held_.append(chunk);
        return Status::Ok();
      }
      committed_ = true;
      std::string held = std::move(held_);
      held_.clear();
      OTLP_RETURN_IF_ERROR((*sink_)(held));
    }
    return (*sink_)(chunk);
  }

  Status DecodingError(const Status& cause) const OTLP_REQUIRES(mu_) {
    return MakeError(cause.code(), ErrorKind::kDecoding,
                     "decoding the streamed response body of " + url_ +
                         " (Content-Encoding: " + coding_ + "): " + cause.message());
  }

  const std::shared_ptr<Sink> sink_;
  const bool decode_;
  const std::string url_;
  otlp::internal::Mutex mu_;
  std::string coding_ OTLP_GUARDED_BY(mu_);
  std::unique_ptr<ContentDecoder> decoder_ OTLP_GUARDED_BY(mu_);
  Status error_ OTLP_GUARDED_BY(mu_);
  std::string held_ OTLP_GUARDED_BY(mu_);
  bool committed_ OTLP_GUARDED_BY(mu_) = false;
  bool abandoned_ OTLP_GUARDED_BY(mu_) = false;
};

// A streamed request body: `touched` once the transport pulled from it.
struct Upload {
  BodyStream stream;
  std::atomic<bool> touched{false};
};

}  // namespace

// One request from Submit to its callback. Its state is under mu_; the transport's and the
// timer's callbacks, Cancel() and the engine's shutdown may race, and the first to finish it
// wins (done_).
class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(std::shared_ptr<Engine> engine, Request request, Engine::Callback done,
           bool on_caller)
      : engine_(std::move(engine)),
        request_(std::move(request)),
        done_cb_(std::move(done)),
        caller_thread_(on_caller ? std::this_thread::get_id() : std::thread::id()),
        context_(trace::Context::Current()),
        start_(Clock::now()) {
    const auto timeout = request_.timeout.count() > 0
                             ? request_.timeout
                             : engine_->options().transport.default_timeout;
    deadline_ = timeout.count() > 0 ? start_ + timeout : Clock::time_point::max();
    timeout_ = timeout;
    retry_ = request_.retry ? &*request_.retry : &engine_->options().retry;
    redirects_policy_ = request_.redirects.value_or(engine_->options().redirects);
    suppressed_ = context_.IsTracingSuppressed();
    // Aborts the attempt on the wire when the request is cancelled (see Cancel()).
    if (request_.cancel) net_cancel_ = net::CancelSignal::Create();
  }

  // Runs `f` after the token is cancelled (subscribed until the exchange is over).
  void WatchCancel() {
    if (!request_.cancel) return;
    std::weak_ptr<Exchange> weak = weak_from_this();
    // An already cancelled token runs the subscriber (and the completion starts) right here.
    const uint64_t id = request_.cancel->Subscribe([weak] {
      if (auto self = weak.lock()) self->Cancel(CancelledError("request cancelled"));
    });
    MutexLock lock(mu_);
    cancel_id_ = id;
  }

  // A waiting request whose timeout expires before it gets a slot fails then.
  void ArmQueueDeadline() {
    if (deadline_ == Clock::time_point::max()) return;
    MutexLock lock(mu_);
    if (done_) return;
    std::weak_ptr<Exchange> weak = weak_from_this();
    timer_ = engine_->runtime().At(deadline_, [weak] {
      if (auto self = weak.lock()) self->Cancel(self->TimeoutError("waiting for a free slot"));
    });
  }

  // Admitted: prepares the first attempt and sends it.
  void Begin() {
    std::optional<Result<Response>> out;
    {
      MutexLock lock(mu_);
      if (done_) return;
      timer_.Cancel();
      out = PrepareLocked();
      if (!out) out = AttemptLocked();
    }
    if (!out) return SendPending();
    // Failed before anything was sent: completed from an I/O thread all the same, so that a
    // callback never runs inside the caller's Submit.
    std::shared_ptr<Exchange> self = shared_from_this();
    engine_->runtime().Post([self, result = std::move(*out)]() mutable {
      self->Complete(std::move(result));
    });
  }

  // Finishes the request now with `status` (cancellation, timeout in the queue, shutdown). The
  // callback is posted to an I/O thread. A cancellable request's attempt on the wire is aborted
  // (its HTTP/1.1 connection closed, its HTTP/2 stream reset); its result is ignored.
  void Cancel(Status status) {
    {
      MutexLock lock(mu_);
      if (done_) return;
      EndSpanLocked(0, nullptr, status, std::string());
      (void)FinishLocked(status);
    }
    if (net_cancel_) net_cancel_->Cancel();
    std::shared_ptr<Exchange> self = shared_from_this();
    engine_->runtime().Post([self, status = std::move(status)]() mutable {
      self->Complete(std::move(status));
    });
  }

  // Whether it counts against max_in_flight; under Engine::mu_.
  bool holds_slot = false;

 private:
  // The first attempt's request: URL (query appended, credentials turned into a header),
  // method, headers (the client's defaults under the request's own), body.
  std::optional<Result<Response>> PrepareLocked() OTLP_REQUIRES(mu_) {
    Result<net::Url> url = net::Url::Parse(request_.FullUrl());
    if (!url.ok()) {
      return Invalid(url.status().message());
    }
    if (url->scheme != "http" && url->scheme != "https") {
      return Invalid("unsupported scheme '" + url->scheme + "' in '" + url->ToString() +
                     "' (expected http or https)");
    }
    if (!otlp::internal::IsToken(request_.method)) {
      return Invalid("invalid HTTP method '" + request_.method + "'");
    }
    if (!request_.error.ok()) return Invalid(request_.error.message());
    if (request_.body_stream) {
      if (!request_.body.empty()) return Invalid("a request has both a body and a body_stream");
      if (!request_.body_stream->read) return Invalid("BodyStream without a read function");
      upload_ = std::make_shared<Upload>();
      upload_->stream = std::move(*request_.body_stream);
    }
    if (request_.on_body && !request_.save_to.empty()) {
      return Invalid("a request has both on_body and save_to");
    }
    if (!request_.save_to.empty()) {
      file_ = std::make_shared<FileSink>(request_.save_to);
      sink_ = std::make_shared<Download::Sink>(
          [file = file_](std::string_view chunk) { return file->Write(chunk); });
    } else if (request_.on_body) {
      sink_ = std::make_shared<Download::Sink>(std::move(request_.on_body));
    }
    url_ = std::move(*url);
    method_ = request_.method;
    body_ = std::move(request_.body);
    headers_ = std::move(request_.headers);
    const ClientOptions& options = engine_->options();
    for (const auto& [name, value] : options.default_headers) {
      if (!headers_.Contains(name)) headers_.Add(name, value);
    }
    if (!options.user_agent.empty() && !headers_.Contains("User-Agent")) {
      headers_.Add("User-Agent", options.user_agent);
    }
    decompress_ = request_.decompress.value_or(options.decompress);
    if (decompress_ && !headers_.Contains("Accept-Encoding")) {
      headers_.Add("Accept-Encoding", std::string(kAcceptEncoding));
    }
    if (url_.has_credentials()) {
      // As a header, so that the redirect rules decide where it goes.
      if (!headers_.Contains("Authorization")) {
        headers_.Add("Authorization",
                     "Basic " + net::internal::Base64Encode(url_.user + ":" +
                                                            url_.password.value_or("")));
      }
      url_.user.clear();
      url_.password.reset();
    }
    return std::nullopt;
  }

  std::optional<Result<Response>> AttemptLocked() OTLP_REQUIRES(mu_) {
    const Clock::time_point now = Clock::now();
    std::chrono::milliseconds remaining{0};
    if (deadline_ != Clock::time_point::max()) {
      remaining = std::chrono::ceil<std::chrono::milliseconds>(deadline_ - now);
      if (remaining.count() <= 0) return FinishLocked(TimeoutError("before an attempt"));
    }
    net::HttpRequest out;
    out.method = method_;
    out.url = url_.ToString();
    // Room for what is added below (Cookie, the propagation headers) without growing again.
    out.headers.reserve(headers_.size() + 4);
    out.headers = headers_;
    out.body = body_;
    out.timeout = remaining;
    if (const auto& jar = engine_->cookie_jar(); jar && !out.headers.Contains("Cookie")) {
      std::string cookie = jar->CookieHeader(url_);
      if (!cookie.empty()) out.headers.Add("Cookie", std::move(cookie));
    }
    if (std::optional<net::Url> proxy = engine_->proxy().ProxyFor(url_)) {
      out.proxy = ProxyString(*proxy);
    }
    if (upload_) {
      if (upload_->touched.load()) {
        if (!upload_->stream.rewind) {
          return FinishLocked(MakeError(
              StatusCode::kFailedPrecondition, ErrorKind::kBodyNotReplayable,
              "cannot resend the streamed request body to " + url_.ToString() +
                  ": it was already sent and the BodyStream has no rewind"));
        }
        Status rewound = upload_->stream.rewind();
        if (!rewound.ok()) {
          return FinishLocked(MakeError(rewound.code(), ErrorKind::kBodySource,
                                        "rewinding the request body failed: " +
                                            rewound.message()));
        }
        upload_->touched.store(false);
      }
      out.body.clear();
      out.body_length = upload_->stream.length;
      out.body_source = [upload = upload_](char* buffer, size_t capacity) {
        upload->touched.store(true);
        return upload->stream.read(buffer, capacity);
      };
    }
    if (sink_) {
      download_ =
          std::make_shared<Download>(sink_, decompress_ && method_ != "HEAD", url_.ToString());
      out.on_headers = [download = download_](int, const net::Headers& headers) {
        download->Head(headers);
      };
      out.on_body = [download = download_](std::string_view chunk) {
        return download->Take(chunk);
      };
    }
    out.on_progress = request_.on_progress;
    out.cancel = net_cancel_;

    const TracingOptions& tracing = engine_->options().tracing;
    if (!suppressed_) {
      if (tracing.enabled) {
        AttemptInfo info{.method = method_,
                         .url = &url_,
                         .url_text = out.url,
                         .url_template = request_.url_template,
                         .resend_count = resend_count_,
                         .request_headers = &out.headers};
        span_ = StartAttemptSpan(engine_->tracer(), tracing, context_, info);
      }
      if (tracing.propagate) {
        const trace::SpanContext& sc = span_.GetContext();
        injected_ = sc.IsValid() ? sc : context_.span_context();
        InjectContext(sc.IsValid() ? context_.WithSpanContext(sc) : context_, out.headers);
      }
    }
    attempt_start_ = now;
    ++attempt_id_;
    pending_ = std::move(out);  // sent by SendPending once mu_ is released
    return std::nullopt;
  }

  // Hands the attempt AttemptLocked prepared to the transport, outside mu_ (its callback may
  // run before the transport returns). On the thread that submitted a Client's request the
  // transport may run it right here (net::HttpClient::SendFromCaller: blocking calls over a
  // pooled keep-alive connection, no hand-off); anywhere else it goes on asynchronously.
  void SendPending() {
    std::optional<net::HttpRequest> request;
    uint64_t id = 0;
    {
      MutexLock lock(mu_);
      request.swap(pending_);
      if (!request || done_) return;
      id = attempt_id_;
    }
    auto on_result = [self = shared_from_this(), id](Result<net::HttpResponse> result) {
      self->OnResult(id, std::move(result));
    };
    if (caller_thread_ == std::this_thread::get_id()) {
      engine_->transport().SendFromCaller(std::move(*request), std::move(on_result));
    } else {
      engine_->transport().SendAsync(std::move(*request), std::move(on_result));
    }
  }

  void OnResult(uint64_t id, Result<net::HttpResponse> result) {
    std::optional<Result<Response>> out;
    {
      MutexLock lock(mu_);
      if (done_ || id != attempt_id_) return;
      out = HandleLocked(std::move(result));
    }
    if (out) return Complete(std::move(*out));
    SendPending();  // a redirect's next hop (a retry waits for its timer)
  }

  std::optional<Result<Response>> HandleLocked(Result<net::HttpResponse> result)
      OTLP_REQUIRES(mu_) {
    const int status = result.ok() ? result->status : 0;
    EndSpanLocked(status, result.ok() ? &result->headers : nullptr, result.status(),
                  result.ok() ? result->version : std::string());
    // A committed download has given this response's body to the sink: it is the answer.
    const bool committed = download_ && download_->committed();
    const bool can_retry = resend_count_ - redirects_ + 1 < retry_->max_attempts &&
                           !committed && CanResendLocked();
    if (!result.ok()) {
      Status error = result.status();
      // The sink failed because the body did not decode: that is the error.
      if (download_) {
        if (Status decoding = download_->error(); !decoding.ok()) error = std::move(decoding);
      }
      const ErrorKind kind = ErrorKindOf(error);
      const bool retry =
          can_retry && error.retryable() && kind != ErrorKind::kCancelled &&
          (retry_->RetriesMethod(method_) || (retry_->retry_connect_failures && NothingWasSent(kind)));
      if (retry && ScheduleRetryLocked(std::nullopt)) return std::nullopt;
      return FinishLocked(error);
    }
    net::HttpResponse& r = *result;
    if (const auto& jar = engine_->cookie_jar()) {
      for (std::string_view set_cookie : r.headers.FindAll("Set-Cookie")) {
        jar->SetCookie(url_, set_cookie).IgnoreError();  // a rejected cookie is dropped
      }
    }
    if (redirects_policy_.follow && IsRedirectStatus(status) && !committed) {
      if (std::optional<std::string_view> location = r.Header("Location")) {
        return RedirectLocked(status, *location);
      }
    }
    if (can_retry && retry_->RetriesStatus(status) && retry_->RetriesMethod(method_)) {
      std::optional<std::chrono::milliseconds> wait;
      if (retry_->honour_retry_after) {
        if (auto header = r.Header("Retry-After")) {
          wait = net::internal::ParseRetryAfter(*header, std::chrono::system_clock::now());
          if (wait && *wait > retry_->max_retry_after) return FinishLocked(FinalLocked(r));
        }
      }
      if (ScheduleRetryLocked(wait)) return std::nullopt;
    }
    return FinishLocked(FinalLocked(r));
  }

  // Whether the request body can be sent again.
  bool CanResendLocked() OTLP_REQUIRES(mu_) {
    return !upload_ || !upload_->touched.load() || static_cast<bool>(upload_->stream.rewind);
  }

  // The final response: its streamed body delivered, or its body decoded.
  Result<Response> FinalLocked(net::HttpResponse& r) OTLP_REQUIRES(mu_) {
    Response response = MakeResponse(r);
    if (download_) {
      OTLP_RETURN_IF_ERROR(download_->Deliver());
      if (file_) OTLP_RETURN_IF_ERROR(file_->Close());
      if (download_->decoded()) {
        response.headers.Remove("Content-Encoding");
        response.headers.Remove("Content-Length");
      }
      return response;
    }
    if (!decompress_ || method_ == "HEAD") return response;
    const std::optional<std::string_view> coding = response.Header("Content-Encoding");
    if (!coding || response.body.empty()) return response;
    const size_t limit = engine_->options().transport.max_response_body;
    Result<std::string> decoded =
        DecodeBody(*coding, response.body, limit == 0 ? SIZE_MAX : limit);
    if (!decoded.ok()) {
      return MakeError(decoded.status().code(), ErrorKind::kDecoding,
                       "decoding the response body of " + response.url + " (Content-Encoding: " +
                           std::string(*coding) + "): " + decoded.status().message());
    }
    response.body = std::move(*decoded);
    response.headers.Remove("Content-Encoding");
    response.headers.Remove("Content-Length");
    return response;
  }

  std::optional<Result<Response>> RedirectLocked(int status, std::string_view location)
      OTLP_REQUIRES(mu_) {
    if (redirects_ >= redirects_policy_.max_redirects) {
      return FinishLocked(MakeError(
          StatusCode::kAborted, ErrorKind::kTooManyRedirects,
          "too many redirects: more than " + std::to_string(redirects_policy_.max_redirects) +
              " (last from " + url_.ToString() + " to '" + std::string(location) + "')"));
    }
    Result<net::Url> next = ResolveLocation(url_, location);
    if (!next.ok()) {
      return FinishLocked(MakeError(StatusCode::kInvalidArgument, ErrorKind::kInvalidRequest,
                                    next.status().message() + " (from " + url_.ToString() + ")"));
    }
    const std::string method_before = method_;
    RewriteForRedirect(status, !SameOrigin(url_, *next), method_, body_, headers_);
    if (method_ != method_before) upload_.reset();  // the redirect dropped the body
    url_ = std::move(*next);
    ++redirects_;
    ++resend_count_;
    return AttemptLocked();
  }

  // Waits (on a runtime timer) and tries again; false, doing nothing, when the wait would pass
  // the deadline (the outcome of this attempt is then the answer).
  bool ScheduleRetryLocked(std::optional<std::chrono::milliseconds> server_wait)
      OTLP_REQUIRES(mu_) {
    const int retry = resend_count_ - redirects_ + 1;
    const std::chrono::milliseconds wait =
        server_wait ? *server_wait : retry_->Backoff(retry, RandomUnit());
    if (deadline_ != Clock::time_point::max() && Clock::now() + wait >= deadline_) {
      return false;
    }
    ++resend_count_;
    // The timer holds the exchange: it lives while it waits; the engine cancels it on shutdown.
    timer_ = engine_->runtime().After(wait, [self = shared_from_this()] { self->OnTimer(); });
    return true;
  }

  void OnTimer() {
    std::optional<Result<Response>> out;
    {
      MutexLock lock(mu_);
      if (done_) return;
      out = AttemptLocked();
    }
    if (out) return Complete(std::move(*out));
    SendPending();
  }

  Response MakeResponse(net::HttpResponse& r) OTLP_REQUIRES(mu_) {
    Response response;
    response.status = r.status;
    response.headers = std::move(r.headers);
    response.body = std::move(r.body);
    response.trailers = std::move(r.trailers);
    response.url = url_.ToString();
    response.protocol_version = r.version.empty() ? "1.1" : r.version;
    response.connection_reused = r.connection_reused;
    response.timings.dns = Phase(r.timings.dns);
    response.timings.connect = Phase(r.timings.connect);
    response.timings.tls = Phase(r.timings.tls);
    response.timings.first_byte = Phase(r.timings.first_byte);
    response.redirects = redirects_;
    response.attempts = resend_count_ + 1;
    response.trace_context = injected_;
    response.timings.total =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start_);
    return response;
  }

  void EndSpanLocked(int status, const net::Headers* headers, const Status& error,
                     const std::string& version) OTLP_REQUIRES(mu_) {
    if (attempt_start_ == Clock::time_point{}) return;  // no attempt on the wire
    const std::string_view protocol = version.empty() ? std::string_view("1.1") : version;
    EndAttemptSpan(span_, engine_->options().tracing, status, headers, error, protocol);
    if (RequestDurationHistogram* histogram = engine_->histogram()) {
      const double seconds =
          std::chrono::duration<double>(Clock::now() - attempt_start_).count();
      DurationAttributes attributes{
          .method = IsKnownMethod(method_) ? method_ : "_OTHER",
          .status_code = status,
          .error_type = status >= 400 ? std::to_string(status)
                        : status > 0  ? std::string()
                                      : std::string(ErrorKindName(ErrorKindOf(error))),
          .server_address = url_.host,
          .server_port = url_.port,
          .protocol_version = status > 0 ? std::string(protocol) : std::string()};
      histogram->Record(attributes, seconds);
    }
    attempt_start_ = Clock::time_point{};
  }

  std::optional<Result<Response>> FinishLocked(Result<Response> result) OTLP_REQUIRES(mu_) {
    done_ = true;
    timer_.Cancel();
    // An abandoned attempt may still be receiving: its chunks no longer reach the sink.
    if (download_) download_->Abandon();
    if (file_) (void)file_->Close();
    return result;
  }

  std::optional<Result<Response>> Invalid(std::string message) OTLP_REQUIRES(mu_) {
    return FinishLocked(MakeError(StatusCode::kInvalidArgument, ErrorKind::kInvalidRequest,
                                  std::move(message)));
  }

  Status TimeoutError(std::string_view when) const {
    return MakeError(StatusCode::kDeadlineExceeded, ErrorKind::kRequestTimeout,
                     "request timed out after " + std::to_string(timeout_.count()) + " ms (" +
                         std::string(when) + ", " + request_.url + ")",
                     true);
  }

  // Runs once, after FinishLocked, without the lock.
  void Complete(Result<Response> result) {
    if (request_.cancel) {
      uint64_t id = 0;
      {
        MutexLock lock(mu_);
        id = cancel_id_;
      }
      request_.cancel->Unsubscribe(id);
    }
    Engine::Callback done = std::move(done_cb_);
    std::shared_ptr<Engine> engine = engine_;
    engine->Release(shared_from_this());
    if (done) done(std::move(result));
  }

  const std::shared_ptr<Engine> engine_;
  Request request_;
  Engine::Callback done_cb_;
  // The thread that submitted a Client's request (none for an AsyncClient's): only there may
  // an attempt run synchronously (SendPending).
  const std::thread::id caller_thread_;
  const trace::Context context_;
  const Clock::time_point start_;
  Clock::time_point deadline_;
  std::chrono::milliseconds timeout_{0};
  const RetryPolicy* retry_ = nullptr;
  RedirectPolicy redirects_policy_;
  bool suppressed_ = false;

  otlp::internal::Mutex mu_;
  bool decompress_ OTLP_GUARDED_BY(mu_) = true;  // this request's (PrepareLocked)
  bool done_ OTLP_GUARDED_BY(mu_) = false;
  uint64_t cancel_id_ OTLP_GUARDED_BY(mu_) = 0;
  net::Url url_ OTLP_GUARDED_BY(mu_);
  std::string method_ OTLP_GUARDED_BY(mu_);
  std::string body_ OTLP_GUARDED_BY(mu_);
  net::Headers headers_ OTLP_GUARDED_BY(mu_);
  trace::Span span_ OTLP_GUARDED_BY(mu_);
  trace::SpanContext injected_ OTLP_GUARDED_BY(mu_);
  Clock::time_point attempt_start_ OTLP_GUARDED_BY(mu_){};
  uint64_t attempt_id_ OTLP_GUARDED_BY(mu_) = 0;
  int resend_count_ OTLP_GUARDED_BY(mu_) = 0;  // attempts after the first
  int redirects_ OTLP_GUARDED_BY(mu_) = 0;     // of which redirect hops
  net::Timer timer_ OTLP_GUARDED_BY(mu_);
  std::optional<net::HttpRequest> pending_ OTLP_GUARDED_BY(mu_);  // the attempt to send
  std::shared_ptr<Upload> upload_ OTLP_GUARDED_BY(mu_);
  std::shared_ptr<Download::Sink> sink_ OTLP_GUARDED_BY(mu_);
  std::shared_ptr<FileSink> file_ OTLP_GUARDED_BY(mu_);
  std::shared_ptr<Download> download_ OTLP_GUARDED_BY(mu_);  // the current attempt's
  // Set by the constructor, then only read.
  std::shared_ptr<net::CancelSignal> net_cancel_;
};

Result<std::shared_ptr<Engine>> Engine::Create(ClientOptions options) {
  OTLP_RETURN_IF_ERROR(options.retry.Validate());
  if (options.redirects.max_redirects < 0) {
    return InvalidArgumentError("RedirectPolicy: max_redirects must not be negative");
  }
  std::shared_ptr<net::Runtime> runtime = options.runtime;
  if (!runtime) {
    const int threads = options.threads.value_or(1);
    if (threads < 0) {
      return InvalidArgumentError("http client: threads must not be negative (got " +
                                  std::to_string(threads) + ")");
    }
    runtime = threads == 0
                  ? net::Runtime::CreateCallerDriven()
                  : net::Runtime::Create({.threads = threads, .thread_name = "otlp-http"});
  }
  ProxyConfig proxy;
  if (options.proxy) {
    proxy = *options.proxy;
  } else {
    OTLP_ASSIGN_OR_RETURN(proxy, ProxyConfig::FromEnvironment());
  }
  std::shared_ptr<CookieJar> jar;
  if (options.cookies) {
    jar = options.cookie_jar ? options.cookie_jar : std::make_shared<CookieJar>();
  }
  OTLP_ASSIGN_OR_RETURN(std::unique_ptr<net::HttpClient> transport,
                        net::HttpClient::Create(runtime, options.transport));
  return std::shared_ptr<Engine>(new Engine(std::move(options), std::move(runtime),
                                            std::move(transport), std::move(jar),
                                            std::move(proxy)));
}

Engine::Engine(ClientOptions options, std::shared_ptr<net::Runtime> runtime,
               std::unique_ptr<net::HttpClient> transport, std::shared_ptr<CookieJar> cookie_jar,
               ProxyConfig proxy)
    : options_(std::move(options)),
      runtime_(std::move(runtime)),
      transport_(std::move(transport)),
      cookie_jar_(std::move(cookie_jar)),
      proxy_(std::move(proxy)),
      tracer_(options_.tracing.tracer ? *options_.tracing.tracer
                                      : trace::GetTracer("otlp.http", OTLP_VERSION_STRING)),
      histogram_(!options_.metrics               ? nullptr
                 : options_.duration_histogram ? options_.duration_histogram.get()
                                               : &DefaultRequestDurationHistogram()) {}

Engine::~Engine() = default;

void Engine::Submit(Request request, Callback done, bool on_caller) {
  auto exchange = std::make_shared<Exchange>(shared_from_this(), std::move(request),
                                             std::move(done), on_caller);
  bool admit = false;
  bool shut_down = false;
  {
    MutexLock lock(mu_);
    shut_down = shut_down_;
    live_.insert(exchange);
    if (!shut_down) {
      if (options_.max_in_flight == 0 || in_flight_ < options_.max_in_flight) {
        ++in_flight_;
        exchange->holds_slot = true;
        admit = true;
      } else {
        waiting_.push_back(exchange);
      }
    }
  }
  if (shut_down) {
    exchange->Cancel(CancelledError("request cancelled: the HTTP client is shut down"));
    return;
  }
  exchange->WatchCancel();
  if (admit) {
    exchange->Begin();
  } else {
    exchange->ArmQueueDeadline();
  }
}

void Engine::Release(const std::shared_ptr<Exchange>& exchange) {
  std::shared_ptr<Exchange> next;
  {
    MutexLock lock(mu_);
    if (live_.erase(exchange) == 0) return;
    if (exchange->holds_slot) {
      exchange->holds_slot = false;
      if (!shut_down_ && !waiting_.empty()) {
        next = std::move(waiting_.front());  // inherits the slot
        waiting_.pop_front();
        next->holds_slot = true;
      } else {
        --in_flight_;
      }
    } else {
      // Finished (cancelled, timed out) while waiting for a slot.
      auto it = std::find(waiting_.begin(), waiting_.end(), exchange);
      if (it != waiting_.end()) waiting_.erase(it);
    }
    if (live_.empty()) drained_.NotifyAll();
  }
  if (next) next->Begin();
}

void Engine::Shutdown(std::chrono::milliseconds wait) noexcept {
  std::vector<std::shared_ptr<Exchange>> live;
  {
    MutexLock lock(mu_);
    shut_down_ = true;
    live.assign(live_.begin(), live_.end());
  }
  for (auto& exchange : live) {
    exchange->Cancel(CancelledError("request cancelled: the HTTP client is shut down"));
  }
  live.clear();
  transport_->Shutdown();
  if (runtime_->InIoThread()) return;
  const auto deadline = Clock::now() + wait;
  if (runtime_->caller_driven()) {
    // The cancellations complete here (or on a thread still in Send()), then the transport's
    // closing handlers run (see Quiesce for why a few rounds).
    runtime_->Drive(
        [this]() OTLP_EXCLUDES(mu_) {
          MutexLock lock(mu_);
          return live_.empty();
        },
        deadline);
    for (int round = 0; round < 3; ++round) runtime_->Poll();
    return;
  }
  {
    MutexLock lock(mu_);
    drained_.WaitUntil(lock, deadline, [this]() OTLP_REQUIRES(mu_) { return live_.empty(); });
  }
  Quiesce(deadline);
}

// Every callback has returned, but the transport's handlers may still be unwinding on the I/O
// threads, or (for attempts abandoned by a cancellation) be about to run with the transport's
// own cancellation; they hold the last references to its connection state and TLS context.
// A barrier round makes each of the runtime's threads run one task that waits for the others,
// which a thread can only start once the handler it was in has returned. The transport's
// shutdown reaches an abandoned exchange in at most two more hops (the close posted to the
// connection's strand, then the aborted operation's handler), so three rounds leave the I/O
// threads with nothing of the transport, and it is destroyed on this thread. (On a shared
// runtime the barrier also waits for the other work running there, at most until `deadline`.)
void Engine::Quiesce(Clock::time_point deadline) noexcept {
  constexpr int kRounds = 3;
  const int threads = runtime_->thread_count();
  for (int round = 0; round < kRounds; ++round) {
    struct Barrier {
      otlp::internal::Mutex mu;
      otlp::internal::CondVar cv;
      int arrived OTLP_GUARDED_BY(mu) = 0;
    };
    auto barrier = std::make_shared<Barrier>();
    for (int i = 0; i < threads; ++i) {
      runtime_->Post([barrier, threads, deadline] {
        MutexLock lock(barrier->mu);
        ++barrier->arrived;
        barrier->cv.NotifyAll();
        barrier->cv.WaitUntil(lock, deadline, [&]() OTLP_REQUIRES(barrier->mu) {
          return barrier->arrived >= threads;
        });
      });
    }
    MutexLock lock(barrier->mu);
    if (!barrier->cv.WaitUntil(lock, deadline, [&]() OTLP_REQUIRES(barrier->mu) {
          return barrier->arrived >= threads;
        })) {
      return;
    }
  }
}

}  // namespace otlp::http::internal
