#include "otlp/net/http_client.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <deque>
#include <future>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "otlp/core/internal/ascii.h"
#include "otlp/core/internal/mutex.h"
#include "otlp/net/internal/base64.h"
#include "otlp/net/internal/runtime_impl.h"
#include "otlp/net/internal/stream.h"
#include "otlp/net/internal/tls.h"
#include "otlp/net/url.h"

namespace otlp::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using Strand = asio::strand<asio::io_context::executor_type>;
using otlp::internal::EqualsIgnoreCase;
using otlp::internal::IsToken;
using otlp::internal::MutexLock;

constexpr uint32_t kMaxResponseHeaderBytes = 64 * 1024;

bool IsValidHeaderValue(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n' || c == 0; });
}

// One TCP (or TLS) connection to one (scheme, host, port). Everything touching it runs on
// `strand`; the client's pool bookkeeping is under ClientState::mu_.
struct Connection {
  Connection(asio::io_context& ioc, std::string pool_key,
             std::shared_ptr<const internal::TlsContext> tls)
      : strand(asio::make_strand(ioc)),
        stream(strand, std::move(tls)),
        idle_timer(strand),
        key(std::move(pool_key)) {}

  void Close() {
    closed = true;
    idle_timer.cancel();
    stream.Close();
  }

  Strand strand;
  internal::Stream stream;  // its buffer keeps bytes read past a response for the next one
  asio::steady_timer idle_timer;
  const std::string key;
  // Guarded by ClientState::mu_ (another object's mutex, which an annotation cannot name).
  uint64_t idle_generation = 0;
  bool closed = false;
};

// Shared by the HttpClient and every request in flight, so callbacks never outlive it.
class ClientState : public std::enable_shared_from_this<ClientState> {
 public:
  ClientState(asio::io_context& ioc, HttpClient::Options options,
              std::shared_ptr<const internal::TlsContext> tls_ctx)
      : ioc_(ioc), options_(std::move(options)), tls_ctx_(std::move(tls_ctx)) {}

  asio::io_context& ioc() { return ioc_; }
  const HttpClient::Options& options() const { return options_; }
  const std::shared_ptr<const internal::TlsContext>& tls_ctx() const { return tls_ctx_; }

  // An idle pooled connection for `key` (most recently used first), or a new one; nullptr once
  // shut down.
  std::shared_ptr<Connection> Acquire(const std::string& key, bool tls, bool allow_reuse,
                                      bool& reused) {
    MutexLock lock(mu_);
    if (shut_down_) return nullptr;
    std::shared_ptr<Connection> conn;
    reused = false;
    if (allow_reuse) {
      auto it = idle_.find(key);
      if (it != idle_.end() && !it->second.empty()) {
        conn = std::move(it->second.back());
        it->second.pop_back();
        if (it->second.empty()) idle_.erase(it);
        idle_count_.fetch_sub(1, std::memory_order_relaxed);
        reused = true;
      }
    }
    if (!conn) conn = std::make_shared<Connection>(ioc_, key, tls ? tls_ctx_ : nullptr);
    active_.insert(conn);
    return conn;
  }

  // On the connection's strand, after a complete response.
  void Release(const std::shared_ptr<Connection>& conn, bool keep_alive) {
    uint64_t generation = 0;
    {
      MutexLock lock(mu_);
      active_.erase(conn);
      auto& list = idle_[conn->key];
      keep_alive = keep_alive && !shut_down_ && list.size() < options_.max_idle_per_host;
      if (keep_alive) {
        list.push_back(conn);
        idle_count_.fetch_add(1, std::memory_order_relaxed);
        generation = ++conn->idle_generation;
      } else if (list.empty()) {
        idle_.erase(conn->key);
      }
    }
    if (!keep_alive) {
      conn->Close();
      return;
    }
    if (options_.idle_timeout.count() <= 0) return;
    conn->idle_timer.expires_after(options_.idle_timeout);
    conn->idle_timer.async_wait([weak = weak_from_this(), conn, generation](const error_code& ec) {
      if (ec) return;
      if (auto self = weak.lock()) {
        self->ExpireIdle(conn, generation);
      } else {
        conn->Close();
      }
    });
  }

  // On the connection's strand: forgets a connection that failed or is not reusable.
  void Discard(const std::shared_ptr<Connection>& conn) {
    {
      MutexLock lock(mu_);
      active_.erase(conn);
    }
    conn->Close();
  }

