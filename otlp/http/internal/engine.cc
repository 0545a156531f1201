#include "otlp/http/internal/engine.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <random>
#include <string>
#include <utility>

#include "otlp/core/internal/ascii.h"
#include "otlp/core/version.h"
#include "otlp/http/internal/attempt_tracing.h"
#include "otlp/http/internal/redirects.h"
#include "otlp/http/internal/retry_after.h"
#include "otlp/net/internal/base64.h"
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

}  // namespace

// One request from Submit to its callback. Its state is under mu_; the transport's and the
// timer's callbacks, Cancel() and the engine's shutdown may race, and the first to finish it
// wins (done_).
class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(std::shared_ptr<Engine> engine, Request request, Engine::Callback done)
      : engine_(std::move(engine)),
        request_(std::move(request)),
        done_cb_(std::move(done)),
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
    if (!out) return;
    // Failed before anything was sent: completed from an I/O thread all the same, so that a
    // callback never runs inside the caller's Submit.
    std::shared_ptr<Exchange> self = shared_from_this();
    engine_->runtime().Post([self, result = std::move(*out)]() mutable {
      self->Complete(std::move(result));
    });
  }

  // Finishes the request now with `status` (cancellation, timeout in the queue, shutdown). The
  // callback is posted to an I/O thread. An attempt on the wire runs on in the transport until
  // it ends or times out; its result is ignored.
  void Cancel(Status status) {
    {
      MutexLock lock(mu_);
      if (done_) return;
      EndSpanLocked(0, nullptr, status);
      (void)FinishLocked(status);
    }
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
    out.headers = headers_;
    out.body = body_;
    out.timeout = remaining;
    const ExchangeHooks& hooks = engine_->hooks();
    if (hooks.before_send) hooks.before_send(url_, out.headers);

    const TracingOptions& tracing = engine_->options().tracing;
    if (!suppressed_) {
      if (tracing.enabled) {
        AttemptInfo info{.method = method_,
                         .url = &url_,
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
    const uint64_t id = ++attempt_id_;
    engine_->transport().SendAsync(
        std::move(out), [self = shared_from_this(), id](Result<net::HttpResponse> result) {
          self->OnResult(id, std::move(result));
        });
    return std::nullopt;
  }

  void OnResult(uint64_t id, Result<net::HttpResponse> result) {
    std::optional<Result<Response>> out;
    {
      MutexLock lock(mu_);
      if (done_ || id != attempt_id_) return;
      out = HandleLocked(std::move(result));
    }
    if (out) Complete(std::move(*out));
  }

  std::optional<Result<Response>> HandleLocked(Result<net::HttpResponse> result)
      OTLP_REQUIRES(mu_) {
    const int status = result.ok() ? result->status : 0;
    EndSpanLocked(status, result.ok() ? &result->headers : nullptr, result.status());
    const bool can_retry = resend_count_ - redirects_ + 1 < retry_->max_attempts;
    if (!result.ok()) {
      const Status error = result.status();
      const ErrorKind kind = ErrorKindOf(error);
      const bool retry =
          can_retry && error.retryable() && kind != ErrorKind::kCancelled &&
          (retry_->RetriesMethod(method_) || (retry_->retry_connect_failures && NothingWasSent(kind)));
      if (retry) return ScheduleRetryLocked(std::nullopt, Result<Response>(error));
      return FinishLocked(error);
    }
    net::HttpResponse& r = *result;
    const ExchangeHooks& hooks = engine_->hooks();
    if (hooks.on_response) hooks.on_response(url_, r.headers);
    if (redirects_policy_.follow && IsRedirectStatus(status)) {
      if (std::optional<std::string_view> location = r.Header("Location")) {
        return RedirectLocked(status, *location);
      }
    }
    if (can_retry && retry_->RetriesStatus(status) && retry_->RetriesMethod(method_)) {
      std::optional<std::chrono::milliseconds> wait;
      if (retry_->honour_retry_after) {
        if (auto header = r.Header("Retry-After")) {
          wait = ParseRetryAfter(*header, std::chrono::system_clock::now());  // internal/retry_after.h
          if (wait && *wait > retry_->max_retry_after) return FinishLocked(MakeResponse(r));
        }
      }
      return ScheduleRetryLocked(wait, MakeResponse(r));
    }
    Response response = MakeResponse(r);
    if (hooks.on_final) {
      Status decoded = hooks.on_final(response);
      if (!decoded.ok()) return FinishLocked(std::move(decoded));
    }
    return FinishLocked(std::move(response));
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
    RewriteForRedirect(status, !SameOrigin(url_, *next), method_, body_, headers_);
    url_ = std::move(*next);
    ++redirects_;
    ++resend_count_;
    return AttemptLocked();
  }

  // Waits (on a runtime timer) and tries again, unless the wait would pass the deadline: then
  // `fallback`, the outcome of this attempt, is the answer.
  std::optional<Result<Response>> ScheduleRetryLocked(
      std::optional<std::chrono::milliseconds> server_wait, Result<Response> fallback)
      OTLP_REQUIRES(mu_) {
    const int retry = resend_count_ - redirects_ + 1;
    const std::chrono::milliseconds wait =
        server_wait ? *server_wait : retry_->Backoff(retry, RandomUnit());
    if (deadline_ != Clock::time_point::max() && Clock::now() + wait >= deadline_) {
      return FinishLocked(std::move(fallback));
    }
    ++resend_count_;
    // The timer holds the exchange: it lives while it waits; the engine cancels it on shutdown.
    timer_ = engine_->runtime().After(wait, [self = shared_from_this()] { self->OnTimer(); });
    return std::nullopt;
  }

  void OnTimer() {
    std::optional<Result<Response>> out;
    {
      MutexLock lock(mu_);
      if (done_) return;
      out = AttemptLocked();
    }
    if (out) Complete(std::move(*out));
  }

  Response MakeResponse(net::HttpResponse& r) OTLP_REQUIRES(mu_) {
    Response response;
    response.status = r.status;
    response.headers = std::move(r.headers);
    response.body = std::move(r.body);
    response.trailers = std::move(r.trailers);
    response.url = url_.ToString();
    response.protocol_version = "1.1";
    response.redirects = redirects_;
    response.attempts = resend_count_ + 1;
    response.trace_context = injected_;
    response.timings.total =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start_);
    return response;
  }

  void EndSpanLocked(int status, const net::Headers* headers, const Status& error)
      OTLP_REQUIRES(mu_) {
    if (attempt_start_ == Clock::time_point{}) return;  // no attempt on the wire
    EndAttemptSpan(span_, engine_->options().tracing, status, headers, error, "1.1");
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
          .protocol_version = status > 0 ? "1.1" : ""};
      histogram->Record(attributes, seconds);
    }
    attempt_start_ = Clock::time_point{};
  }

  std::optional<Result<Response>> FinishLocked(Result<Response> result) OTLP_REQUIRES(mu_) {
    done_ = true;
    timer_.Cancel();
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
  const trace::Context context_;
  const Clock::time_point start_;
  Clock::time_point deadline_;
  std::chrono::milliseconds timeout_{0};
  const RetryPolicy* retry_ = nullptr;
  RedirectPolicy redirects_policy_;
  bool suppressed_ = false;

  otlp::internal::Mutex mu_;
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
};

