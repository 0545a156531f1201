#include "otlp/net/http_client.h"

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <deque>
#include <future>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "otlp/core/internal/ascii.h"
#include "otlp/net/internal/runtime_impl.h"
#include "otlp/net/internal/tls.h"

namespace otlp::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using Strand = asio::strand<asio::io_context::executor_type>;

constexpr uint32_t kMaxResponseHeaderBytes = 64 * 1024;
// Beast reads at most the buffer's free capacity (512 bytes when empty), so large bodies need
// a roomy buffer to avoid thousands of tiny reads.
constexpr size_t kReadBufferBytes = 128 * 1024;

bool IsValidHeaderValue(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n' || c == 0; });
}

// One TCP (or TLS) connection to one (scheme, host, port). Everything touching it runs on
// `strand`; the client's pool bookkeeping is under ClientState::mu_.
struct Connection {
  Connection(asio::io_context& ioc, std::string pool_key, std::shared_ptr<ssl::context> ctx)
      : strand(asio::make_strand(ioc)),
        resolver(strand),
        resolve_timer(strand),
        idle_timer(strand),
        tls_ctx(std::move(ctx)),
        key(std::move(pool_key)) {
    if (tls_ctx) {
      tls.emplace(strand, *tls_ctx);
    } else {
      plain.emplace(strand);
    }
    buffer.reserve(kReadBufferBytes);
  }

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }

  template <typename F>
  void WithStream(F&& f) {
    if (tls) {
      f(*tls);
    } else {
      f(*plain);
    }
  }

  void Close() {
    closed = true;
    resolver.cancel();
    resolve_timer.cancel();
    idle_timer.cancel();
    lowest().close();
  }

  // A pooled connection the server closed (or wrote to) while idle must not be reused.
  bool LooksReusable() {
    if (closed || buffer.size() != 0) return false;
    if (tls && SSL_pending(tls->native_handle()) > 0) return false;
    auto& socket = lowest().socket();
    if (!socket.is_open()) return false;
    char byte = 0;
    const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

  Strand strand;
  tcp::resolver resolver;
  asio::steady_timer resolve_timer;
  asio::steady_timer idle_timer;
  std::shared_ptr<ssl::context> tls_ctx;  // outlives `tls`
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;  // bytes read past a response stay here for the next one
  const std::string key;
  uint64_t idle_generation = 0;  // guarded by ClientState::mu_
  bool closed = false;
};

// Shared by the HttpClient and every request in flight, so callbacks never outlive it.
class ClientState : public std::enable_shared_from_this<ClientState> {
 public:
  ClientState(asio::io_context& ioc, HttpClient::Options options,
              std::shared_ptr<ssl::context> tls_ctx)
      : ioc_(ioc), options_(std::move(options)), tls_ctx_(std::move(tls_ctx)) {}

  asio::io_context& ioc() { return ioc_; }
  const HttpClient::Options& options() const { return options_; }
  const std::shared_ptr<ssl::context>& tls_ctx() const { return tls_ctx_; }