  void Shutdown() {
    std::vector<std::shared_ptr<Connection>> all;
    {
      MutexLock lock(mu_);
      shut_down_ = true;
      for (auto& [key, list] : idle_) all.insert(all.end(), list.begin(), list.end());
      idle_.clear();
      idle_count_.store(0, std::memory_order_relaxed);
      all.insert(all.end(), active_.begin(), active_.end());
    }
    for (auto& conn : all) asio::post(conn->strand, [conn] { conn->Close(); });
  }

  bool shut_down() {
    MutexLock lock(mu_);
    return shut_down_;
  }

  void CountOpened() { opened_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t opened() const { return opened_.load(std::memory_order_relaxed); }
  size_t idle_count() const { return idle_count_.load(std::memory_order_relaxed); }

 private:
  void ExpireIdle(const std::shared_ptr<Connection>& conn, uint64_t generation) {
    {
      MutexLock lock(mu_);
      if (conn->idle_generation != generation) return;
      auto it = idle_.find(conn->key);
      if (it == idle_.end()) return;
      auto pos = std::find(it->second.begin(), it->second.end(), conn);
      if (pos == it->second.end()) return;  // taken for a request meanwhile
      it->second.erase(pos);
      if (it->second.empty()) idle_.erase(it);
      idle_count_.fetch_sub(1, std::memory_order_relaxed);
    }
    conn->Close();
  }

  asio::io_context& ioc_;
  const HttpClient::Options options_;
  const std::shared_ptr<const internal::TlsContext> tls_ctx_;
  otlp::internal::Mutex mu_;
  std::map<std::string, std::deque<std::shared_ptr<Connection>>> idle_ OTLP_GUARDED_BY(mu_);
  std::unordered_set<std::shared_ptr<Connection>> active_ OTLP_GUARDED_BY(mu_);
  bool shut_down_ OTLP_GUARDED_BY(mu_) = false;
  std::atomic<uint64_t> opened_{0};
  std::atomic<size_t> idle_count_{0};
};

using Callback = std::function<void(Result<HttpResponse>)>;

// Interim (1xx) responses skipped before the final one. A real server sends a handful at most:
// one 100 Continue, a few 103 Early Hints, or 102 Processing now and then during a long
// request. 32 is far above that, and stops a server that floods 1xx responses after a few
// microseconds of parsing instead of spinning until the deadline.
static_assert(kMaxInterimResponses == 32);

// One request: picks a connection, then connect (resolve, TCP, TLS) → write → read, each step
// on the connection's strand, all bounded by one absolute deadline.
class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  enum class Phase { kResolve, kConnect, kHandshake, kWrite, kRead };

  Exchange(std::shared_ptr<ClientState> client, Url url, http::request<http::string_body> request,
           std::chrono::milliseconds timeout, bool accept_truncated_body, Callback done)
      : client_(std::move(client)),
        url_(std::move(url)),
        key_(url_.scheme + "://" + url_.Authority()),
        request_(std::move(request)),
        timeout_(timeout),
        accept_truncated_body_(accept_truncated_body),
        deadline_(timeout.count() > 0 ? Clock::now() + timeout : Clock::time_point::max()),
        done_(std::move(done)),
        chunk_header_hook_(
            [this](uint64_t size, std::string_view, error_code&) { OnChunkHeader(size); }) {}

  void Start(bool allow_reuse) {
    bool reused = false;
    std::shared_ptr<Connection> conn = client_->Acquire(key_, url_.is_tls(), allow_reuse, reused);
    if (!conn) {
      asio::post(client_->ioc(), [self = shared_from_this()] {
        self->Finish(
            Status(StatusCode::kCancelled, "request cancelled: the HTTP client is shut down"));
      });
      return;
    }
    asio::dispatch(conn->strand,
                   [self = shared_from_this(), conn, reused] { self->Begin(conn, reused); });
  }

 private:
  void Begin(const std::shared_ptr<Connection>& conn, bool reused) {
    conn_ = conn;
    reused_ = reused;
    if (reused) {
      conn->idle_timer.cancel();
      if (conn->closed || !conn->stream.IsReusable()) {
        client_->Discard(conn);
        conn_.reset();
        Start(/*allow_reuse=*/true);
        return;
      }
      Write();
    } else {
      Connect();
    }
  }

  void Connect() {
    phase_ = Phase::kResolve;
    if (conn_->closed) return Fail(asio::error::operation_aborted);
    Clock::time_point connect_deadline = deadline_;
    const auto connect_timeout = client_->options().connect_timeout;
    if (connect_timeout.count() > 0) {
      connect_deadline = std::min(connect_deadline, Clock::now() + connect_timeout);
    }
    conn_->stream.AsyncConnect(
        url_.host, url_.port, connect_deadline,
        [self = shared_from_this()](const error_code& ec) { self->OnConnected(ec); });
  }