Result<std::shared_ptr<Engine>> Engine::Create(ClientOptions options) {
  OTLP_RETURN_IF_ERROR(options.retry.Validate());
  if (options.redirects.max_redirects < 0) {
    return InvalidArgumentError("RedirectPolicy: max_redirects must not be negative");
  }
  std::shared_ptr<net::Runtime> runtime = options.runtime;
  if (!runtime) {
    if (options.threads < 1) {
      return InvalidArgumentError("http client: threads must be at least 1 (got " +
                                  std::to_string(options.threads) + ")");
    }
    runtime = net::Runtime::Create({.threads = options.threads, .thread_name = "otlp-http"});
  }
  OTLP_ASSIGN_OR_RETURN(std::unique_ptr<net::HttpClient> transport,
                        net::HttpClient::Create(runtime, options.transport));
  return std::shared_ptr<Engine>(
      new Engine(std::move(options), std::move(runtime), std::move(transport)));
}

Engine::Engine(ClientOptions options, std::shared_ptr<net::Runtime> runtime,
               std::unique_ptr<net::HttpClient> transport)
    : options_(std::move(options)),
      runtime_(std::move(runtime)),
      transport_(std::move(transport)),
      tracer_(options_.tracing.tracer ? *options_.tracing.tracer
                                      : trace::GetTracer("otlp.http", OTLP_VERSION_STRING)),
      histogram_(!options_.metrics               ? nullptr
                 : options_.duration_histogram ? options_.duration_histogram.get()
                                               : &DefaultRequestDurationHistogram()) {}

Engine::~Engine() = default;

void Engine::Submit(Request request, Callback done) {
  auto exchange =
      std::make_shared<Exchange>(shared_from_this(), std::move(request), std::move(done));
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