  // An idle pooled connection for `key` (most recently used first), or a new one; nullptr once
  // shut down.
  std::shared_ptr<Connection> Acquire(const std::string& key, bool tls, bool allow_reuse,
                                      bool& reused) {
    std::lock_guard<std::mutex> lock(mu_);
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
      std::lock_guard<std::mutex> lock(mu_);
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
      std::lock_guard<std::mutex> lock(mu_);
      active_.erase(conn);
    }
    conn->Close();
  }

  void Shutdown() {
    std::vector<std::shared_ptr<Connection>> all;
    {
      std::lock_guard<std::mutex> lock(mu_);
      shut_down_ = true;
      for (auto& [key, list] : idle_) all.insert(all.end(), list.begin(), list.end());
      idle_.clear();
      idle_count_.store(0, std::memory_order_relaxed);
      all.insert(all.end(), active_.begin(), active_.end());
    }
    for (auto& conn : all) asio::post(conn->strand, [conn] { conn->Close(); });
  }

  bool shut_down() {
    std::lock_guard<std::mutex> lock(mu_);
    return shut_down_;
  }

  void CountOpened() { opened_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t opened() const { return opened_.load(std::memory_order_relaxed); }
  size_t idle_count() const { return idle_count_.load(std::memory_order_relaxed); }

 private:
  void ExpireIdle(const std::shared_ptr<Connection>& conn, uint64_t generation) {
    {
      std::lock_guard<std::mutex> lock(mu_);
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
  const std::shared_ptr<ssl::context> tls_ctx_;
  std::mutex mu_;
  std::map<std::string, std::deque<std::shared_ptr<Connection>>> idle_;
  std::unordered_set<std::shared_ptr<Connection>> active_;
  bool shut_down_ = false;
  std::atomic<uint64_t> opened_{0};
  std::atomic<size_t> idle_count_{0};
};

using Callback = std::function<void(Result<HttpResponse>)>;

// One request: picks a connection, then resolve → connect → handshake → write → read, each step
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
        done_(std::move(done)) {}

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
      if (!conn->LooksReusable()) {
        client_->Discard(conn);
        conn_.reset();
        Start(/*allow_reuse=*/true);
        return;
      }
      Write();
    } else {
      Resolve();
    }
  }

  void Resolve() {
    phase_ = Phase::kResolve;
    if (conn_->closed) return Fail(asio::error::operation_aborted);
    error_code ec;
    const asio::ip::address address = asio::ip::make_address(url_.host, ec);
    if (!ec) {
      endpoints_.assign(1, tcp::endpoint(address, url_.port));
      Connect();
      return;
    }
    auto conn = conn_;
    if (deadline_ != Clock::time_point::max()) {
      conn->resolve_timer.expires_at(deadline_);
      conn->resolve_timer.async_wait([self = shared_from_this(), conn](const error_code& e) {
        if (e) return;
        self->resolve_timed_out_ = true;
        conn->resolver.cancel();
      });
    }
    conn->resolver.async_resolve(
        url_.host, std::to_string(url_.port),
        [self = shared_from_this(), conn](const error_code& e,
                                          const tcp::resolver::results_type& results) {
          conn->resolve_timer.cancel();
          if (self->resolve_timed_out_) return self->Fail(beast::error::timeout);
          if (e) return self->Fail(e);
          self->endpoints_.clear();
          for (const auto& entry : results) self->endpoints_.push_back(entry.endpoint());
          self->Connect();
        });
  }

  void Connect() {
    phase_ = Phase::kConnect;
    if (conn_->closed) return Fail(asio::error::operation_aborted);
    Clock::time_point connect_deadline = deadline_;
    const auto connect_timeout = client_->options().connect_timeout;
    if (connect_timeout.count() > 0) {
      connect_deadline = std::min(connect_deadline, Clock::now() + connect_timeout);
    }
    SetExpiry(connect_deadline);
    conn_->lowest().async_connect(
        endpoints_, [self = shared_from_this()](const error_code& ec, const tcp::endpoint&) {
          self->OnConnected(ec);
        });
  }

  void OnConnected(const error_code& ec) {
    if (ec) return Fail(ec);
    client_->CountOpened();
    error_code ignored;
    conn_->lowest().socket().set_option(tcp::no_delay(true), ignored);
    if (conn_->tls) {
      Handshake();
    } else {
      Write();
    }
  }

  void Handshake() {
    phase_ = Phase::kHandshake;
    Status prepared =
        internal::PrepareClientSsl(conn_->tls->native_handle(), client_->options().tls, url_.host);
    if (!prepared.ok()) {
      client_->Discard(conn_);
      return Finish(std::move(prepared));
    }
    SetExpiry(deadline_);
    conn_->tls->async_handshake(
        ssl::stream_base::client,
        [self = shared_from_this()](const error_code& ec) { self->OnHandshake(ec); });
  }

  void OnHandshake(const error_code& ec) {
    if (!ec) return Write();
    if (ec == beast::error::timeout || ec == asio::error::operation_aborted) return Fail(ec);
    Status status = internal::ClientHandshakeError(conn_->tls->native_handle(), ec, Peer());
    client_->Discard(conn_);
    Finish(std::move(status));
  }

  void Write() {
    phase_ = Phase::kWrite;
    SetExpiry(deadline_);
    conn_->WithStream([&](auto& stream) {
      http::async_write(stream, request_,
                        [self = shared_from_this()](const error_code& ec, size_t) {
                          if (ec) return self->Fail(ec);
                          self->Read();
                        });
    });
  }

  void Read() {
    phase_ = Phase::kRead;
    parser_.emplace();
    parser_->header_limit(kMaxResponseHeaderBytes);
    const size_t limit = client_->options().max_response_body;
    parser_->body_limit(limit == 0 ? std::numeric_limits<uint64_t>::max() : limit);
    if (request_.method() == http::verb::head) parser_->skip(true);
    conn_->WithStream([&](auto& stream) {
      http::async_read(
          stream, conn_->buffer, *parser_,
          [self = shared_from_this()](const error_code& ec, size_t) { self->OnRead(ec); });
    });
  }

  void OnRead(const error_code& ec) {
    if (ec) {
      if (accept_truncated_body_ && parser_->is_header_done() && IsConnectionEnd(ec)) {
        // The answer arrived; only the body was cut short.
        HttpResponse response = TakeResponse();
        response.body_truncated = true;
        client_->Discard(conn_);
        conn_.reset();
        return Finish(std::move(response));
      }
      return Fail(ec);
    }
    const int status = static_cast<int>(parser_->get().result_int());
    if (status >= 100 && status < 200 && status != 101) return Read();  // interim response
    HttpResponse response = TakeResponse();
    const bool keep_alive = parser_->keep_alive() && request_.keep_alive();
    conn_->lowest().expires_never();
    client_->Release(conn_, keep_alive);
    conn_.reset();
    Finish(std::move(response));
  }

  static bool IsConnectionEnd(const error_code& ec) {
    return ec == http::error::partial_message || ec == http::error::end_of_stream ||
           ec == asio::error::eof || ec == asio::error::connection_reset ||
           ec == ssl::error::stream_truncated;
  }

  HttpResponse TakeResponse() {
    auto& message = parser_->get();
    const int status = static_cast<int>(message.result_int());
    HttpResponse response;
    response.status = status;
    response.headers.reserve(std::distance(message.begin(), message.end()));
    for (const auto& field : message) {
      response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    response.body = std::move(message.body());
    return response;
  }

  void Fail(const error_code& ec) {
    const bool before_response =
        phase_ == Phase::kWrite || (phase_ == Phase::kRead && parser_ && !parser_->got_some());
    const bool cancelled = ec == asio::error::operation_aborted || client_->shut_down();
    if (conn_) {
      client_->Discard(conn_);
      conn_.reset();
    }
    if (reused_ && !retried_ && before_response && !cancelled && ec != beast::error::timeout &&
        Clock::now() < deadline_) {
      // The server most likely closed the idle connection as we reused it.
      retried_ = true;
      reused_ = false;
      parser_.reset();
      Start(/*allow_reuse=*/false);
      return;
    }
    Finish(ErrorStatus(ec, cancelled));
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

  Status ErrorStatus(const error_code& ec, bool cancelled) const {
    const std::string where = std::string(" (") + PhaseText() + ", " + url_.ToString() + ")";
    if (ec == beast::error::timeout) {
      if (phase_ == Phase::kConnect && Clock::now() < deadline_) {
        return DeadlineExceededError("connect to " + Peer() + " timed out after " +
                                     std::to_string(client_->options().connect_timeout.count()) +
                                     " ms");
      }
      return DeadlineExceededError("request timed out after " + std::to_string(timeout_.count()) +
                                   " ms" + where);
    }
    if (cancelled) {
      return {StatusCode::kCancelled, "request cancelled: the HTTP client is shut down" + where};
    }
    if (ec == asio::error::connection_refused) {
      return UnavailableError("connection refused by " + Peer() + where);
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
    if (ec == ssl::error::stream_truncated) {
      return UnavailableError("TLS connection closed by the server without close_notify" + where);
    }
    if (ec.category() == http::make_error_code(http::error::bad_version).category()) {
      return InternalError("malformed HTTP response: " + ec.message() + where);
    }
    if (internal::IsSslError(ec)) {
      return {StatusCode::kUnavailable, "TLS error: " + ec.message() + where, false};
    }
    if (ec.category() == asio::error::get_netdb_category() ||
        ec.category() == asio::error::get_addrinfo_category()) {
      return UnavailableError("cannot resolve host '" + url_.host + "': " + ec.message() + where);
    }
    return UnavailableError(ec.message() + where);
  }

  void SetExpiry(Clock::time_point when) {
    if (when == Clock::time_point::max()) {
      conn_->lowest().expires_never();
    } else {
      conn_->lowest().expires_at(when);
    }
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
  std::vector<tcp::endpoint> endpoints_;
  std::optional<http::response_parser<http::string_body>> parser_;
  Phase phase_ = Phase::kResolve;
  bool reused_ = false;
  bool retried_ = false;
  bool resolve_timed_out_ = false;
};

}  // namespace

struct HttpClient::Impl {
  std::shared_ptr<Runtime> runtime;
  std::shared_ptr<ClientState> state;
};

Result<std::unique_ptr<HttpClient>> HttpClient::Create(std::shared_ptr<Runtime> runtime,
                                                       Options options) {
  if (!runtime) return InvalidArgumentError("HttpClient::Create: runtime is null");
  OTLP_ASSIGN_OR_RETURN(std::shared_ptr<ssl::context> tls_ctx,
                        internal::MakeClientTlsContext(options.tls));
  auto impl = std::make_unique<Impl>();
  impl->state = std::make_shared<ClientState>(internal::IoContext(*runtime), std::move(options),
                                              std::move(tls_ctx));
  impl->runtime = std::move(runtime);
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpClient::~HttpClient() { Shutdown(); }

void HttpClient::Shutdown() noexcept { impl_->state->Shutdown(); }

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
  if (!otlp::internal::IsToken(request.method)) {
    return fail(InvalidArgumentError("invalid HTTP method '" + request.method + "'"));
  }
  http::request<http::string_body> message;
  message.version(11);
  message.method_string(request.method);
  message.target(url->target);
  bool has_host = false;
  bool has_user_agent = false;
  for (const auto& [name, value] : request.headers) {
    if (!otlp::internal::IsToken(name)) return fail(InvalidArgumentError("invalid header name '" + name + "'"));
    if (!IsValidHeaderValue(value)) {
      return fail(InvalidArgumentError("header '" + name + "' has CR, LF or NUL in its value"));
    }
    has_host = has_host || otlp::internal::EqualsIgnoreCase(name, "host");
    has_user_agent = has_user_agent || otlp::internal::EqualsIgnoreCase(name, "user-agent");
  }
  if (!has_host) message.set(http::field::host, url->Authority());
  for (const auto& [name, value] : request.headers) {
    if (otlp::internal::EqualsIgnoreCase(name, "content-length") ||
        otlp::internal::EqualsIgnoreCase(name, "transfer-encoding")) {
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