  void OnConnected(const error_code& ec) {
    using StreamPhase = internal::Stream::Phase;
    const StreamPhase reached = conn_->stream.phase();
    if (reached == StreamPhase::kHandshake || reached == StreamPhase::kOpen) {
      client_->CountOpened();
    }
    if (!ec) return Write();
    phase_ = reached == StreamPhase::kResolve   ? Phase::kResolve
             : reached == StreamPhase::kConnect ? Phase::kConnect
                                                : Phase::kHandshake;
    if (phase_ == Phase::kHandshake && ec != beast::error::timeout &&
        ec != asio::error::operation_aborted && !client_->shut_down()) {
      // A failed handshake is not retried: the same server would fail it again.
      Status status = conn_->stream.ErrorStatus(ec, Peer());
      client_->Discard(conn_);
      conn_.reset();
      return Finish(std::move(status));
    }
    Fail(ec);
  }

  void Write() {
    phase_ = Phase::kWrite;
    conn_->stream.ExpiresAt(deadline_);
    http::async_write(conn_->stream, request_,
                      [self = shared_from_this()](const error_code& ec, size_t) {
                        if (ec) return self->Fail(ec);
                        self->Read();
                      });
  }

  void Read() {
    phase_ = Phase::kRead;
    parser_.emplace();
    headers_taken_ = false;
    parser_->header_limit(kMaxResponseHeaderBytes);
    const size_t limit = client_->options().max_response_body;
    parser_->body_limit(limit == 0 ? std::numeric_limits<uint64_t>::max() : limit);
    if (request_.method() == http::verb::head) parser_->skip(true);
    parser_->on_chunk_header(chunk_header_hook_);
    http::async_read(
        conn_->stream, conn_->stream.buffer(), *parser_,
        [self = shared_from_this()](const error_code& ec, size_t) { self->OnRead(ec); });
  }

  // Beast's parser adds trailer fields to the same list as the headers. Its chunk-header hook
  // runs for the last chunk right before the trailer is parsed: the headers are moved out
  // there, so what the list holds at the end is the trailer.
  void OnChunkHeader(uint64_t size) {
    if (size == 0) TakeHeaders();
  }

  void TakeHeaders() {
    if (headers_taken_) return;
    headers_taken_ = true;
    auto& message = parser_->get();
    response_.headers.reserve(std::distance(message.begin(), message.end()));
    for (const auto& field : message) {
      response_.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    static_cast<http::fields&>(message).clear();
  }

  void OnRead(const error_code& ec) {
    if (ec) {
      if (accept_truncated_body_ && parser_->is_header_done() && IsConnectionEnd(ec)) {
        // The answer arrived; only the body was cut short.
        response_.status = static_cast<int>(parser_->get().result_int());
        TakeHeaders();
        response_.body = std::move(parser_->get().body());
        response_.body_truncated = true;
        client_->Discard(conn_);
        conn_.reset();
        return Finish(std::move(response_));
      }
      return Fail(ec);
    }
    auto& message = parser_->get();
    const int status = static_cast<int>(message.result_int());
    if (status >= 100 && status < 200 && status != 101) {
      // An interim response; the final one follows. Counted, and checked against the deadline
      // here: when they arrive back to back every read completes at once and the stream's
      // timer never gets to fire.
      if (++interim_responses_ > kMaxInterimResponses) {
        const std::string where = " (" + url_.ToString() + ")";
        client_->Discard(conn_);
        conn_.reset();
        return Finish(InternalError("protocol error: the server sent more than " +
                                    std::to_string(kMaxInterimResponses) +
                                    " interim (1xx) responses and no final response" + where));
      }
      if (Clock::now() >= deadline_) return Fail(beast::error::timeout);
      return Read();
    }
    response_.status = status;
    if (headers_taken_) {
      response_.trailers.reserve(std::distance(message.begin(), message.end()));
      for (const auto& field : message) {
        response_.trailers.emplace_back(std::string(field.name_string()),
                                        std::string(field.value()));
      }
    } else {
      TakeHeaders();
    }
    response_.body = std::move(message.body());
    const bool keep_alive = parser_->keep_alive() && request_.keep_alive();
    conn_->stream.ExpiresNever();
    client_->Release(conn_, keep_alive);
    conn_.reset();
    Finish(std::move(response_));
  }

  static bool IsConnectionEnd(const error_code& ec) {
    return ec == http::error::partial_message || ec == http::error::end_of_stream ||
           ec == asio::error::eof || ec == asio::error::connection_reset ||
           ec == ssl::error::stream_truncated;
  }

  void Fail(const error_code& ec) {
    const bool before_response =
        phase_ == Phase::kWrite ||
        (phase_ == Phase::kRead && interim_responses_ == 0 && parser_ && !parser_->got_some());
    const bool cancelled = ec == asio::error::operation_aborted || client_->shut_down();
    // A reused connection that fails before any response byte was most likely closed by the
    // server while idle: the request is sent once more on a fresh connection.
    const bool retry = reused_ && !retried_ && before_response && !cancelled &&
                       ec != beast::error::timeout && Clock::now() < deadline_;
    Status status = retry ? Status::Ok() : ErrorStatus(ec, cancelled);
    if (conn_) {
      client_->Discard(conn_);
      conn_.reset();
    }
    if (retry) {
      retried_ = true;
      reused_ = false;
      parser_.reset();
      Start(/*allow_reuse=*/false);
      return;
    }
    Finish(std::move(status));
  }

  void Finish(Result<HttpResponse> result) {
    if (!done_) return;
    Callback done = std::move(done_);
    done_ = nullptr;
    done(std::move(result));
  }

  std::string Peer() const { return url_.Authority(); }

  const char* PhaseText() const {
    switch (phase_) {
      case Phase::kResolve: return "resolving the host";
      case Phase::kConnect: return "connecting";
      case Phase::kHandshake: return "during the TLS handshake";
      case Phase::kWrite: return "sending the request";
      case Phase::kRead: return "waiting for the response";
    }
    return "";
  }

  // HTTP's own errors and the client's wording for closed connections and timeouts; the
  // stream describes the rest (refused, DNS, TLS). Called while conn_ is still set.
  Status ErrorStatus(const error_code& ec, bool cancelled) const {
    const std::string where = std::string(" (") + PhaseText() + ", " + url_.ToString() + ")";
    if (ec == beast::error::timeout) {
      if ((phase_ == Phase::kResolve || phase_ == Phase::kConnect || phase_ == Phase::kHandshake) &&
          Clock::now() < deadline_) {
        return DeadlineExceededError("connect to " + Peer() + " timed out after " +
                                     std::to_string(client_->options().connect_timeout.count()) +
                                     " ms" + where);
      }
      return DeadlineExceededError("request timed out after " + std::to_string(timeout_.count()) +
                                   " ms" + where);
    }
    if (cancelled) {
      return {StatusCode::kCancelled, "request cancelled: the HTTP client is shut down" + where};
    }
    if (ec == http::error::body_limit) {
      return {StatusCode::kResourceExhausted,
              "response body exceeds the client's limit of " +
                  std::to_string(client_->options().max_response_body) + " bytes" + where};
    }
    if (ec == http::error::header_limit) {
      return {
          StatusCode::kResourceExhausted,
          "response headers exceed " + std::to_string(kMaxResponseHeaderBytes) + " bytes" + where};
    }
    if (ec == http::error::end_of_stream || ec == asio::error::eof) {
      return UnavailableError("connection closed by the server before a response" + where);
    }
    if (ec == http::error::partial_message) {
      return UnavailableError("connection closed by the server in the middle of the response" +
                              where);
    }
    if (ec.category() == http::make_error_code(http::error::bad_version).category()) {
      return InternalError("malformed HTTP response: " + ec.message() + where);
    }
    if (conn_) {
      Status status = conn_->stream.ErrorStatus(ec, Peer());
      return Status(status.code(), status.message() + where, status.retryable());
    }
    return UnavailableError(ec.message() + where);
  }

  const std::shared_ptr<ClientState> client_;
  const Url url_;
  const std::string key_;
  http::request<http::string_body> request_;  // kept whole so a retry can resend it
  const std::chrono::milliseconds timeout_;
  const bool accept_truncated_body_;
  const Clock::time_point deadline_;
  Callback done_;
  std::shared_ptr<Connection> conn_;
  std::optional<http::response_parser<http::string_body>> parser_;
  // The parser keeps a reference to it.
  std::function<void(uint64_t, std::string_view, error_code&)> chunk_header_hook_;
  bool headers_taken_ = false;
  HttpResponse response_;
  Phase phase_ = Phase::kResolve;
  int interim_responses_ = 0;
  bool reused_ = false;
  bool retried_ = false;
};

}  // namespace

struct HttpClient::Impl {
  std::shared_ptr<Runtime> runtime;
  std::shared_ptr<ClientState> state;
};

Result<std::unique_ptr<HttpClient>> HttpClient::Create(std::shared_ptr<Runtime> runtime,
                                                       Options options) {
  if (!runtime) return InvalidArgumentError("HttpClient::Create: runtime is null");
  // This client speaks HTTP/1.1 only, so that is the one protocol it may offer.
  for (const std::string& protocol : options.tls.alpn_protocols) {
    if (protocol != "http/1.1") {
      return InvalidArgumentError("HttpClient speaks HTTP/1.1 only; TLS ALPN protocol '" +
                                  protocol + "' cannot be offered");
    }
  }
  if (options.tls.alpn_protocols.empty()) options.tls.alpn_protocols = {"http/1.1"};
  OTLP_ASSIGN_OR_RETURN(std::shared_ptr<const internal::TlsContext> tls_ctx,
                        internal::TlsContext::Client(options.tls));
  auto impl = std::make_unique<Impl>();
  impl->state = std::make_shared<ClientState>(internal::IoContext(*runtime), std::move(options),
                                              std::move(tls_ctx));
  impl->runtime = std::move(runtime);
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpClient::~HttpClient() {
  Shutdown();
}

void HttpClient::Shutdown() noexcept {
  impl_->state->Shutdown();
}

Result<HttpResponse> HttpClient::Send(HttpRequest request) {
  if (impl_->runtime->InIoThread()) {
    return FailedPreconditionError(
        "HttpClient::Send() called on the runtime's I/O thread, where it would deadlock; use "
        "SendAsync()");
  }
  // Shared with the callback: the promise must outlive set_value() even after get() returns.
  auto promise = std::make_shared<std::promise<Result<HttpResponse>>>();
  std::future<Result<HttpResponse>> future = promise->get_future();
  SendAsync(std::move(request),
            [promise](Result<HttpResponse> result) { promise->set_value(std::move(result)); });
  return future.get();
}

void HttpClient::SendAsync(HttpRequest request, std::function<void(Result<HttpResponse>)> done) {
  if (!done) done = [](Result<HttpResponse>) {};
  auto& state = impl_->state;
  auto fail = [&](Status status) {
    asio::post(state->ioc(),
               [done = std::move(done), status = std::move(status)] { done(status); });
  };
  Result<Url> url = Url::Parse(request.url);
  if (!url.ok()) return fail(url.status());
  if (url->scheme != "http" && url->scheme != "https") {
    return fail(InvalidArgumentError("HttpClient: unsupported scheme '" + url->scheme + "' in '" +
                                     url->ToString() + "' (expected http or https)"));
  }
  if (!IsToken(request.method)) {
    return fail(InvalidArgumentError("invalid HTTP method '" + request.method + "'"));
  }
  http::request<http::string_body> message;
  message.version(11);
  message.method_string(request.method);
  message.target(url->target);
  bool has_host = false;
  bool has_user_agent = false;
  bool has_authorization = false;
  for (const auto& [name, value] : request.headers) {
    if (!IsToken(name)) return fail(InvalidArgumentError("invalid header name '" + name + "'"));
    if (!IsValidHeaderValue(value)) {
      return fail(InvalidArgumentError("header '" + name + "' has CR, LF or NUL in its value"));
    }
    has_host = has_host || EqualsIgnoreCase(name, "host");
    has_user_agent = has_user_agent || EqualsIgnoreCase(name, "user-agent");
    has_authorization = has_authorization || EqualsIgnoreCase(name, "authorization");
  }
  if (!has_host) message.set(http::field::host, url->Authority());
  if (url->has_credentials() && !has_authorization) {
    // As curl does: URL credentials become Basic authentication.
    message.set(http::field::authorization,
                "Basic " + internal::Base64Encode(url->user + ":" + url->password.value_or("")));
  }
  for (const auto& [name, value] : request.headers) {
    if (EqualsIgnoreCase(name, "content-length") || EqualsIgnoreCase(name, "transfer-encoding")) {
      continue;
    }
    message.insert(name, value);
  }
  const Options& options = state->options();
  if (!has_user_agent && !options.user_agent.empty()) {
    message.set(http::field::user_agent, options.user_agent);
  }
  message.body() = std::move(request.body);
  message.prepare_payload();
  const auto timeout = request.timeout.count() > 0 ? request.timeout : options.default_timeout;
  auto exchange = std::make_shared<Exchange>(state, std::move(*url), std::move(message), timeout,
                                             request.accept_truncated_body, std::move(done));
  exchange->Start(/*allow_reuse=*/true);
}

uint64_t HttpClient::connections_opened() const noexcept {
  return impl_->state->opened();
}

size_t HttpClient::idle_connections() const noexcept {
  return impl_->state->idle_count();
}

}  // namespace otlp::net
